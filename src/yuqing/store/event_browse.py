"""Reading events back: the filtered, paged list, and one event in full (JSON-ready):
origin, timeline, propagation and volume curve.

Propagation is drawn from what is known: `similar_to_id` (the item a repost was found to copy),
story membership (a story member links to its story's origin when no closer copy is known),
and, for the independent reports of the matter, a link from the event's origin.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from yuqing.errors import InputError
from yuqing.standard import load_standard
from yuqing.store.browse import parse_moment
from yuqing.store.events import effective, title_of
from yuqing.store.serialize import item_summary
from yuqing.store.tables import Event, Item, MetricSnapshot, Story
from yuqing.store.units import subtree_ids

METRICS = ("views", "reposts", "comments", "likes")
HOURLY_UP_TO = timedelta(hours=72)
"""An event spanning up to three days gets an hourly curve; a longer one a daily curve."""
MAX_BUCKETS = 400


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _when(item: Item) -> datetime:
    return item.published_at or item.discovered_at


def event_summary(event: Event) -> dict[str, Any]:
    """The list and header shape of an event."""
    return {
        "id": event.id,
        "title": event.title,
        "subject_id": event.subject_id,
        "unit_id": event.unit_id,
        "key_terms": list(event.key_terms or []),
        "origin_item_id": event.origin_item_id,
        "first_seen_at": _iso(event.first_seen_at),
        "last_seen_at": _iso(event.last_seen_at),
        "item_count": event.item_count,
        "site_count": event.site_count,
        "platform_count": event.platform_count,
        "metrics": {name: getattr(event, name) for name in METRICS},
        "grade": event.grade,
        "category": event.category,
    }


def _timeline_entry(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": title_of(item.title, item.content),
        "url": item.url,
        "host": item.host,
        "platform": item.platform,
        "media_tier": item.media_tier,
        "grade": effective(item.grade, item.human_grade),
        "category": effective(item.category, item.human_category),
        "at": _iso(_when(item)),
        "published_at": _iso(item.published_at),
        "discovered_at": _iso(item.discovered_at),
        "story_id": item.story_id,
        "similar_to_id": item.similar_to_id,
        "metrics": {name: getattr(item, name) for name in METRICS},
    }


def _propagation(
    items: Sequence[Item], origin_id: int | None, story_origins: dict[int, int | None]
) -> dict[str, Any]:
    sites: dict[str | None, dict[str, Any]] = {}
    platforms: dict[str, dict[str, Any]] = {}
    for item in items:  # in time order: the first seen wins
        at = _iso(_when(item))
        site = sites.setdefault(
            item.host,
            {
                "host": item.host,
                "platform": item.platform,
                "media_tier": item.media_tier,
                "first_at": at,
                "first_item_id": item.id,
                "items": 0,
            },
        )
        site["items"] += 1
        platform = platforms.setdefault(
            item.platform, {"platform": item.platform, "first_at": at, "items": 0}
        )
        platform["items"] += 1
    ids = {i.id for i in items}
    edges: list[dict[str, Any]] = []
    for item in items:
        source, kind = None, None
        if item.similar_to_id in ids and item.similar_to_id != item.id:
            source, kind = item.similar_to_id, "copy"
        elif item.story_id is not None:
            story_origin = story_origins.get(item.story_id)
            if story_origin in ids and story_origin != item.id:
                source, kind = story_origin, "story"
        if source is None and origin_id in ids and item.id != origin_id:
            source, kind = origin_id, "event"
        if source is not None:
            edges.append({"source": source, "target": item.id, "kind": kind})
    return {
        "sites": sorted(sites.values(), key=lambda s: (s["first_at"] or "", s["first_item_id"])),
        "platforms": sorted(platforms.values(), key=lambda p: p["first_at"] or ""),
        "edges": edges,
    }


def _floor(moment: datetime, hourly: bool, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    if hourly:
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _volume(
    times: Sequence[datetime], snapshots: Sequence[MetricSnapshot], tz: ZoneInfo
) -> dict[str, Any]:
    """Items per bucket, and the event's summed metrics as known at the end of each bucket."""
    if not times:
        return {"unit": "hour", "points": []}
    start = min(times)
    end = max([*times, *(s.captured_at for s in snapshots)])
    hourly = end - start <= HOURLY_UP_TO
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    buckets: list[datetime] = []
    cursor = _floor(start, hourly, tz)
    while cursor <= end and len(buckets) < MAX_BUCKETS:
        buckets.append(cursor)
        # Hours step in absolute time; days in wall time, so each bucket starts at midnight.
        cursor = (cursor.astimezone(UTC) + step).astimezone(tz) if hourly else cursor + step
    counts = Counter(_floor(t, hourly, tz) for t in times)
    ordered = sorted(snapshots, key=lambda s: (s.captured_at, s.id))
    latest: dict[int, dict[str, int]] = {}
    totals = dict.fromkeys(METRICS, 0)
    position = 0
    points = []
    for bucket in buckets:
        bucket_end = bucket + step
        while position < len(ordered) and ordered[position].captured_at < bucket_end:
            snap = ordered[position]
            known = latest.setdefault(snap.item_id, dict.fromkeys(METRICS, 0))
            for name in METRICS:
                value = getattr(snap, name)
                if value is not None:
                    totals[name] += value - known[name]
                    known[name] = value
            position += 1
        points.append({"at": bucket.isoformat(), "items": counts.get(bucket, 0), **totals})
    return {"unit": "hour" if hourly else "day", "points": points}


