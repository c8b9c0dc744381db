"""Reading items back: filtered, paged lists for the API, the UI and `yuqing search`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from yuqing.store import search
from yuqing.store.tables import Item, ItemSubject, MetricSnapshot, Story


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


@dataclass(slots=True)
class ItemPage:
    items: list[Item]
    total: int
    page: int
    per_page: int
    query: search.SearchQuery | None


def _filtered(session: Session, f: ItemFilter, query: search.SearchQuery | None) -> Select[Item]:
    stmt = select(Item)
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


def get_item(session: Session, item_id: int) -> Item | None:
    return session.get(Item, item_id)


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
