"""Running sources into the database: items, health, state, failures, revisits, the scheduler."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fixture_server import FixtureServer, fetching_locally, reply
from yuqing.collect.manage import SourceInput, add_source, describe
from yuqing.collect.runner import Collector
from yuqing.collect.scheduler import Scheduler
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import MetricSnapshot
from yuqing.store.tables import Source as SourceRow

STANDARD = load_standard()
NEWS = {
    "link_selector": "ul.news-list a",
    "next_selector": "a.next",
    "max_pages": 3,
    "metrics": {"views": "span.views"},
}
ARTICLE = Path(__file__).parents[1] / "fixtures/sites/news/articles/1.html"


@pytest.fixture
def collect_settings(settings: Settings) -> Settings:
    return fetching_locally(settings, runs=True)


def _add(db: Database, **fields: Any) -> int:
    with db.session() as session:
        row, _token = add_source(session, STANDARD, SourceInput(**fields), datetime.now(UTC))
        return row.id


def _row(db: Database, source_id: int) -> SourceRow:
    with db.session() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None
        session.expunge(row)
        return row


def test_a_web_source_fills_the_database_and_its_health(
    db: Database, collect_settings: Settings, site: FixtureServer
) -> None:
    source_id = _add(
        db,
        name="滨江日报网",
        kind="web",
        platform="news",
        media_tier="local",
        region="滨江市",
        config={"url": site.url("news/index.html"), **NEWS},
    )
    collector = Collector(db, collect_settings)
    first = asyncio.run(collector.run(source_id))
    assert first.ok, first.error
    assert (first.records, first.imported, first.duplicates) == (8, 8, 0)
    with db.session() as session:
        rows = session.scalars(select(ItemRow).where(ItemRow.source_id == source_id)).all()
        assert len(rows) == 8
        assert {(r.platform, r.media_tier, r.region) for r in rows} == {("news", "local", "滨江市")}
        assert all(r.grade for r in rows)  # analysed and graded on the way in
        shown = describe(session, STANDARD, session.get(SourceRow, source_id), runs=5)
    health = shown["health"]
    assert health["last_success_at"] and health["last_error"] is None
    assert health["items_per_run"] == 8 and health["last_new"] == 8
    assert health["avg_latency_ms"] is not None and health["items_total"] == 8
    assert shown["runs"][0]["imported"] == 8
    row = _row(db, source_id)
    assert row.state["seen"] and row.next_run_at > row.last_run_at  # type: ignore[operator]

    # The second run collects no article it has seen; it fetches them again only as revisits
    # for fresh counters: sightings of known items, not new ones.
    second = asyncio.run(collector.run(source_id))
    assert second.ok and second.records == 0 and second.imported == 0
    assert second.revisited == 8 and second.snapshots == 0  # counters unchanged: no snapshot


def test_failures_are_words_on_the_source_and_flag_it_after_the_limit(
    db: Database, collect_settings: Settings, site: FixtureServer
) -> None:
    source_id = _add(db, name="坏源", kind="rss", config={"url": site.url("feeds/missing.xml")})
    collector = Collector(db, collect_settings)
    one = asyncio.run(collector.run(source_id))
    assert not one.ok and "404" in (one.error or "")
    row = _row(db, source_id)
    assert row.last_error == one.error and row.consecutive_failures == 1 and not row.failing
    two = asyncio.run(collector.run(source_id))
    assert not two.ok
    row = _row(db, source_id)
    assert row.failing and row.consecutive_failures == 2
    # A failing source waits a day instead of being retried every interval.
    assert row.next_run_at is not None and row.last_run_at is not None
    assert row.next_run_at - row.last_run_at >= timedelta(hours=23)


def test_hostile_sources_end_in_errors_and_the_next_source_still_runs(
    db: Database, collect_settings: Settings, site: FixtureServer
) -> None:
    def loop(request: BaseHTTPRequestHandler) -> None:
        reply(request, 302, "", headers={"Location": "/loop"})

    def broken(request: BaseHTTPRequestHandler) -> None:
        reply(request, 500, "boom")

    site.route("loop", loop)
    site.route("broken.xml", broken)
    bad = [
        _add(db, name="循环", kind="rss", config={"url": site.url("loop")}),
        _add(db, name="五百", kind="rss", config={"url": site.url("broken.xml")}),
        _add(db, name="畸形", kind="rss", config={"url": site.url("feeds/fake.xml")}),
    ]
    good = _add(db, name="好源", kind="web", config={"url": site.url("news/index.html"), **NEWS})
    collector = Collector(db, collect_settings)
    scheduler = Scheduler(collector, max_parallel=2)

    async def once() -> list[Any]:
        tasks = await scheduler.tick()
        return list(await asyncio.gather(*tasks))

    reports = {r.source_id: r for r in asyncio.run(once())}
    assert set(reports) == {*bad, good}
    assert reports[good].ok and reports[good].imported == 8
    for source_id in bad:
        assert not reports[source_id].ok
        assert reports[source_id].error
    assert "重定向" in (reports[bad[0]].error or "")
    assert "500" in (reports[bad[1]].error or "")
    # Nothing is due right after a tick: every run set its next time.
    assert asyncio.run(scheduler.tick()) == []


def test_a_run_in_progress_is_not_started_twice(
    db: Database, collect_settings: Settings, site: FixtureServer
) -> None:
    source_id = _add(
        db, name="慢源", kind="web", config={"url": site.url("news/index.html"), **NEWS}
    )
    collector = Collector(db, collect_settings)

    async def both() -> list[Any]:
        return list(await asyncio.gather(collector.run(source_id), collector.run(source_id)))

    first, second = asyncio.run(both())
    assert first.ok
    assert not second.ok and "尚未结束" in (second.error or "")


def test_revisits_write_metric_snapshots(
    db: Database, collect_settings: Settings, site: FixtureServer
) -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    views = itertools.count(1)

    def listing(request: BaseHTTPRequestHandler) -> None:
        reply(request, 200, '<ul class="news-list"><li><a href="/hot.html">热点</a></li></ul>')

    def hot(request: BaseHTTPRequestHandler) -> None:
        reply(request, 200, article.replace("阅读 1.2万", f"阅读 {next(views)}万"))

    site.route("list.html", listing)
    site.route("hot.html", hot)
    source_id = _add(
        db,
        name="热点网",
        kind="web",
        config={
            "url": site.url("list.html"),
            "link_selector": "ul.news-list a",
            "metrics": {"views": "span.views"},
        },
    )
    collector = Collector(db, collect_settings)
    assert asyncio.run(collector.run(source_id)).imported == 1
    again = asyncio.run(collector.run(source_id))
    assert again.ok and again.revisited == 1 and again.snapshots >= 1
    with db.session() as session:
        item = session.scalars(select(ItemRow).where(ItemRow.source_id == source_id)).one()
        snapshots = session.scalar(select(func.count()).where(MetricSnapshot.item_id == item.id))
        assert item.views == 20_000
    assert snapshots and snapshots >= 2


def test_header_values_never_leave_the_database(db: Database) -> None:
    source_id = _add(
        db,
        name="接口",
        kind="json",
        config={
            "url": "https://api.example.cn/posts",
            "items": "data",
            "fields": {"content": "text"},
            "headers": {"X-Api-Key": "s3cr3t"},
        },
    )
    with db.session() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None and row.config["headers"] == {"X-Api-Key": "s3cr3t"}
        shown = describe(session, STANDARD, row)
    assert shown["config"]["headers"] == {"X-Api-Key": "***"}
    assert "s3cr3t" not in str(shown)