def event_detail(
    session: Session,
    event_id: int,
    *,
    tz: ZoneInfo,
    limit: int = 500,
    units: frozenset[int] | None = None,
) -> dict[str, Any] | None:
    """Everything the event page and `GET /api/events/{id}` show; None if there is no such
    event or a reader of `units` may not see it. The timeline and graph hold the first
    `limit` items; counts cover all."""
    event = get_event(session, event_id, units)
    if event is None:
        return None
    rows = session.scalars(select(Item).where(Item.event_id == event_id)).all()
    items = sorted(rows, key=lambda i: (_when(i), i.id))
    shown = items[:limit]
    story_ids = {i.story_id for i in shown if i.story_id is not None}
    story_origins: dict[int, int | None] = {}
    if story_ids:
        for story in session.scalars(select(Story).where(Story.id.in_(story_ids))):
            story_origins[story.id] = story.origin_item_id
    snapshots = session.scalars(
        select(MetricSnapshot).where(
            MetricSnapshot.item_id.in_(select(Item.id).where(Item.event_id == event_id))
        )
    ).all()
    origin = next((i for i in items if i.id == event.origin_item_id), None)
    return {
        "event": event_summary(event),
        "origin": item_summary(origin) if origin is not None else None,
        "timeline": [_timeline_entry(i) for i in shown],
        "timeline_total": len(items),
        "propagation": _propagation(shown, event.origin_item_id, story_origins),
        "volume": _volume([_when(i) for i in items], snapshots, tz),
    }


# The list --------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class EventFilter:
    """What to list; every field optional. `grades` is the set of grade codes accepted."""

    subject_id: int | None = None
    unit_id: int | None = None
    grades: frozenset[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None
    min_items: int = 1
    units: frozenset[int] | None = None
    """The units whose events the reader may see (and events of no unit); None: all."""


@dataclass(slots=True)
class EventPage:
    events: list[Event]
    total: int
    page: int
    per_page: int


def grades_at_least(code: str) -> frozenset[str]:
    """Grade codes ranked at or above `code`; InputError names the valid codes."""
    grades = load_standard().grades
    floor = next((g.rank for g in grades if g.code.value == code), None)
    if floor is None:
        known = ", ".join(g.code.value for g in grades)
        raise InputError("grade", f"舆情等级 {code[:40]!r} 无效，可选：{known}")
    return frozenset(g.code.value for g in grades if g.rank >= floor)


def event_filter(
    *,
    subject: int | None,
    unit: int | None,
    grade: str | None,
    since: str | None,
    until: str | None,
    q: str | None,
    min_items: int,
    tz: ZoneInfo,
    units: frozenset[int] | None = None,
) -> EventFilter:
    """Validate raw parameters; InputError names the parameter that is wrong."""
    return EventFilter(
        units=units,
        subject_id=subject,
        unit_id=unit,
        grades=grades_at_least(grade) if grade else None,
        since=parse_moment(since, "since", tz),
        until=parse_moment(until, "until", tz, end=True),
        q=q.strip() or None if q else None,
        min_items=min_items,
    )


def _filtered(session: Session, f: EventFilter) -> Select[Event]:
    stmt = select(Event)
    if f.units is not None:
        stmt = stmt.where(visible_events(f.units))
    if f.subject_id is not None:
        stmt = stmt.where(Event.subject_id == f.subject_id)
    if f.unit_id is not None:
        stmt = stmt.where(Event.unit_id.in_(subtree_ids(session, f.unit_id)))
    if f.grades is not None:
        stmt = stmt.where(Event.grade.in_(sorted(f.grades)))
    if f.since is not None:
        stmt = stmt.where(Event.last_seen_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(Event.first_seen_at < f.until)
    if f.q:
        stmt = stmt.where(Event.title.contains(f.q, autoescape=True))
    if f.min_items > 1:
        stmt = stmt.where(Event.item_count >= f.min_items)
    return stmt


def list_events(
    session: Session, f: EventFilter, *, page: int = 1, per_page: int = 20
) -> EventPage:
    """A page of events, the most recently active first."""
    stmt = _filtered(session, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Event.last_seen_at.desc(), Event.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return EventPage(list(rows), total, page, per_page)


def visible_events(units: frozenset[int]) -> ColumnElement[bool]:
    """Events of one of `units`, or of no unit."""
    return or_(Event.unit_id.is_(None), Event.unit_id.in_(sorted(units)))


def get_event(session: Session, event_id: int, units: frozenset[int] | None = None) -> Event | None:
    """The event, or None when there is none or a reader of `units` may not see it."""
    event = session.get(Event, event_id)
    if event is None or units is None or event.unit_id is None or event.unit_id in units:
        return event
    return None
