"""Reading items back: filtered, paged lists for the API, the UI and `yuqing search`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from yuqing.domain import GradeCode, MediaTier, Platform
from yuqing.errors import InputError
from yuqing.store import search
from yuqing.store.tables import Item, ItemSubject, MetricSnapshot, Source, Story, Subject, Unit


@dataclass(slots=True, frozen=True)
class ItemFilter:
    """What to list; every field optional. `q` uses the search syntax of `search.parse_query`."""

    q: str | None = None
    subject_id: int | None = None
    platform: str | None = None
    media_tier: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    story_id: int | None = None
    grade: str | None = None
    category: str | None = None
    units: frozenset[int] | None = None
    """The units whose items the reader may see (see `visible_items`); None: every item."""


@dataclass(slots=True)
class ItemPage:
    items: list[Item]
    total: int
    page: int
    per_page: int
    query: search.SearchQuery | None


def covers_all_units(session: Session, units: frozenset[int] | None) -> bool:
    """Whether `units` holds every unit there is (a root unit's reader needs no filter)."""
    if units is None:
        return True
    return set(session.scalars(select(Unit.id))) <= units


def visible_items(units: frozenset[int]) -> ColumnElement[bool]:
    """Items a reader of `units` may see: an item belongs to the units of the subjects it
    matched and the unit of its source; it is seen when one of those is in `units`, or when
    it belongs to no unit at all.

    Subjects and sources are few, so each test is an index lookup on the item's own row
    (`items.source_id`, the `item_subjects` primary key), never a join over all items.
    """
    ids = sorted(units)
    seen_subjects = select(Subject.id).where(Subject.unit_id.in_(ids))
    owned_subjects = select(Subject.id).where(Subject.unit_id.is_not(None))
    seen_sources = select(Source.id).where(Source.unit_id.in_(ids))
    owned_sources = select(Source.id).where(Source.unit_id.is_not(None))

    def matched(subjects: Select[int]) -> ColumnElement[bool]:
        return exists().where(ItemSubject.item_id == Item.id, ItemSubject.subject_id.in_(subjects))

    unowned = and_(
        or_(Item.source_id.is_(None), Item.source_id.not_in(owned_sources)),
        ~matched(owned_subjects),
    )
    return or_(Item.source_id.in_(seen_sources), matched(seen_subjects), unowned)


def _filtered(session: Session, f: ItemFilter, query: search.SearchQuery | None) -> Select[Item]:
    stmt = select(Item)
    if not covers_all_units(session, f.units):
        assert f.units is not None
        stmt = stmt.where(visible_items(f.units))
    if query is not None:
        stmt = stmt.where(search.matching_item_ids(session, query))
    if f.subject_id is not None:
        stmt = stmt.where(
            Item.id.in_(select(ItemSubject.item_id).where(ItemSubject.subject_id == f.subject_id))
        )
    if f.platform:
        stmt = stmt.where(Item.platform == f.platform)
    if f.media_tier:
        stmt = stmt.where(Item.media_tier == f.media_tier)
    if f.story_id is not None:
        stmt = stmt.where(Item.story_id == f.story_id)
    if f.grade:
        stmt = stmt.where(func.coalesce(Item.human_grade, Item.grade) == f.grade)
    if f.category:
        stmt = stmt.where(func.coalesce(Item.human_category, Item.category).startswith(f.category))
    when = func.coalesce(Item.published_at, Item.discovered_at)
    if f.since is not None:
        stmt = stmt.where(when >= f.since)
    if f.until is not None:
        stmt = stmt.where(when < f.until)
    return stmt


def list_items(session: Session, f: ItemFilter, *, page: int = 1, per_page: int = 20) -> ItemPage:
    """A page of items, newest first; raises InputError for a query that cannot run."""
    query = search.parse_query(f.q) if f.q else None
    stmt = _filtered(session, f, query)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    when = func.coalesce(Item.published_at, Item.discovered_at)
    rows = session.scalars(
        stmt.order_by(when.desc(), Item.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return ItemPage(list(rows), total, page, per_page, query)


def get_item(session: Session, item_id: int, units: frozenset[int] | None = None) -> Item | None:
    """The item, or None when there is none or a reader of `units` may not see it."""
    item = session.get(Item, item_id)
    if item is None or covers_all_units(session, units):
        return item
    assert units is not None
    seen = session.scalar(select(Item.id).where(Item.id == item_id, visible_items(units)))
    return item if seen is not None else None


def snapshots(session: Session, item_id: int) -> list[MetricSnapshot]:
    return list(
        session.scalars(
            select(MetricSnapshot)
            .where(MetricSnapshot.item_id == item_id)
            .order_by(MetricSnapshot.captured_at, MetricSnapshot.id)
        )
    )


def story(session: Session, story_id: int) -> Story | None:
    return session.get(Story, story_id)


def parse_moment(
    value: str | None, name: str, tz: ZoneInfo, *, end: bool = False
) -> datetime | None:
    """An ISO date or time from a request; naive means `tz`. With `end`, a bare date means
    "through that day" (the next midnight, for a `<` comparison). InputError names `name`."""
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
    if end and len(value) == 10:
        moment += timedelta(days=1)
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
    grade: str | None = None,
    category: str | None = None,
) -> ItemFilter:
    """Validate raw parameters; InputError names the parameter that is wrong."""
    if grade and grade not in GradeCode.__members__.values():
        raise InputError("grade", f"等级 {grade[:40]!r} 无效，可选：{', '.join(GradeCode)}")
    if category and not (category.isdigit() and len(category) <= 3):
        raise InputError(
            "category", f"分类代码 {category[:40]!r} 无效，应为一至三位数字，如 300 或 3"
        )
    if platform and platform not in Platform.__members__.values():
        raise InputError("platform", f"平台 {platform[:40]!r} 无效，可选：{', '.join(Platform)}")
    if media_tier and media_tier not in MediaTier.__members__.values():
        raise InputError(
            "media_tier", f"媒体级别 {media_tier[:40]!r} 无效，可选：{', '.join(MediaTier)}"
        )
    return ItemFilter(
        q=q or None,
        subject_id=subject,
        platform=platform or None,
        media_tier=media_tier or None,
        since=parse_moment(since, "since", tz),
        until=parse_moment(until, "until", tz, end=True),
        grade=grade or None,
        category=_category_prefix(category) if category else None,
    )


def _category_prefix(code: str) -> str:
    """A top-level code (300) covers its subcategories (301 …); others match exactly."""
    return code[0] if code.endswith("00") and code != "000" else code
