"""The items page in headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Dialog, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.browser


def test_search_and_open_an_item(live_url: str, tmp_path: Path) -> None:
    assert CHROMIUM.exists(), "install Debian's chromium package (make browser)"
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()

        def on_dialog(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(live_url + "/")
        assert "舆情" in page.title()
        assert page.locator("li.item").count() == 20
        page.fill("input[name=q]", "挤兑")
        page.click("button[type=submit]")
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
        for link in page.locator("li.item h3 a").all()[:5]:
            href = link.get_attribute("href")
            assert href is not None
            detail = browser.new_page()
            detail.on("dialog", on_dialog)
            detail.goto(live_url + href)
            detail.close()
        browser.close()
    assert dialogs == [], f"crawled script ran in the page: {dialogs}"
