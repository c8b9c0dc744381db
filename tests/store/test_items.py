"""Bulk item writes: sightings and story links for a whole batch, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from yuqing.domain import Item, Metrics, RawItem
from yuqing.pipeline.base import Batch
from yuqing.pipeline.normalize import Normalize
from yuqing.store import items
from yuqing.store.db import Database
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import MetricSnapshot, Story

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


def test_story_chains_within_a_batch_and_into_existing_stories(db: Database) -> None:
    day = timedelta(days=1)
    a, b, c, d, e = _stored(
        db,
        RawItem(content="甲", url="https://a.example/1", published=NOW - 2 * day),
        RawItem(content="乙", url="https://b.example/1", published=NOW - 3 * day),
        RawItem(content="丙", url="https://a.example/2"),
        RawItem(content="丁", url="https://c.example/1", published=NOW - day),
        RawItem(content="戊", url="https://d.example/1", published=NOW - 5 * day),
    )
    with db.session() as session:
        first = items.assign_stories(session, [(d, e)])
    with db.session() as session:
        # b copies a (no story yet), c copies b (in this batch), another item copies d.
        assigned = items.assign_stories(session, [(b, a), (c, b)])
    assert assigned[a] == assigned[b] == assigned[c] != first[d] == first[e]
    with db.session() as session:
        stories = {s.id: s for s in session.scalars(select(Story))}
        links = dict(session.execute(select(ItemRow.id, ItemRow.similar_to_id)).all())
    new = stories[assigned[a]]
    assert (new.origin_item_id, new.item_count, new.site_count) == (b, 3, 2)
    assert new.first_published_at == NOW - 3 * day
    old = stories[first[d]]
    assert (old.origin_item_id, old.item_count, old.site_count) == (e, 2, 2)
    assert links == {a: None, b: a, c: b, d: e, e: None}
