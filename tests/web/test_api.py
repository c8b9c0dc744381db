"""The JSON API over the demo data: listing, filters, search, paging, one item, errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(monitor: TestClient) -> TestClient:
    """These tests read as the head office's monitor, who sees every unit."""
    return monitor


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["items"] >= 300


def test_items_are_paged_newest_first(client: TestClient) -> None:
    first = client.get("/api/items", params={"per_page": 50}).json()
    assert first["total"] >= 300
    assert len(first["items"]) == 50
    times = [i["published_at"] or i["discovered_at"] for i in first["items"]]
    assert times == sorted(times, reverse=True)
    second = client.get("/api/items", params={"per_page": 50, "page": 2}).json()
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


def test_full_text_search_finds_two_character_terms(client: TestClient) -> None:
    body = client.get("/api/items", params={"q": "挤兑"}).json()
    assert body["total"] > 0
    for item in body["items"]:
        detail = client.get(f"/api/items/{item['id']}").json()
        assert "挤兑" in detail["title"] + detail["content"] or "擠兌" in detail["content"]


def test_platform_and_subject_filters(client: TestClient) -> None:
    weibo = client.get("/api/items", params={"platform": "weibo", "per_page": 200}).json()
    assert weibo["total"] > 0
    assert {i["platform"] for i in weibo["items"]} == {"weibo"}
    subject_id = next(
        s
        for i in client.get("/api/items", params={"per_page": 200}).json()["items"]
        for s in i["subjects"]
    )
    matched = client.get("/api/items", params={"subject": subject_id, "per_page": 200}).json()
    assert matched["total"] > 0
    assert all(subject_id in i["subjects"] for i in matched["items"])


def test_time_range_filter(client: TestClient) -> None:
    everything = client.get("/api/items").json()["total"]
    recent = client.get("/api/items", params={"since": "2026-11-14"}).json()
    old = client.get("/api/items", params={"until": "2026-11-13"}).json()  # through that day
    assert 0 < recent["total"] < everything
    assert recent["total"] + old["total"] == everything


def test_item_detail_has_snapshots_story_and_spans(client: TestClient) -> None:
    items = client.get("/api/items", params={"per_page": 200}).json()["items"]
    in_story = next(i for i in items if i["story_id"])
    detail = client.get(f"/api/items/{in_story['id']}").json()
    assert detail["story"]["item_count"] >= 2
    assert detail["story"]["origin_item_id"]
    matched = next(i for i in items if i["subjects"])
    detail = client.get(f"/api/items/{matched['id']}").json()
    span = detail["matches"][0]["spans"][0]
    text = detail["title"] if span["field"] == "title" else detail["content"]
    assert len(text[span["start"] : span["end"]]) == span["end"] - span["start"] > 0


def test_errors_are_one_json_shape(client: TestClient) -> None:
    missing = client.get("/api/items/999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "条目 999999 不存在"
    bad_platform = client.get("/api/items", params={"platform": "myspace"})
    assert bad_platform.status_code == 400
    assert "平台" in bad_platform.json()["error"]["message"]
    bad_time = client.get("/api/items", params={"since": "yesterday"})
    assert bad_time.status_code == 400
    assert "时间格式无效" in bad_time.json()["error"]["message"]
    only_excluded = client.get("/api/items", params={"q": "-招聘"})
    assert only_excluded.status_code == 400
    bad_page = client.get("/api/items", params={"page": 0})
    assert bad_page.status_code == 422
    assert bad_page.json()["error"]["type"] == "validation"
