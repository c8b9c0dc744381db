"""The Chinese items page: search, filters, highlighting, and crawled text always escaped."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(monitor: TestClient) -> TestClient:
    """These tests read as the head office's monitor, who sees every unit."""
    return monitor


def test_page_lists_demo_items_in_chinese(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert re.search(r"共 \d{3} 条", page.text)
    assert page.text.count('class="item"') == 20


def test_search_highlights_hits(client: TestClient) -> None:
    page = client.get("/", params={"q": "挤兑"})
    assert "<mark>挤兑</mark>" in page.text or "<mark>擠兌</mark>" in page.text


def test_crawled_html_is_escaped(client: TestClient) -> None:
    api = client.get("/api/items", params={"q": "alert", "per_page": 50}).json()
    for page_text in [client.get("/").text] + [
        client.get(f"/items/{i['id']}").text for i in api["items"]
    ]:
        assert "<script>alert" not in page_text
        assert "onerror=" not in page_text.replace("onerror=&", "")


def test_hostile_query_is_escaped_and_explained(client: TestClient) -> None:
    page = client.get("/", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    bad = client.get("/", params={"since": "not-a-date"})
    assert bad.status_code == 400
    assert "时间格式无效" in bad.text


def test_item_page_shows_story_and_metrics(client: TestClient) -> None:
    items = client.get("/api/items", params={"per_page": 200}).json()["items"]
    member = next(i for i in items if i["story_id"])
    page = client.get(f"/items/{member['id']}")
    assert page.status_code == 200
    assert "同源" in page.text and "首发" in page.text
    assert client.get("/items/987654").status_code == 404
