"""Item queries and writes: plain functions taking the session first."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from yuqing.domain import Item
from yuqing.store import search
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import ItemSubject, MetricSnapshot, Story, utcnow

_METRICS = ("views", "reposts", "comments", "likes")


def lookup_exact(
    session: Session, urls: list[str], hashes: list[str]
) -> list[tuple[int, str | None, str, str | None, str | None]]:
    """Stored rows sharing a canonical URL or a content hash: (id, url, hash, host, author)."""
    if not urls and not hashes:
        return []
    rows = session.execute(
        select(
            ItemRow.id, ItemRow.canonical_url, ItemRow.content_hash, ItemRow.host, ItemRow.author
        ).where(or_(ItemRow.canonical_url.in_(urls), ItemRow.content_hash.in_(hashes)))
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def iter_signatures(session: Session, since: datetime) -> Iterator[tuple[int, bytes]]:
    """(id, MinHash signature) of items discovered since `since`, for the similarity index."""
    stmt = (
        select(ItemRow.id, ItemRow.signature)
        .where(ItemRow.discovered_at >= since, ItemRow.signature.is_not(None))
        .execution_options(yield_per=5000)
    )
    for item_id, signature in session.execute(stmt):
        if signature is not None:
            yield item_id, signature


def _insert_returning_ids(session: Session, rows: Sequence[Mapping[str, object]]) -> list[int]:
    """Insert rows and return their ids in order.

    SQLite cannot batch `INSERT … RETURNING` with ordered results, so SQLAlchemy would send one
    statement per row; there the ids are assigned inside the write transaction instead (a
    concurrent writer makes the transaction fail, never mislabels a row). PostgreSQL batches
    RETURNING with order preserved.
    """
    if session.get_bind().dialect.name != "sqlite":
        return list(
            session.scalars(
                insert(ItemRow).returning(ItemRow.id, sort_by_parameter_order=True), rows
            ).all()
        )
    first = (session.scalar(select(func.max(ItemRow.id))) or 0) + 1
    ids = list(range(first, first + len(rows)))
    session.execute(insert(ItemRow), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def insert_items(session: Session, items: Sequence[Item]) -> None:
    """Insert new items with their matches, first metric snapshot and search index; sets ids."""
    if not items:
        return
    now = utcnow()
    rows = [
        {
            "external_id": i.raw.external_id,
            "source_id": i.raw.source_id,
            "url": i.url,
            "canonical_url": i.canonical_url,
            "host": i.host,
            "title": i.title,
            "content": i.content,
            "author": i.author,
            "platform": i.platform.value,
            "media_tier": i.media_tier.value,
            "region": i.region,
            "published_at": i.published_at,
            "discovered_at": i.discovered_at,
            "content_hash": i.content_hash,
            "signature": i.signature,
            "sightings": 1,
            "created_at": now,
            "updated_at": now,
            **i.metrics.as_dict(),
        }
        for i in items
    ]
    ids = _insert_returning_ids(session, rows)
    for item, item_id in zip(items, ids, strict=True):
        item.id = item_id
    matches = [
        {
            "item_id": i.id,
            "subject_id": m.subject_id,
            "spans": [
                {"field": s.field, "start": s.start, "end": s.end, "term": s.term} for s in m.spans
            ],
        }
        for i in items
        for m in i.subjects
    ]
    if matches:
        session.execute(insert(ItemSubject), matches)
    snapshots = [
        {"item_id": i.id, "captured_at": i.discovered_at, **i.metrics.as_dict()}
        for i in items
        if not i.metrics.is_empty()
    ]
    if snapshots:
        session.execute(insert(MetricSnapshot), snapshots)
    search.index_items(
        session, [(i.id, i.match_title, i.match_content) for i in items if i.id is not None]
    )


def record_sighting(session: Session, item_id: int, seen: Item) -> bool:
    """A stored item seen again: count it, and snapshot its metrics if they grew.

    Spread counters only grow; a smaller value is an older observation (a re-imported file, a
    cached page) and is ignored, so re-running an import adds no snapshot.
    Returns True when a new metric snapshot was written.
    """
    row = session.get(ItemRow, item_id)
    if row is None:
        return False
    row.sightings += 1
    row.updated_at = utcnow()
    new = seen.metrics.as_dict()
    current = {name: getattr(row, name) for name in _METRICS}
    changed = {
        k: v for k, v in new.items() if v is not None and (current[k] is None or v > current[k])
    }
    if not changed:
        return False
    for name, value in changed.items():
        setattr(row, name, value)
    session.add(
        MetricSnapshot(
            item_id=item_id,
            captured_at=seen.discovered_at,
            **{name: getattr(row, name) for name in _METRICS},
        )
    )
    return True


def assign_stories(session: Session, pairs: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Put each new item in the story of the item it copies: (item id, similar id) pairs.

    Stories are created when the copied item had none; each touched story is recounted once,
    so a story with thousands of reposts costs one pass per batch, not one per repost.
    Returns item id → story id.
    """
    if not pairs:
        return {}
    stmt = select(ItemRow.id, ItemRow.story_id).where(ItemRow.id.in_({s for _, s in pairs}))
    story_of: dict[int, int | None] = {row[0]: row[1] for row in session.execute(stmt)}
    assigned: dict[int, int] = {}
    for item_id, similar_id in pairs:
        story_id = story_of.get(similar_id)
        if story_id is None:
            story = Story(item_count=0, site_count=0)
            session.add(story)
            session.flush()
            story_id = story.id
            story_of[similar_id] = story_id
            assigned[similar_id] = story_id
        story_of[item_id] = story_id
        assigned[item_id] = story_id
    copied = dict(pairs)
    session.execute(
        update(ItemRow),
        [
            {"id": i, "story_id": s, "similar_to_id": copied[i]}
            if i in copied
            else {"id": i, "story_id": s}
            for i, s in assigned.items()
        ],
    )
    for story_id in set(assigned.values()):
        refresh_story(session, story_id)
    return assigned


def refresh_story(session: Session, story_id: int) -> None:
    """Recompute a story's origin, first publish time and counts from its members."""
    members = session.execute(
        select(ItemRow.id, ItemRow.published_at, ItemRow.discovered_at, ItemRow.host).where(
            ItemRow.story_id == story_id
        )
    ).all()
    origin = min(members, key=lambda m: (m[1] or m[2], m[0]))
    session.execute(
        update(Story)
        .where(Story.id == story_id)
        .values(
            origin_item_id=origin[0],
            first_published_at=origin[1] or origin[2],
            item_count=len(members),
            site_count=len({m[3] or f"item:{m[0]}" for m in members}),
            updated_at=utcnow(),
        )
    )


def count_items(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ItemRow)) or 0
