"""GET /api/events and /api/events/{id} over the demo data with its events formed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from yuqing.pipeline.events import refresh_events
from yuqing.store.db import Database
from yuqing.store.tables import Event, Item, Subject, Unit


@pytest.fixture
def client(monitor: TestClient) -> TestClient:
    """These tests read as the head office's monitor, who sees every unit."""
    return monitor


def _all(client: TestClient, **params: object) -> list[dict[str, object]]:
    body = client.get("/api/events", params={"per_page": 200, **params}).json()
    assert body["total"] == len(body["events"])
    events: list[dict[str, object]] = body["events"]
    return events


def test_events_are_listed_by_latest_activity(client: TestClient) -> None:
    body = client.get("/api/events", params={"per_page": 5}).json()
    assert body["total"] >= 20
    assert len(body["events"]) == 5
    times = [e["last_seen_at"] for e in body["events"]]
    assert times == sorted(times, reverse=True)
    second = client.get("/api/events", params={"per_page": 5, "page": 2}).json()
    assert not {e["id"] for e in body["events"]} & {e["id"] for e in second["events"]}
    event = body["events"][0]
    assert set(event) >= {"title", "item_count", "site_count", "platform_count", "metrics"}


def test_filters_subject_unit_title_and_size(client: TestClient, sqlite_db: Database) -> None:
    everything = _all(client)
    big = _all(client, min_items=5)
    assert big and all(int(str(e["item_count"])) >= 5 for e in big)
    assert len(big) < len(everything)
    with sqlite_db.session() as session:
        branch = session.scalars(
            select(Subject).where(Subject.name == "云岭农商银行宣威支行")
        ).one()
        head = session.scalars(select(Unit).where(Unit.code == "HQ")).one()
        county = session.get(Unit, branch.unit_id)
        assert county is not None
    of_branch = _all(client, subject=branch.id)
    assert of_branch and {e["subject_id"] for e in of_branch} == {branch.id}
    assert len(of_branch) < len(everything)
    in_county = _all(client, unit=county.id)
    assert {e["unit_id"] for e in in_county} == {county.id}
    assert len(_all(client, unit=head.id)) == len(
        [e for e in everything if e["unit_id"] is not None]
    )
    words = str(big[0]["title"])[2:6]
    titled = _all(client, q=words)
    assert big[0] in titled and all(words in str(e["title"]) for e in titled)
    # LIKE wildcards are literal: "%" finds only titles with a percent sign.
    percent = _all(client, q="%")
    assert {e["id"] for e in percent} == {e["id"] for e in everything if "%" in str(e["title"])}


def test_grade_filter_is_at_least_and_follows_overrides(
    client: TestClient, sqlite_db: Database
) -> None:
    rank = {"positive": 0, "general": 1, "attention": 2, "harmful": 3, "dangerous": 4}
    everything = _all(client)
    harmful = _all(client, grade="harmful")
    assert harmful, "the demo has harmful and dangerous events"
    assert {e["id"] for e in harmful} == {
        e["id"] for e in everything if e["grade"] and rank[str(e["grade"])] >= 3
    }
    calm = next(e for e in everything if e["grade"] in ("positive", "general"))
    with sqlite_db.session() as session:
        item_id = session.scalars(select(Item.id).where(Item.event_id == calm["id"])).first()
        session.execute(update(Item).where(Item.id == item_id).values(human_grade="dangerous"))
        refresh_events(session, [int(str(calm["id"]))])
    dangerous = _all(client, grade="dangerous")
    assert calm["id"] in [e["id"] for e in dangerous]
    assert all(e["grade"] == "dangerous" for e in dangerous)


def test_time_range(client: TestClient) -> None:
    everything = _all(client)
    day = str(everything[len(everything) // 2]["last_seen_at"])[:10]
    since = _all(client, since=day)
    assert since and all(str(e["last_seen_at"]) >= day for e in since)
    until = _all(client, until=day)
    assert until and len(until) < len(everything)


def test_bad_parameters_get_the_error_shape(client: TestClient) -> None:
    bad = client.get("/api/events", params={"grade": "terrible"})
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "input"
    assert "positive" in bad.json()["error"]["message"]
    when = client.get("/api/events", params={"since": "yesterday"})
    assert when.status_code == 400 and "时间格式无效" in when.json()["error"]["message"]
    missing = client.get("/api/events/987654")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"type": "http", "message": "事件 987654 不存在"}}
    assert client.get("/api/events", params={"per_page": 0}).status_code == 422


def test_event_detail_has_origin_timeline_propagation_and_volume(
    client: TestClient, sqlite_db: Database
) -> None:
    event = _all(client, min_items=5)[0]
    body = client.get(f"/api/events/{event['id']}").json()
    assert body["event"] == event
    timeline = body["timeline"]
    assert len(timeline) == body["timeline_total"] == event["item_count"]
    assert [t["at"] for t in timeline] == sorted(t["at"] for t in timeline)
    assert body["origin"]["id"] == timeline[0]["id"] == event["origin_item_id"]
    assert body["event"]["first_seen_at"] == timeline[0]["at"]
    ids = {t["id"] for t in timeline}
    propagation = body["propagation"]
    assert sum(s["items"] for s in propagation["sites"]) == len(timeline)
    assert len(propagation["sites"]) == event["site_count"]
    assert len(propagation["platforms"]) == event["platform_count"]
    edges = propagation["edges"]
    assert len(edges) == len(timeline) - 1  # every item but the origin is reached once
    assert {e["target"] for e in edges} == ids - {event["origin_item_id"]}
    assert all(e["source"] in ids and e["kind"] in {"copy", "story", "event"} for e in edges)
    volume = body["volume"]
    assert volume["unit"] in {"hour", "day"}
    assert sum(p["items"] for p in volume["points"]) == event["item_count"]
    last = volume["points"][-1]
    metrics = event["metrics"]
    assert isinstance(metrics, dict)
    assert (last["views"], last["comments"]) == (metrics["views"], metrics["comments"])
    with sqlite_db.session() as session:
        stored = session.get(Event, event["id"])
        assert stored is not None and stored.item_count == len(timeline)
    short = client.get(f"/api/events/{event['id']}", params={"limit": 2}).json()
    assert len(short["timeline"]) == 2 and short["timeline_total"] == event["item_count"]


def test_reposts_are_copy_edges(client: TestClient, sqlite_db: Database) -> None:
    with sqlite_db.session() as session:
        copier = session.scalars(
            select(Item).where(Item.similar_to_id.is_not(None), Item.event_id.is_not(None))
        ).first()
        assert copier is not None
        event_id, source = copier.event_id, copier.similar_to_id
    edges = client.get(f"/api/events/{event_id}").json()["propagation"]["edges"]
    assert {"source": source, "target": copier.id, "kind": "copy"} in edges
