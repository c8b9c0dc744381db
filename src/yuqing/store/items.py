"""Item queries and writes: plain functions taking the session first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from yuqing.domain import Item
from yuqing.domain.items import ref_id
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


# Items stored without analysis (the ingest slice alone) get these; inline SQL literals spare
# a json.dumps per column and row (~25 µs an item).
_NOT_ANALYZED: dict[str, ColumnElement[Any]] = {
    "harms": literal_column("'[]'"),
    "signals": literal_column("'{}'"),
    "grade_reasons": literal_column("'[]'"),
}
_IN_CHUNK = 5000  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IN_CHUNK):
        yield ordered[start : start + _IN_CHUNK]


def _reserve_ids(session: Session, model: type[ItemRow | Story], n: int) -> list[int]:
    """`n` new primary keys for `model`, so that rows can refer to each other before insertion.

    PostgreSQL draws them from the table's sequence. SQLite has none: there they follow the
    largest id, inside the write transaction (a concurrent writer makes the transaction fail,
    never mislabels a row). Explicit ids also spare `INSERT … RETURNING`, which SQLAlchemy
    cannot batch on SQLite with ordered results.
    """
    if session.get_bind().dialect.name == "sqlite":
        first = (session.scalar(select(func.max(model.id))) or 0) + 1
        return list(range(first, first + n))
    stmt = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
    return list(session.scalars(stmt, {"table": model.__tablename__, "n": n}))


def _insert_many(session: Session, stmt: Insert, rows: Sequence[Mapping[str, Any]]) -> None:
    """Execute an INSERT for many rows (every row with the keys of the first).

    On SQLite the rows go to the driver's `executemany` as tuples, each value through its
    column's own bind processor: SQLAlchemy's per-row parameter handling costs as much again
    as SQLite's insert. A column that SQLAlchemy would fill per row (a Python-side default
    missing from the rows) sends the statement the ordinary way.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        compiled = stmt.compile(dialect=connection.dialect, column_keys=list(rows[0]))
        names = compiled.positiontup
        if names is not None and set(names) <= rows[0].keys():
            processors = [
                (i, processor)
                for i, name in enumerate(names)
                if (processor := compiled.binds[name].type.bind_processor(connection.dialect))
            ]
            params = []
            for row in rows:
                values = [row[name] for name in names]
                for i, processor in processors:
                    values[i] = processor(values[i])
                params.append(tuple(values))
            connection.exec_driver_sql(compiled.string, params)
            return
    connection.execute(stmt, rows)


def analysis_columns(item: Item, now: datetime) -> dict[str, Any]:
    """The item columns holding its analysis and first machine grade; empty if it has none."""
    analysis, grading = item.analysis, item.grading
    if analysis is None or grading is None:
        return {}
    return {
        "sentiment": analysis.sentiment,
        "sentiment_score": analysis.sentiment_score,
        "rumor_score": analysis.rumor_score,
        "rumor": analysis.rumor,
        "offensive_score": analysis.offensive_score,
        "offensive": analysis.offensive,
        "harms": [h.as_dict() for h in analysis.harms],
        "signals": {name: list(terms) for name, terms in analysis.signals.items()},
        "category": analysis.category,
        "grade": grading.code,
        "grade_reasons": [r.as_dict() for r in grading.reasons],
        "graded_at": now,
    }


def update_by_id(
    session: Session, model: type[ItemRow | Story], rows: Sequence[Mapping[str, object]]
) -> None:
    """UPDATE rows by "id" in one executemany; every row has the keys of the first.

    The ORM's bulk UPDATE sends one statement per row on SQLite, to check each row count
    (pysqlite cannot report them for executemany); Core sends one.
    """
    if not rows:
        return
    names = [name for name in rows[0] if name != "id"]
    stmt = (
        update(model)
        .where(model.id == bindparam("_id"))
        .values({name: bindparam(f"_{name}") for name in names})
    )
    session.connection().execute(stmt, [{f"_{k}": v for k, v in row.items()} for row in rows])


def insert_items(session: Session, items: Sequence[Item]) -> int:
    """Insert new items with their matches, first metric snapshot, search index and story.

    Sets each item's `id` and `story_id`. An item that copies another (`similar_to`, stored or
    earlier in `items`) joins the copied item's story, created when it had none. Story links
    go in with the rows: only stored items that start a story are updated, because an UPDATE
    of a row just inserted costs ~10× its INSERT on SQLite with foreign keys on.
    Returns the number of items that copy another (story links).
    """
    if not items:
        return 0
    ids = _reserve_ids(session, ItemRow, len(items))
    for item, item_id in zip(items, ids, strict=True):
        item.id = item_id
    copies = {
        item_id: similar
        for item, item_id in zip(items, ids, strict=True)
        if (similar := ref_id(item.similar_to)) is not None
    }
    story_of = _assign_stories(session, copies)
    now = utcnow()
    rows = [
        {
            "id": item_id,
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
            "story_id": story_of.get(item_id),
            "similar_to_id": copies.get(item_id),
            "sightings": 1,
            "created_at": now,
            "updated_at": now,
            **i.metrics.as_dict(),
            **analysis_columns(i, now),
        }
        for i, item_id in zip(items, ids, strict=True)
    ]
    # Analyzed and unanalyzed rows have different columns: one statement for each kind.
    analyzed = [row for row in rows if "grade" in row]
    _insert_many(session, insert(ItemRow), analyzed)
    plain = [row for row in rows if "grade" not in row]
    _insert_many(session, insert(ItemRow).values(_NOT_ANALYZED), plain)
    matches = [
        {
            "item_id": item_id,
            "subject_id": m.subject_id,
            "spans": [
                {"field": s.field, "start": s.start, "end": s.end, "term": s.term} for s in m.spans
            ],
        }
        for i, item_id in zip(items, ids, strict=True)
        for m in i.subjects
    ]
    _insert_many(session, insert(ItemSubject), matches)
    snapshots = [
        {"item_id": item_id, "captured_at": i.discovered_at, **i.metrics.as_dict()}
        for i, item_id in zip(items, ids, strict=True)
        if not i.metrics.is_empty()
    ]
    _insert_many(session, insert(MetricSnapshot), snapshots)
    search.index_items(
        session,
        [(item_id, i.match_title, i.match_content) for i, item_id in zip(items, ids, strict=True)],
    )
    batch = set(ids)
    update_by_id(
        session,
        ItemRow,
        [{"id": i, "story_id": s} for i, s in story_of.items() if i not in batch],
    )
    refresh_stories(session, set(story_of.values()))
    for item, item_id in zip(items, ids, strict=True):
        item.story_id = story_of.get(item_id)
    return len(copies)


