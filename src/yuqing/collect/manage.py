"""Adding, showing and removing sources: the one place the CLI and the API both go through.

A source is checked whole before it is stored: the kind and its configuration (by the kind's
own model), platform and media tier (by the standard), the owner unit, the schedule. A push
source gets a bearer token, shown once; only its SHA-256 is kept. Adding and removing are
audited (`source.add`, `source.remove`) with who did it; the audit detail names the config
keys but never their values (they may hold API keys), nor the push token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.accounts.actor import SYSTEM, Actor
from yuqing.collect.schedule import check_cron
from yuqing.domain import RawItem
from yuqing.errors import ConfigError, InputError
from yuqing.pipeline.base import ItemError
from yuqing.sources.base import Collected
from yuqing.sources.registry import SOURCE_KINDS, check_config, kind_label
from yuqing.standard import Standard
from yuqing.store import audit
from yuqing.store import sources as source_store
from yuqing.store.tables import Source as SourceRow
from yuqing.store.tables import Unit

MAX_NAME_CHARS = 200


@dataclass(slots=True)
class SourceInput:
    """A source as a user describes it (CLI options, an API body)."""

    name: str
    kind: str
    platform: str = "other"
    media_tier: str = "other"
    region: str | None = None
    unit: str | None = None  # unit code or id
    config: dict[str, Any] = field(default_factory=dict)
    interval_minutes: int | None = None
    cron: str | None = None
    robots: bool = True
    max_items: int | None = None
    enabled: bool = True


def add_source(
    session: Session,
    standard: Standard,
    source: SourceInput,
    now: datetime,
    *,
    by: Actor = SYSTEM,
) -> tuple[SourceRow, str | None]:
    """Check and store a source; (row, the push token or None). Errors name the field."""
    name = source.name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise InputError("name", f"源名称不能为空，最多 {MAX_NAME_CHARS} 字")
    try:
        check_config(source.kind, source.config)
    except ConfigError as exc:
        raise InputError("config", str(exc)) from None
    try:
        standard.platform(source.platform)
    except ConfigError as exc:
        raise InputError("platform", str(exc)) from None
    try:
        standard.media_tier(source.media_tier)
    except ConfigError as exc:
        raise InputError("media_tier", str(exc)) from None
    if source.interval_minutes is not None and not 1 <= source.interval_minutes <= 7 * 24 * 60:
        raise InputError("interval_minutes", "抓取间隔应在 1 分钟到 7 天（10080 分钟）之间")
    if source.interval_minutes is not None and source.cron:
        raise InputError("cron", "抓取间隔与定时表达式只能设一个")
    cron = None
    if source.cron:
        try:
            cron = check_cron(source.cron)
        except ConfigError as exc:
            raise InputError("cron", str(exc)) from None
    if source.max_items is not None and not 1 <= source.max_items <= 100_000:
        raise InputError("max_items", "每次抓取条数上限应在 1 到 100000 之间")
    region = (source.region or "").strip() or None
    if region and len(region) > 100:
        raise InputError("region", "地区最多 100 字")
    token = secrets.token_urlsafe(32) if source.kind == "push" else None
    row = source_store.add_source(
        session,
        SourceRow(
            name=name,
            kind=source.kind,
            platform=source.platform,
            media_tier=source.media_tier,
            region=region,
            unit_id=_unit_id(session, source.unit),
            config=dict(source.config),
            interval_minutes=source.interval_minutes,
            cron=cron,
            robots=source.robots,
            max_items=source.max_items,
            enabled=source.enabled,
            token_hash=source_store.token_hash(token) if token else None,
        ),
        now,
    )
    audit.record(
        session,
        actor=by.label,
        action="source.add",
        target_type="source",
        target_id=row.id,
        detail=_audited(row),
        at=now,
    )
    return row, token


def remove_source(session: Session, row: SourceRow, now: datetime, *, by: Actor = SYSTEM) -> None:
    """Remove a source and its runs (the items it brought stay), and audit who did it."""
    detail = _audited(row)
    source_id = row.id
    source_store.remove_source(session, row)
    audit.record(
        session,
        actor=by.label,
        action="source.remove",
        target_type="source",
        target_id=source_id,
        detail=detail,
        at=now,
    )


def _audited(row: SourceRow) -> dict[str, Any]:
    """What the audit log keeps of a source: its settings, config key names only."""
    return {
        "name": row.name,
        "kind": row.kind,
        "platform": row.platform,
        "media_tier": row.media_tier,
        "region": row.region,
        "unit_id": row.unit_id,
        "config_keys": sorted(row.config or {}),
        "interval_minutes": row.interval_minutes,
        "cron": row.cron,
        "robots": row.robots,
        "max_items": row.max_items,
        "enabled": row.enabled,
    }


def describe(
    session: Session, standard: Standard, row: SourceRow, *, runs: int = 0
) -> dict[str, Any]:
    """A source as JSON (`yuqing sources list/show --json`, `/api/sources`), with its health
    and, if asked, its last `runs` runs. Push tokens are never shown here."""
    health = source_store.health(session, row)
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "kind_name": kind_label(row.kind),
        "collects": row.kind in SOURCE_KINDS,
        "platform": row.platform,
        "platform_name": standard.platform_name(row.platform),
        "media_tier": row.media_tier,
        "media_tier_name": standard.media_tier(row.media_tier).name,
        "region": row.region,
        "unit_id": row.unit_id,
        "config": masked_config(row.config or {}),
        "interval_minutes": row.interval_minutes,
        "cron": row.cron,
        "robots": row.robots,
        "max_items": row.max_items,
        "enabled": row.enabled,
        "created_at": _iso(row.created_at),
        "health": {key: _iso(value) for key, value in health.items()},
    }
    if runs:
        out["runs"] = [
            {
                "trigger": r.trigger,
                "started_at": _iso(r.started_at),
                "seconds": round(r.seconds, 3),
                "ok": r.ok,
                "error": r.error,
                "pages": r.pages,
                "not_modified": r.not_modified,
                "records": r.records,
                "imported": r.imported,
                "duplicates": r.duplicates,
                "rejected": r.rejected,
                "revisited": r.revisited,
                "snapshots": r.snapshots,
                "latency_ms": None if r.latency_ms is None else round(r.latency_ms, 1),
                "problems": r.problems,
            }
            for r in source_store.recent_runs(session, row.id, runs)
        ]
    return out


def _unit_id(session: Session, unit: str | None) -> int | None:
    if unit is None or not str(unit).strip():
        return None
    ref = str(unit).strip()
    row = session.scalars(select(Unit).where(Unit.code == ref)).first()
    if row is None and ref.isdigit():
        row = session.get(Unit, int(ref))
    if row is None:
        raise InputError("unit", f"没有代码或编号为 {ref[:64]!r} 的单位")
    return row.id


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def masked_config(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration as lists and pages show it: request header values (API keys) are
    replaced by "***"; the names stay, so an editor sees which headers are set."""
    headers = config.get("headers")
    if not isinstance(headers, dict) or not headers:
        return config
    return {**config, "headers": dict.fromkeys(headers, "***")}


def describe_preview(collected: Collected, items: list[RawItem]) -> dict[str, Any]:
    """What a test fetch would store (title, url, author, published, metrics) and every
    problem: pages that failed and entries that could not be read (`sources test`)."""
    errors = [f"{r.where}：{r.error}" for r in collected.records if isinstance(r, ItemError)]
    return {
        "pages": collected.pages,
        "not_modified": collected.not_modified,
        "items": [
            {
                "title": item.title,
                "url": item.url,
                "author": item.author,
                "published": _iso(item.published),
                "metrics": {k: v for k, v in item.metrics.as_dict().items() if v is not None},
            }
            for item in items
        ],
        "errors": [*collected.problems, *errors],
    }
