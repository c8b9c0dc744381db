"""The sources pages in headless Chromium: the list, a failing source, 「立即抓取」."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from live import Chromium, served
from playwright.sync_api import Page

from fixture_server import FixtureServer, fetching_locally
from yuqing.collect.manage import SourceInput, add_source
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database
from yuqing.web.app import create_app

STANDARD = load_standard()
NEWS = {
    "link_selector": "ul.news-list a",
    "next_selector": "a.next",
    "max_pages": 3,
    "metrics": {"views": "span.views"},
}
pytestmark = pytest.mark.browser


@pytest.fixture
def sources_url(sqlite_settings: Settings, sqlite_db: Database) -> Iterator[str]:
    """An app that may fetch the local fixture server, served by uvicorn on a free port."""
    with served(create_app(fetching_locally(sqlite_settings, runs=True), sqlite_db)) as url:
        yield url


def _add(db: Database, **fields: Any) -> int:
    with db.session() as session:
        row, _token = add_source(session, STANDARD, SourceInput(**fields), datetime.now(UTC))
        return row.id


def test_sources_list_and_run_now(
    sources_url: str,
    sqlite_db: Database,
    site: FixtureServer,
    chromium: Chromium,
    tmp_path: Path,
    role_user: Callable[[str], tuple[str, str]],
    page_sign_in: Callable[[Page, str, str, str], None],
) -> None:
    news = _add(
        sqlite_db,
        name="滨江日报网",
        kind="web",
        platform="news",
        config={"url": site.url("news/index.html"), **NEWS},
    )
    hostile = _add(
        sqlite_db,
        name="<script>alert(1)</script>",
        kind="rss",
        region="<img src=x onerror=alert(2)>",
        config={"url": site.url("nope/feed.xml")},
    )
    page = chromium.new_page()
    page_sign_in(page, sources_url, *role_user("admin"))
    csrf = page.evaluate("() => JSON.parse(document.body.getAttribute('hx-headers'))")
    for _ in range(2):
        failed = page.request.post(f"{sources_url}/api/sources/{hostile}/run", headers=csrf)
        assert not failed.json()["ok"]
    page.goto(sources_url + "/")
    page.click("header nav a[href='/sources']")
    page.wait_for_url("**/sources")
    assert page.locator("tr.source").count() == 2
    failing = page.locator(f"tr.source[data-id='{hostile}']")
    assert failing.locator(".badge.failing").inner_text() == "连续失败"
    assert failing.locator("td").first.inner_text().startswith("<script>alert(1)</script>")
    assert "nope/feed.xml" in failing.locator("td.last-error").inner_text()
    page.screenshot(path=str(tmp_path / "sources.png"), full_page=True)

    page.click(f"tr.source[data-id='{news}'] td a")
    page.wait_for_url(f"**/sources/{news}")
    assert "尚未抓取过" in page.locator("article.source").inner_text()
    page.click("form.run-now button")
    page.wait_for_url(f"**/sources/{news}?ran=1", timeout=30_000)
    assert page.locator("p.ran-ok").inner_text() == "抓取完成：8 条，新增 8，重复 0，拒收 0。"
    assert page.locator("tr.run.ok").count() == 1
    page.screenshot(path=str(tmp_path / "source.png"), full_page=True)

    page.goto(f"{sources_url}/sources/{hostile}")
    assert page.locator("h1").inner_text().startswith("<script>alert(1)</script>")
    assert page.locator("tr.run.failed").count() == 2
    dialogs = chromium.dialogs
    assert dialogs == [], f"user text ran as script in the page: {dialogs}"
