"""When a source runs next: its interval or cron expression, jitter, and the failing back-off."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterBadCronError, croniter

from yuqing.errors import ConfigError

FAILING_INTERVAL = timedelta(hours=24)
"""How often a source flagged as failing is still tried (until it succeeds or is edited)."""


def check_cron(expression: str) -> str:
    """A five-field cron expression, or a ConfigError saying what is wrong with it."""
    text = " ".join(expression.split())
    if len(text.split(" ")) != 5 or not croniter.is_valid(text):
        raise ConfigError(
            f"定时表达式 {expression[:100]!r} 无效：应为 5 段 cron，"
            "例如 “0 8,12,17 * * 1-5” 表示工作日 8 点、12 点、17 点"
        )
    return text


def next_run_at(
    *,
    cron: str | None,
    interval_minutes: int,
    failing: bool,
    now: datetime,
    timezone: str,
    jitter_seconds: float,
    factor: float = 1.0,
    rng: random.Random | None = None,
) -> datetime:
    """The next run after `now` (aware).

    A cron expression is read in the office's time zone; `factor` (special periods, #8) scales
    the interval; a failing source waits a day. Up to `jitter_seconds` are added at random.
    """
    if failing:
        base = now + FAILING_INTERVAL
    elif cron:
        try:
            local = now.astimezone(ZoneInfo(timezone))
            upcoming: datetime = croniter(cron, local).get_next(datetime)
        except (CroniterBadCronError, ValueError, KeyError) as exc:
            raise ConfigError(f"定时表达式 {cron!r} 无效：{exc}") from None
        base = upcoming.astimezone(UTC)
        if factor < 1.0:  # a special period also brings cron sources forward
            base = now + (base - now) * max(factor, 0.0)
    else:
        base = now + timedelta(minutes=interval_minutes) * max(factor, 0.01)
    jitter = (rng or random).uniform(0, jitter_seconds) if jitter_seconds > 0 else 0.0
    return base + timedelta(seconds=jitter)
