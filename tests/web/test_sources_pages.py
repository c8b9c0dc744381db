"""The Chinese sources pages: the list with health, one source with its runs, 「立即抓取」."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

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
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def collect_settings(sqlite_settings: Settings) -> Settings:
    return fetching_locally(sqlite_settings, runs=True)


@pytest.fixture
def web(
    collect_settings: Settings,
    sqlite_db: Database,
    web_user: Callable[[TestClient, str], TestClient],
) -> Iterator[TestClient]:
    """An admin (who may run sources) signed in."""
    with TestClient(create_app(collect_settings, sqlite_db)) as client:
        yield web_user(client, "admin")


def _add(db: Database, **fields: Any) -> int:
    with db.session() as session:
        row, _token = add_source(session, STANDARD, SourceInput(**fields), datetime.now(UTC))
        return row.id


def _row(html: str, source_id: int) -> str:
    match = re.search(rf'<tr class="source[^"]*" data-id="{source_id}">(.*?)</tr>', html, re.S)
    assert match, html
    return match.group(1)


def _cells(row_html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>|\s+", " ", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)
    ]


def test_the_list_shows_health_and_flags_failing_sources(
    web: TestClient, sqlite_db: Database, site: FixtureServer
) -> None:
    good = _add(
        sqlite_db,
        name="滨江日报网",
        kind="web",
        platform="news",
        media_tier="local",
        region="滨江市",
        interval_minutes=30,
        config={"url": site.url("news/index.html"), **NEWS},
    )
    bad = _add(
        sqlite_db,
        name="消失的论坛",
        kind="rss",
        cron="0 8,12,17 * * 1-5",
        config={"url": site.url("nope/feed.xml")},
    )
    manual = _add(sqlite_db, name="报刊录入", kind="manual")
    assert web.post(f"/api/sources/{good}/run").json()["ok"]
    for _ in range(2):
        assert not web.post(f"/api/sources/{bad}/run").json()["ok"]

    page = web.get("/sources")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/sources">信息源</a>' in html
    for header in ("名称", "类型", "平台", "媒体级别", "地区", "抓取计划", "最近成功", "最近错误"):
        assert f"<th>{header}</th>" in html
    for header in ("每次条数", "新增/重复", "平均延迟"):
        assert f"<th>{header}</th>" in html
    cells = _cells(_row(html, good))
    assert cells[:6] == ["滨江日报网", "网页列表", "新闻网站", "地方媒体", "滨江市", "每 30 分钟"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", cells[6])
    assert cells[7] == "—"
    assert cells[8:10] == ["8.0", "8 / 0"]
    assert cells[10].endswith("毫秒")
    assert "连续失败" not in _row(html, good)

    failing = _row(html, bad)
    assert 'class="badge escalated failing"' in failing and "连续失败" in failing
    failing_cells = _cells(failing)
    assert failing_cells[5] == "定时 0 8,12,17 * * 1-5"
    assert failing_cells[6] == "从未"
    assert "nope/feed.xml" in failing_cells[7]
    assert _cells(_row(html, manual))[5] == "不定时（外部推送或人工录入）"


def test_the_source_page_runs_now_and_shows_the_result(
    web: TestClient, sqlite_db: Database, site: FixtureServer
) -> None:
    source_id = _add(
        sqlite_db,
        name="滨江日报网",
        kind="web",
        platform="news",
        config={"url": site.url("news/index.html"), **NEWS},
    )
    before = web.get(f"/sources/{source_id}")
    assert before.status_code == 200
    assert "尚未抓取过。" in before.text
    assert f'action="/sources/{source_id}/run"' in before.text and "立即抓取" in before.text
    assert "默认（每" in before.text

    ran = web.post(f"/sources/{source_id}/run", follow_redirects=False)
    assert ran.status_code == 303
    assert ran.headers["location"] == f"/sources/{source_id}?ran=1"
    after = web.get(ran.headers["location"]).text
    assert "抓取完成：8 条，新增 8，重复 0，拒收 0。" in after
    assert "最近 1 次抓取" in after
    runs = re.findall(r'<tr class="run (ok|failed)">', after)
    assert runs == ["ok"]
    assert web.get(f"/sources/{source_id}").text.count("抓取完成") == 0


def test_a_failed_run_shows_its_error_in_words(
    web: TestClient, sqlite_db: Database, site: FixtureServer
) -> None:
    source_id = _add(
        sqlite_db, name="消失的网站", kind="rss", config={"url": site.url("nope/feed.xml")}
    )
    after = web.post(f"/sources/{source_id}/run").text  # follows the redirect
    assert "抓取失败：" in after and "nope/feed.xml" in after
    assert re.findall(r'<tr class="run (ok|failed)">', after) == ["failed"]


def test_secret_headers_are_not_shown(web: TestClient, sqlite_db: Database) -> None:
    config = {
        "url": "https://api.example.cn/posts",
        "headers": {"X-Api-Key": "s3cret-value"},
        "items": "data",
        "fields": {"content": "text"},
    }
    source_id = _add(sqlite_db, name="投诉平台", kind="json", config=config)
    html = web.get(f"/sources/{source_id}").text
    assert "X-Api-Key" in html and "******" in html
    assert "s3cret-value" not in html
    assert "https://api.example.cn/posts" in html


def test_unknown_and_passive_sources(web: TestClient, sqlite_db: Database) -> None:
    assert web.get("/sources/9999").status_code == 404
    assert "信息源 9999 不存在" in web.get("/sources/9999").text
    assert web.post("/sources/9999/run").status_code == 404
    assert "还没有信息源" in web.get("/sources").text
    manual = _add(sqlite_db, name="报刊录入", kind="manual")
    page = web.get(f"/sources/{manual}").text
    assert "立即抓取" not in page and "无需抓取" in page
    refused = web.post(f"/sources/{manual}/run")
    assert refused.status_code == 400
    assert "不能抓取" in refused.text


def test_crawled_and_user_text_is_escaped(
    web: TestClient, sqlite_db: Database, site: FixtureServer
) -> None:
    source_id = _add(
        sqlite_db,
        name=SCRIPT,
        kind="rss",
        region=SCRIPT,
        config={"url": site.url(f"nope/{SCRIPT}.xml")},
    )
    web.post(f"/api/sources/{source_id}/run")
    for path in ("/sources", f"/sources/{source_id}"):
        html = web.get(path).text
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
