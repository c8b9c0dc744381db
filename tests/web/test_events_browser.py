"""The event page in headless Chromium (Debian's package, driven by Playwright): ECharts draws
the propagation graph on a canvas, and hostile crawled text never runs as script."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from live import Chromium
from playwright.sync_api import Page
from sqlalchemy import select, update

from yuqing.store.db import Database
from yuqing.store.tables import Event, Item
from yuqing.web.templating import vendor_available

HOSTILE = '</script><script>alert("title")</script><img src=x onerror=alert("img")>'
pytestmark = pytest.mark.browser


@pytest.fixture
def hostile_event(demo_app: FastAPI, sqlite_db: Database) -> int:
    """The demo's biggest event, given hostile titles and terms."""
    with sqlite_db.session() as session:
        event_id = session.scalars(
            select(Event.id).order_by(Event.item_count.desc(), Event.id)
        ).first()
        assert event_id is not None
        session.execute(
            update(Event).where(Event.id == event_id).values(title=HOSTILE, key_terms=[HOSTILE])
        )
        first = session.scalars(select(Item.id).where(Item.event_id == event_id)).first()
        session.execute(update(Item).where(Item.id == first).values(title=HOSTILE))
    return event_id


def test_event_page_draws_the_graph_and_runs_no_injected_script(
    live_url: str,
    hostile_event: int,
    chromium: Chromium,
    tmp_path: Path,
    page_sign_in: Callable[[Page, str, str, str], None],
) -> None:
    assert vendor_available("echarts.min.js"), "run `make assets` to install ECharts from npm"
    errors: list[str] = []
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page_sign_in(page, live_url, "viewer", "yuqing-demo-2026")
    page.goto(live_url + "/events?q=alert")  # the hostile event, on whatever page
    assert "舆情事件" in page.inner_text("h1")
    page.click(f'tr.event[data-id="{hostile_event}"] a')
    page.wait_for_url(f"**/events/{hostile_event}")
    page.wait_for_selector("#propagation-graph canvas")
    page.wait_for_selector("#volume-chart canvas")
    box = page.locator("#propagation-graph canvas").first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300
    assert HOSTILE in page.locator("h1").inner_text()  # shown as text
    assert page.locator("table.timeline tbody tr").count() >= 5
    # Hovering the nodes shows tooltips built from crawled text: still nothing may run.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / "event.png"), full_page=True)
    dialogs = chromium.dialogs
    assert dialogs == [], f"crawled script ran in the page: {dialogs}"
    assert errors == [], f"script errors on the page: {errors}"
