"""The demo's sources: created once, the push token shown once, the folder inbox collectable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from yuqing.collect.runner import Collector
from yuqing.demo import install_demo
from yuqing.settings import Settings
from yuqing.store import sources as source_store
from yuqing.store.db import Database

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def test_demo_sources_and_their_inbox(db: Database, settings: Settings) -> None:
    first = install_demo(db, settings, NOW)
    assert first.push_token
    again = install_demo(db, settings, NOW)
    assert again.push_token is None  # never shown twice
    with db.session() as session:
        rows = {row.kind: row for row in source_store.list_sources(session)}
        assert set(rows) == {"manual", "push", "file"}
        assert source_store.source_by_token(session, first.push_token) is not None
        folder_id = rows["file"].id
    report = asyncio.run(Collector(db, settings).run(folder_id))
    assert report.ok, report.error
    assert report.imported == 3 and report.rejected == 0