def record_sightings(session: Session, sightings: Sequence[tuple[int, Item]]) -> int:
    """Stored items seen again, as (stored id, item seen) in arrival order: count each sighting,
    and snapshot an item's metrics each time they grow.

    Spread counters only grow; a smaller value is an older observation (a re-imported file, a
    cached page) and is ignored, so re-running an import adds no snapshot. One read and two
    bulk writes for the whole batch, however often an item recurs in it.
    Returns the number of metric snapshots written.
    """
    if not sightings:
        return 0
    current: dict[int, dict[str, int | None]] = {}
    counts: dict[int, int] = {}
    for chunk in _chunks({item_id for item_id, _ in sightings}):
        stmt = select(ItemRow.id, ItemRow.sightings, *(getattr(ItemRow, m) for m in _METRICS))
        for item_id, seen_times, *values in session.execute(stmt.where(ItemRow.id.in_(chunk))):
            counts[item_id] = seen_times
            current[item_id] = dict(zip(_METRICS, values, strict=True))
    snapshots: list[dict[str, object]] = []
    for item_id, seen in sightings:
        metrics = current.get(item_id)
        if metrics is None:
            continue
        counts[item_id] += 1
        grown = {
            k: v
            for k, v in seen.metrics.as_dict().items()
            if v is not None and ((old := metrics[k]) is None or v > old)
        }
        if grown:
            metrics.update(grown)
            snapshots.append({"item_id": item_id, "captured_at": seen.discovered_at, **metrics})
    if not counts:
        return 0
    now = utcnow()
    update_by_id(
        session,
        ItemRow,
        [
            {"id": item_id, "sightings": counts[item_id], "updated_at": now, **metrics}
            for item_id, metrics in current.items()
        ],
    )
    _insert_many(session, insert(MetricSnapshot), snapshots)
    return len(snapshots)


def _assign_stories(session: Session, copies: Mapping[int, int]) -> dict[int, int]:
    """The story of each copy and of each copied item: {copy id: copied id} in arrival order.

    A copy joins the story of the item it copies; one is created (in one insert for all) when
    that item has none yet, stored or earlier in the batch. Returns item id → story id for
    every copy and every copied item whose story is new.
    """
    if not copies:
        return {}
    story_of: dict[int, int | None] = {}
    for chunk in _chunks(set(copies.values())):
        stmt = select(ItemRow.id, ItemRow.story_id).where(ItemRow.id.in_(chunk))
        story_of.update(session.execute(stmt).all())
    # New stories get placeholder numbers -1, -2, … until they are inserted in one statement.
    assigned: dict[int, int] = {}
    new = 0
    for item_id, similar_id in copies.items():
        story_id = story_of.get(similar_id)
        if story_id is None:
            new += 1
            story_id = story_of[similar_id] = assigned[similar_id] = -new
        story_of[item_id] = assigned[item_id] = story_id
    if new:
        created = _reserve_ids(session, Story, new)
        now = utcnow()
        _insert_many(
            session,
            insert(Story),
            [
                {"id": i, "item_count": 0, "site_count": 0, "created_at": now, "updated_at": now}
                for i in created
            ],
        )
        assigned = {i: created[-s - 1] if s < 0 else s for i, s in assigned.items()}
    return assigned


def refresh_stories(session: Session, story_ids: Collection[int]) -> None:
    """Recompute each story's origin, first publish time and counts from its members."""
    members: dict[int, list[tuple[int, datetime, str | None]]] = defaultdict(list)
    for chunk in _chunks(story_ids):
        stmt = select(
            ItemRow.story_id,
            ItemRow.id,
            func.coalesce(ItemRow.published_at, ItemRow.discovered_at),
            ItemRow.host,
        ).where(ItemRow.story_id.in_(chunk))
        for story_id, item_id, first_seen, host in session.execute(stmt):
            if story_id is not None:  # always: selected by story
                members[story_id].append((item_id, first_seen, host))
    if not members:
        return
    now = utcnow()
    rows = []
    for story_id, group in members.items():
        origin_id, first_seen, _ = min(group, key=lambda m: (m[1], m[0]))
        rows.append(
            {
                "id": story_id,
                "origin_item_id": origin_id,
                "first_published_at": first_seen,
                "item_count": len(group),
                "site_count": len({host or f"item:{item_id}" for item_id, _, host in group}),
                "updated_at": now,
            }
        )
    update_by_id(session, Story, rows)


def count_items(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ItemRow)) or 0
