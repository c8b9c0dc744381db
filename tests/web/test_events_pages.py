"""The Chinese event pages: the list with filters, one event with its tables and chart data,
and crawled text (titles, key terms) always escaped, in HTML and in the JSON block."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from yuqing.store.db import Database
from yuqing.store.tables import Event, Item


@pytest.fixture
def client(monitor: TestClient) -> TestClient:
    """These tests read as the head office's monitor, who sees every unit."""
    return monitor


HOSTILE = '</script><script>alert("t")</script><img src=x onerror=alert(1)>'


def _big_event(db: Database) -> Event:
    with db.session() as session:
        event = session.scalars(select(Event).order_by(Event.item_count.desc(), Event.id)).first()
        assert event is not None and event.item_count >= 5
        session.expunge(event)
        return event


def test_events_page_lists_events_in_chinese(client: TestClient) -> None:
    page = client.get("/events")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert re.search(r"共 \d+ 个事件", page.text)
    assert page.text.count('class="event"') == 20
    assert '<a href="/events">事件</a>' in page.text  # the navigation link
    big = client.get("/events", params={"min_items": "5"})
    assert 0 < big.text.count('class="event"') < 20


def test_bad_filters_are_explained(client: TestClient) -> None:
    bad = client.get("/events", params={"grade": "terrible"})
    assert bad.status_code == 400 and "舆情等级" in bad.text
    when = client.get("/events", params={"since": "<b>x</b>"})
    assert when.status_code == 400 and "时间格式无效" in when.text
    assert "<b>x</b>" not in when.text


def test_event_page_shows_summary_tables_and_chart_data(
    client: TestClient, sqlite_db: Database
) -> None:
    event = _big_event(sqlite_db)
    page = client.get(f"/events/{event.id}")
    assert page.status_code == 200
    for heading in ("声量走势", "传播路径", "时间线", "传播站点", "首次出现", "最近动态"):
        assert heading in page.text
    assert page.text.count("<tr data-id=") == event.item_count
    assert '<div id="propagation-graph"' in page.text
    assert '<script src="/static/events.js" defer></script>' in page.text
    block = re.search(r'<script type="application/json" id="event-data">(.*?)</script>', page.text)
    assert block is not None
    data = json.loads(block.group(1))
    assert len(data["graph"]["nodes"]) == event.item_count
    assert len(data["graph"]["edges"]) == event.item_count - 1
    assert sum(p["items"] for p in data["volume"]["points"]) == event.item_count
    assert client.get("/events/987654").status_code == 404


def test_hostile_titles_and_terms_are_escaped(client: TestClient, sqlite_db: Database) -> None:
    event = _big_event(sqlite_db)
    with sqlite_db.session() as session:
        session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(title=HOSTILE, key_terms=[HOSTILE, "挤兑"])
        )
        session.execute(update(Item).where(Item.event_id == event.id).values(title=HOSTILE))
    listing = client.get("/events", params={"q": "alert"})  # on whatever page it falls
    detail = client.get(f"/events/{event.id}")
    for text in (listing.text, detail.text):
        assert "<script>alert" not in text
        assert "<img src=x" not in text
        assert "&lt;script&gt;alert" in text
    # In the JSON block the text stays data: no closing tag can end the block early.
    block = re.search(r'id="event-data">(.*?)</script>', detail.text, re.S)
    assert block is not None and "<" not in block.group(1)
    names = {n["name"] for n in json.loads(block.group(1))["graph"]["nodes"]}
    assert names == {HOSTILE}
    api = client.get(f"/api/events/{event.id}").json()
    assert api["event"]["title"] == HOSTILE  # the API returns the text as it is, as JSON
