"""Bulk item writes: sightings and story links for a whole batch, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text

from yuqing.domain import Item, Metrics, RawItem
from yuqing.pipeline.base import Batch
from yuqing.pipeline.normalize import Normalize
from yuqing.store import items
from yuqing.store.db import Database
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import ItemSubject, MetricSnapshot, Story

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def _items(*raws: RawItem) -> list[Item]:
    batch = Normalize(ZoneInfo("Asia/Shanghai"), 10_000, now=lambda: NOW).process(
        Batch(raw=list(raws))
    )
    assert not batch.errors
    return batch.items


def _stored(db: Database, *raws: RawItem) -> list[int]:
    fresh = _items(*raws)
    with db.session() as session:
        items.insert_items(session, fresh)
    return [i.id for i in fresh if i.id is not None]


def test_insert_sets_ids_in_order_and_snapshots_metrics(db: Database) -> None:
    ids = _stored(
        db,
        RawItem(content="第一条", metrics=Metrics(views=5)),
        RawItem(content="第二条"),
        RawItem(content="第三条", metrics=Metrics(likes=2)),
    )
    assert len(ids) == 3
    with db.session() as session:
        contents = dict(session.execute(select(ItemRow.id, ItemRow.content)).all())
        snapshots = session.execute(select(MetricSnapshot.item_id, MetricSnapshot.views)).all()
    assert [contents[i] for i in ids] == ["第一条", "第二条", "第三条"]
    with db.session() as session:
        row = session.get(ItemRow, ids[0])
        assert row is not None
        assert (row.harms, row.signals, row.grade_reasons) == ([], {}, [])  # not analyzed yet
    assert sorted(snapshots, key=lambda s: s[0]) == [(ids[0], 5), (ids[2], None)]


def test_sightings_of_one_item_in_one_batch_apply_in_order(db: Database) -> None:
    (first, other) = _stored(
        db,
        RawItem(content="原帖", metrics=Metrics(views=10, likes=3)),
        RawItem(content="另一条"),
    )
    seen = _items(
        RawItem(content="原帖", metrics=Metrics(views=10, likes=3)),  # nothing new
        RawItem(content="原帖", metrics=Metrics(views=50)),  # views grew
        RawItem(content="另一条"),  # no metrics
        RawItem(content="原帖", metrics=Metrics(views=40, likes=9)),  # older views, more likes
    )
    with db.session() as session:
        written = items.record_sightings(
            session, [(first, seen[0]), (first, seen[1]), (other, seen[2]), (first, seen[3])]
        )
        assert items.record_sightings(session, [(10_000, seen[0])]) == 0  # no such item
    assert written == 2
    with db.session() as session:
        row = session.get(ItemRow, first)
        assert row is not None
        assert (row.sightings, row.views, row.likes) == (4, 50, 9)
        other_row = session.get(ItemRow, other)
        assert other_row is not None and other_row.sightings == 2
        history = session.execute(
            select(MetricSnapshot.views, MetricSnapshot.likes)
            .where(MetricSnapshot.item_id == first)
            .order_by(MetricSnapshot.id)
        ).all()
    assert [tuple(h) for h in history] == [(10, 3), (50, 3), (50, 9)]


def test_story_links_within_a_batch_and_into_stored_items(db: Database) -> None:
    day = timedelta(days=1)
    first = _items(
        RawItem(content="甲", url="https://a.example/1", published=NOW - 2 * day),
        RawItem(content="戊", url="https://d.example/1", published=NOW - 5 * day),
        RawItem(content="丁", url="https://c.example/1", published=NOW - day),
    )
    a, e, d = first
    d.similar_to = e  # a copy of an item earlier in the same batch
    with db.session() as session:
        assert items.insert_items(session, first) == 1
    assert a.id and e.id and d.id and e.story_id == d.story_id and a.story_id is None

    second = _items(
        RawItem(content="乙", url="https://b.example/1", published=NOW - 3 * day),
        RawItem(content="丙", url="https://a.example/2"),
        RawItem(content="庚", url="https://g.example/1"),
        RawItem(content="己", url="https://f.example/1"),
        RawItem(content="辛", url="https://h.example/1"),
    )
    b, c, g, f, h = second
    b.similar_to = a.id  # a stored item without a story: it becomes the origin's story
    c.similar_to = b  # a chain inside the batch
    f.similar_to = g  # an item of this batch without a story
    h.similar_to = d.id  # a stored item already in a story
    with db.session() as session:
        assert items.insert_items(session, second) == 4
    assert b.story_id == c.story_id != g.story_id == f.story_id
    assert h.story_id == d.story_id

    with db.session() as session:
        stories = {s.id: s for s in session.scalars(select(Story))}
        rows = {r.id: r for r in session.scalars(select(ItemRow))}
    assert len(stories) == 3
    assert {i: (r.story_id, r.similar_to_id) for i, r in rows.items()} == {
        a.id: (b.story_id, None),
        e.id: (d.story_id, None),
        d.id: (d.story_id, e.id),
        b.id: (b.story_id, a.id),
        c.id: (b.story_id, b.id),
        g.id: (g.story_id, None),
        f.id: (g.story_id, g.id),
        h.id: (d.story_id, d.id),
    }
    summary = {
        sid: (s.origin_item_id, s.item_count, s.site_count, s.first_published_at)
        for sid, s in stories.items()
    }
    assert summary == {
        b.story_id: (b.id, 3, 2, NOW - 3 * day),  # the earliest published is the origin
        d.story_id: (e.id, 3, 3, NOW - 5 * day),
        g.story_id: (g.id, 2, 2, NOW),  # no publish times: discovery time, then the lower id
    }


def test_sqlite_bulk_inserts_store_exactly_what_sqlalchemy_stores(sqlite_db: Database) -> None:
    (item_id,) = _stored(sqlite_db, RawItem(content="正文"))
    when = datetime(2026, 11, 21, 14, 30, 5, 123, tzinfo=ZoneInfo("Asia/Shanghai"))
    row = {"item_id": item_id, "captured_at": when, "views": 3, "reposts": None}
    spans = {"item_id": item_id, "subject_id": 1, "spans": [{"field": "content", "term": "正文"}]}
    with sqlite_db.session() as session:
        session.execute(
            text(
                "INSERT INTO subjects (id, name, kind, aliases, exclude, enabled, "
                "created_at) VALUES (1, '甲', 'topic', '[]', '[]', 1, '2026-01-01'), "
                "(2, '乙', 'topic', '[]', '[]', 1, '2026-01-01')"
            )
        )
        items._insert_many(session, insert(MetricSnapshot), [row, row])
        session.connection().execute(insert(MetricSnapshot), [row])  # SQLAlchemy's own way
        items._insert_many(session, insert(ItemSubject), [spans])
        session.connection().execute(insert(ItemSubject), [{**spans, "subject_id": 2}])
        # A Python-side default missing from the rows: SQLAlchemy fills it in.
        items._insert_many(session, insert(Story), [{"item_count": 0, "site_count": 0}])
    with sqlite_db.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT captured_at, views, reposts FROM metric_snapshots WHERE views = 3"
        ).all()
        raw_spans = conn.exec_driver_sql("SELECT spans FROM item_subjects").scalars().all()
        created = conn.exec_driver_sql("SELECT created_at FROM stories").scalar_one()
    assert stored == [("2026-11-21 06:30:05.000123", 3, None)] * 3
    assert raw_spans[0] == raw_spans[1] and json.loads(raw_spans[0]) == spans["spans"]
    assert created is not None
