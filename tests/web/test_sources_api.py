"""/api/sources: add, list, show, remove, test and run, against sources on the fixture server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fixture_server import FixtureServer, fetching_locally
from yuqing.settings import Settings
from yuqing.store.db import Database
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import SourceRun
from yuqing.web.app import create_app

NEWS = {
    "link_selector": "ul.news-list a",
    "next_selector": "a.next",
    "max_pages": 3,
    "metrics": {"views": "span.views"},
}


@pytest.fixture
def collect_settings(sqlite_settings: Settings) -> Settings:
    return fetching_locally(sqlite_settings, runs=True)


@pytest.fixture
def api(
    collect_settings: Settings,
    sqlite_db: Database,
    web_user: Callable[[TestClient, str], TestClient],
) -> Iterator[TestClient]:
    """An admin (who may add, remove and run sources) signed in."""
    with TestClient(create_app(collect_settings, sqlite_db)) as client:
        yield web_user(client, "admin")


def _news(site: FixtureServer, **fields: Any) -> dict[str, Any]:
    return {
        "name": "滨江日报网",
        "kind": "web",
        "platform": "news",
        "media_tier": "local",
        "region": "滨江市",
        "config": {"url": site.url("news/index.html"), **NEWS},
        **fields,
    }


def _items(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(ItemRow)) or 0


def test_add_run_show_list_and_remove(
    api: TestClient, site: FixtureServer, sqlite_db: Database
) -> None:
    created = api.post("/api/sources", json=_news(site, interval_minutes=30))
    assert created.status_code == 201, created.text
    source = created.json()
    assert (source["name"], source["kind_name"], source["interval_minutes"]) == (
        "滨江日报网",
        "网页列表",
        30,
    )
    assert "token" not in source

    ran = api.post(f"/api/sources/{source['id']}/run")
    assert ran.status_code == 200
    report = ran.json()
    assert report["ok"], report["error"]
    assert (report["records"], report["imported"], report["duplicates"]) == (8, 8, 0)
    assert _items(sqlite_db) == 8

    again = api.post(f"/api/sources/{source['id']}/run").json()
    assert again["ok"] and again["imported"] == 0

    detail = api.get(f"/api/sources/{source['id']}").json()
    assert [r["imported"] for r in detail["runs"]] == [0, 8]
    assert detail["health"]["last_new"] == 0
    assert detail["health"]["items_per_run"] is not None
    listing = api.get("/api/sources").json()
    assert listing["total"] == 1
    assert listing["sources"][0]["health"]["last_success_at"]
    assert "runs" not in listing["sources"][0]

    removed = api.delete(f"/api/sources/{source['id']}")
    assert removed.json() == {"removed": source["id"], "name": "滨江日报网"}
    assert api.get("/api/sources").json() == {"total": 0, "sources": []}
    assert _items(sqlite_db) == 8  # the items stay
    with sqlite_db.session() as session:
        assert session.scalar(select(func.count()).select_from(SourceRun)) == 0


def test_test_answers_the_items_and_stores_nothing(
    api: TestClient, site: FixtureServer, sqlite_db: Database
) -> None:
    source = api.post("/api/sources", json=_news(site)).json()
    answer = api.post(f"/api/sources/{source['id']}/test")
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True
    assert len(body["items"]) == 8
    assert body["errors"] == []
    assert {"title", "url", "published", "metrics"} <= set(body["items"][0])
    assert any(i["metrics"].get("views") for i in body["items"])
    assert _items(sqlite_db) == 0
    assert api.get(f"/api/sources/{source['id']}").json()["runs"] == []


def test_a_missing_url_fails_in_words(api: TestClient, site: FixtureServer) -> None:
    config = {"url": site.url("nope/index.html"), "link_selector": "a"}
    source = api.post("/api/sources", json=_news(site, name="消失的网站", config=config)).json()
    tried = api.post(f"/api/sources/{source['id']}/test").json()
    assert tried["ok"] is False
    assert "nope/index.html" in tried["error"]
    for _ in range(2):
        report = api.post(f"/api/sources/{source['id']}/run").json()
        assert report["ok"] is False
        assert "nope/index.html" in report["error"]
    health = api.get(f"/api/sources/{source['id']}").json()["health"]
    assert health["failing"] is True
    assert health["consecutive_failures"] == 2
    assert "nope/index.html" in health["last_error"]


def test_push_source_token_once_and_no_test_or_run(api: TestClient) -> None:
    created = api.post("/api/sources", json={"name": "外部爬虫", "kind": "push"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert len(token) >= 32
    source_id = created.json()["id"]
    assert token not in api.get(f"/api/sources/{source_id}").text
    assert token not in api.get("/api/sources").text
    for action in ("test", "run"):
        refused = api.post(f"/api/sources/{source_id}/{action}")
        assert refused.status_code == 400
        assert "不能抓取" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"name": "某源", "kind": "ftp"}, "config", "未知的源类型"),
        ({"name": "某源", "kind": "rss", "config": {"uri": "x"}}, "config", "uri"),
        (
            {"name": "某源", "kind": "manual", "cron": "every day"},
            "cron",
            "定时表达式",
        ),
        ({"name": "  ", "kind": "manual"}, "name", "不能为空"),
        ({"name": "某源", "kind": "manual", "media_tier": "galactic"}, "media_tier", ""),
    ],
)
def test_bad_input_is_400_naming_the_field(
    api: TestClient, body: dict[str, Any], field: str, words: str
) -> None:
    answer = api.post("/api/sources", json=body)
    assert answer.status_code == 400, answer.text
    message = answer.json()["error"]["message"]
    assert message.startswith(f"{field}: ") and words in message
    assert api.get("/api/sources").json()["total"] == 0


def test_duplicate_names_unknown_fields_and_ids(api: TestClient) -> None:
    assert api.post("/api/sources", json={"name": "某论坛", "kind": "manual"}).status_code == 201
    duplicate = api.post("/api/sources", json={"name": "某论坛", "kind": "manual"})
    assert duplicate.status_code == 400
    assert "已有名为「某论坛」的源" in duplicate.json()["error"]["message"]
    extra = api.post("/api/sources", json={"name": "x", "kind": "manual", "color": "red"})
    assert extra.status_code == 422
    assert api.post("/api/sources", content=b"{oops").status_code == 422
    for method, path in [
        ("GET", "/api/sources/9999"),
        ("DELETE", "/api/sources/9999"),
        ("POST", "/api/sources/9999/test"),
        ("POST", "/api/sources/9999/run"),
    ]:
        answer = api.request(method, path)
        assert answer.status_code == 404, path
        assert "信息源 9999 不存在" in answer.json()["error"]["message"]
