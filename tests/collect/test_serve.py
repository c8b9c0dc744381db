"""The scheduler runs inside the served app: a due source is collected without being asked."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fixture_server import FixtureServer, fetching_locally
from yuqing.collect.manage import SourceInput, add_source
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import Source as SourceRow
from yuqing.web.app import create_app

NEWS = {"link_selector": "ul.news-list a", "next_selector": "a.next", "max_pages": 3}


def test_serve_collects_due_sources_on_its_own(
    db: Database, settings: Settings, site: FixtureServer
) -> None:
    settings = fetching_locally(settings, runs=True)
    with db.session() as session:
        source, _ = add_source(
            session,
            load_standard(),
            SourceInput(
                name="滨江日报网", kind="web", config={"url": site.url("news/index.html"), **NEWS}
            ),
            datetime.now(UTC),
        )
        source_id = source.id

    def stored() -> int:
        with db.session() as session:
            return session.scalar(select(func.count()).where(ItemRow.source_id == source_id)) or 0

    idle = create_app(settings, db)
    with TestClient(idle):
        time.sleep(1.0)
    assert stored() == 0  # without `schedule` nothing runs by itself

    app = create_app(settings, db, schedule=True)
    with TestClient(app):
        deadline = time.monotonic() + 30
        while stored() < 8 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert stored() == 8
    with db.session() as session:
        row = session.get(SourceRow, source_id)
        assert row is not None and row.last_success_at is not None
        assert row.next_run_at is not None and row.next_run_at > row.last_success_at
