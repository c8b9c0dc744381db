"""The items page in headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from live import Chromium
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_search_and_open_an_item(
    live_url: str,
    chromium: Chromium,
    tmp_path: Path,
    page_sign_in: Callable[[Page, str, str, str], None],
) -> None:
    page = chromium.new_page()
    page_sign_in(page, live_url, "monitor", "yuqing-demo-2026")
    assert "舆情" in page.title()
    assert page.locator("li.item").count() == 20
    page.fill("input[name=q]", "挤兑")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**q=*")
    page.wait_for_selector("li.item mark")
    total = page.locator("p.total").inner_text()
    assert total.startswith("共 ") and total != "共 0 条"
    marks = page.locator("li.item mark").all_inner_texts()
    assert set(marks) <= {"挤兑", "擠兌"}
    page.select_option("select[name=platform]", "weibo")
    page.wait_for_url("**platform=weibo*")
    page.wait_for_selector("li.item, p.empty")
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    page.locator("li.item h3 a").first.click()
    page.wait_for_selector("article.detail")
    assert page.locator("article.detail mark").count() >= 0
    # The hostile demo item: its script must render as text, never run.
    page.goto(live_url + "/?q=alert")
    hrefs = [link.get_attribute("href") for link in page.locator("li.item h3 a").all()[:5]]
    for href in hrefs:
        assert href is not None
        page.goto(live_url + href)  # the signed-in page: a new one would be a new session
        page.wait_for_selector("article.detail")
    dialogs = chromium.dialogs
    assert dialogs == [], f"crawled script ran in the page: {dialogs}"
