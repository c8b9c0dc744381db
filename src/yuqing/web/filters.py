"""Query parameters shared by the items API and the items page."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from yuqing.domain import MediaTier, Platform
from yuqing.errors import InputError
from yuqing.store.browse import ItemFilter


def _moment(value: str | None, name: str, tz: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(
            name, f"时间格式无效：{value[:40]!r}，应为 2026-11-03 或 2026-11-03T08:00"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def item_filter(
    *,
    q: str | None,
    subject: int | None,
    platform: str | None,
    media_tier: str | None,
    since: str | None,
    until: str | None,
    tz: ZoneInfo,
) -> ItemFilter:
    """Validate raw parameters; InputError names the parameter that is wrong."""
    if platform and platform not in Platform.__members__.values():
        raise InputError("platform", f"平台 {platform[:40]!r} 无效，可选：{', '.join(Platform)}")
    if media_tier and media_tier not in MediaTier.__members__.values():
        raise InputError(
            "media_tier", f"媒体级别 {media_tier[:40]!r} 无效，可选：{', '.join(MediaTier)}"
        )
    until_moment = _moment(until, "until", tz)
    if until and until_moment is not None and len(until) == 10:
        # A bare date as the end means "through that day".
        until_moment = datetime.combine(until_moment.date(), time.max, tzinfo=until_moment.tzinfo)
    return ItemFilter(
        q=q or None,
        subject_id=subject,
        platform=platform or None,
        media_tier=media_tier or None,
        since=_moment(since, "since", tz),
        until=until_moment,
    )
