"""A case walked to closure in headless Chromium: a monitor, the office and a leader each sign
in through /login and use only the page's own forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from case_helpers import PASSWORD, negative_item
from live import Chromium
from playwright.sync_api import Page

from yuqing.store.db import Database

pytestmark = pytest.mark.browser


def sign_in(chromium: Chromium, live_url: str, username: str, target: str) -> Page:
    """A fresh browser (its own cookies) signed in as `username`, then at `target`."""
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_url}/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"**{target}")
    assert errors == [], errors
    return page


def do(page: Page, action: str, fill: dict[str, str], check: tuple[str, ...] = ()) -> None:
    """Open the action's form, fill it in, submit it and wait for the case page again."""
    form = f"#action-{action}"
    page.click(f"{form} summary")
    for name, value in fill.items():
        field = page.locator(f"{form} [name={name}]").last
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    for label in check:
        page.locator(f"{form} label.measure", has_text=label).locator("input").check()
    page.click(f"{form} button[type=submit]")
    page.wait_for_url("**#timeline")
    assert page.locator("p.error").count() == 0, page.locator("p.error").inner_text()


def test_monitor_office_and_leader_close_a_case_in_the_browser(
    live_url: str, sqlite_db: Database, chromium: Chromium, tmp_path: Path
) -> None:
    item_id = negative_item(sqlite_db, "monitor")
    monitor = sign_in(chromium, live_url, "monitor", f"/items/{item_id}")
    monitor.click("form.case-open button[type=submit]")
    monitor.wait_for_url("**/cases/*")
    case_path = "/cases/" + monitor.url.rsplit("/cases/", 1)[1]
    assert monitor.locator("article.case-detail").get_attribute("data-state") == "draft"
    assert "舆情信息报告处理单" in monitor.inner_text("h1")
    do(monitor, "phone_report", {"note": "10:05 已电话报告办公室值班室"})
    assert "已电话报告办公室值班室" in monitor.inner_text("#timeline + table")

    office = sign_in(chromium, live_url, "office", case_path)
    do(office, "report", {"reporting_opinion": "该帖涉及我行，建议报请领导阅示。"})
    assert office.locator("article.case-detail").get_attribute("data-state") == "reported"

    leader = sign_in(chromium, live_url, "leader", case_path)
    assert leader.locator("details.action summary").all_inner_texts() == ["领导批示", "提出意见"]
    do(leader, "instruct", {"instruction": "请办公室核实情况，妥善回应。"})
    assert "签批人：周明远（leader）" in leader.inner_text("table.paper-form")

    office.reload()
    do(
        office,
        "handle",
        {"handling_opinion": "拟定统一口径，在原帖下回复说明。"},
        ("拟定应对口径",),
    )
    do(office, "close", {"result": "已澄清", "implementation": "已在原帖下回复，发帖人已删帖。"})
    assert office.locator("article.case-detail").get_attribute("data-state") == "closed"
    form_text = office.inner_text("table.paper-form")
    for expected in ("已澄清", "拟定应对口径", "已在原帖下回复", "该帖涉及我行"):
        assert expected in form_text, expected
    assert office.locator("details.action").count() == 0
    steps = office.locator("table.case-timeline tbody tr").all_inner_texts()
    assert len(steps) == 6 and "办结" in steps[-1]

    monitor.goto(f"{live_url}/cases")
    row = monitor.locator(f"tr.case[data-id='{case_path.rsplit('/', 1)[1]}']")
    assert "已办结" in row.inner_text()
    office.screenshot(path=str(tmp_path / "case.png"), full_page=True)
    assert chromium.dialogs == []
