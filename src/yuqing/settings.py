"""Typed settings from the environment (prefix `YUQING_`); every field is documented in README."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from yuqing.errors import ConfigError


class Settings(BaseSettings):
    """Where Yuqing keeps its data and how the pipeline behaves."""

    model_config = SettingsConfigDict(env_prefix="YUQING_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Directory for the SQLite database, evidence files and trained models.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite at <data_dir>/yuqing.db. "
        "Use postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    standard_dir: Path | None = Field(
        default=None,
        description="Directory of an organization's edited standard YAML files; "
        "files present there replace the bundled ones.",
    )
    taxonomy: str = Field(
        default="banking",
        description="Category preset of the standard: banking, or university_government.",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone for relative dates ('昨天 12:30') and for display.",
    )
    batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="Items per pipeline batch and transaction."
    )
    max_content_chars: int = Field(
        default=200_000,
        ge=1000,
        description="Longest content accepted per item; longer input is rejected with an error.",
    )
    near_duplicate_threshold: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="Estimated Jaccard similarity of character 3-gram shingles above which "
        "two items are the same story.",
    )
    story_window_days: int = Field(
        default=30,
        ge=1,
        description="How far back stored items are considered when joining a new item to a story.",
    )
    event_window_hours: int = Field(
        default=72,
        ge=1,
        description="An item joins an event on shared subject and key terms only while the "
        "event was active within this many hours of the item.",
    )
    event_min_shared_terms: int = Field(
        default=2,
        ge=1,
        description="Key terms an item must share with an event to join it "
        "(one shared crisis or harm term is enough).",
    )
    event_key_terms: int = Field(
        default=16,
        ge=2,
        le=50,
        description="How many key terms are kept per item and per event.",
    )
    training_data_dir: Path | None = Field(
        default=None,
        description="The labelled corpora `yuqing train` retrains from (the layout of the "
        "project's shared data: sentiment/, rumor/, offensive/, lexicons/).",
    )

    # Collection (SPEC 3.1): how sources are fetched, politely.
    collect_user_agent: str = Field(
        default="Yuqing/0.1 (public-opinion monitoring; +https://github.com/yuqing)",
        description="User-Agent sent on every fetch; it names Yuqing so site owners can see "
        "who visits.",
    )
    collect_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Timeout of one HTTP request, in seconds."
    )
    collect_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Retries of a request that failed on the network, with a 5xx or a 429 "
        "status; waits double each time.",
    )
    collect_backoff_seconds: float = Field(
        default=1.0, ge=0, le=300, description="Wait before the first retry, in seconds."
    )
    collect_max_bytes: int = Field(
        default=10_000_000,
        ge=10_000,
        description="Largest response body read; a bigger one is cut off with an error.",
    )
    collect_max_redirects: int = Field(
        default=5, ge=0, le=30, description="Redirects followed per request."
    )
    collect_host_concurrency: int = Field(
        default=2, ge=1, le=64, description="Requests in flight to one host at a time."
    )
    collect_host_interval_seconds: float = Field(
        default=1.0,
        ge=0,
        le=3600,
        description="Least time between the starts of two requests to one host.",
    )
    collect_allow_private_addresses: bool = Field(
        default=False,
        description="Allow fetching loopback and private-network addresses (for sources on "
        "the office's own network, and tests); refused by default.",
    )
    collect_interval_minutes: int = Field(
        default=120,
        ge=1,
        description="Default time between two runs of a source without its own schedule "
        "(120 minutes is at least 3 runs per working day).",
    )
    collect_jitter_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Up to this many seconds added at random to each scheduled run, so "
        "sources do not all start at once.",
    )
    collect_failure_limit: int = Field(
        default=5,
        ge=1,
        description="Consecutive failed runs after which a source is flagged as failing and "
        "tried only every 24 hours until it succeeds or is edited.",
    )
    revisit_days: int = Field(
        default=3,
        ge=0,
        le=90,
        description="Items published within this many days are fetched again to refresh "
        "views, reposts, comments and likes (0 turns revisiting off).",
    )

    # Accounts and sign-in (SPEC 3.18).
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="How long a browser stays signed in, in hours."
    )
    cookie_secure: bool = Field(
        default=False,
        description="Send the session cookie only over HTTPS (turn on behind a TLS proxy).",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Wrong passwords in a row after which an account is locked for a while.",
    )
    login_lock_minutes: int = Field(
        default=15, ge=1, description="How long a locked account stays locked, in minutes."
    )
    login_ip_max_failures: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins from one address within 15 minutes after which that "
        "address is refused until the window passes.",
    )

    # Cases and deadlines (SPEC 2.5, 2.6).
    case_number_prefix: str = Field(
        default="QS",
        pattern=r"^[A-Za-z0-9]{1,10}$",
        description="Prefix of report-form numbers, e.g. QS in QS-QJ-2026-0042.",
    )
    case_number_format: str = Field(
        default="{prefix}-{unit}-{year}-{seq:04d}",
        description="Report-form number: {prefix}, {unit} (unit code), {year}, {seq}; "
        "numbers run per unit and year.",
    )
    deadline_reminder_minutes: int = Field(
        default=30,
        ge=0,
        le=24 * 60,
        description="A reminder goes out this many minutes before a case's deadline "
        "(0: no reminders).",
    )

    # Alerts (SPEC 3.8).
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address people open Yuqing at; alert messages link to it.",
    )
    alert_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=300,
        description="How often the alert worker looks for new grades and due deliveries.",
    )
    alert_retries: int = Field(
        default=5,
        ge=0,
        le=20,
        description="Retries of a failed delivery before it is marked failed; waits double.",
    )
    alert_backoff_seconds: float = Field(
        default=30.0, ge=0, le=3600, description="Wait before the first retry of a delivery."
    )
    alert_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Timeout of one delivery attempt, in seconds."
    )

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'yuqing.db').resolve()}"


def load_settings() -> Settings:
    """Settings from the environment; a bad value is a ConfigError naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "；".join(
            f"YUQING_{'_'.join(str(p) for p in e['loc']).upper()}={e.get('input')!r}：{e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"环境变量设置有误：{problems}") from exc
