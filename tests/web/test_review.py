"""Human review of an item: API, page form and CLI keep both machine and human values."""

from __future__ import annotations

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from yuqing.cli import app
from yuqing.settings import Settings
from yuqing.store import audit
from yuqing.store.db import Database


@pytest.fixture
def client(monitor: TestClient) -> TestClient:
    """These tests read as the head office's monitor, who sees every unit."""
    return monitor


def _first_id(client: TestClient) -> int:
    return int(client.get("/api/items", params={"per_page": 1}).json()["items"][0]["id"])


def test_api_review_keeps_machine_values_and_records_history(
    client: TestClient, sqlite_db: Database
) -> None:
    item_id = _first_id(client)
    before = client.get(f"/api/items/{item_id}").json()
    response = client.post(
        f"/api/items/{item_id}/review",
        json={"grade": "harmful", "category": "306", "note": "已核实为挤兑传言", "by": "张监测"},
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["grade"] == "harmful"
    assert after["category"] == "306"
    assert after["machine"] == before["machine"]
    assert after["review"]["note"] == "已核实为挤兑传言"
    assert after["review"]["by"] == "李若溪（monitor）"  # the signed-in reviewer; `by` is ignored
    override = after["grade_history"][-1]
    assert override["by"] == "human" and override["cause"] == "override"
    assert override["previous"] == before["grade"] and override["grade"] == "harmful"
    listed = client.get("/api/items", params={"grade": "harmful", "category": "300"}).json()
    assert item_id in [i["id"] for i in listed["items"]]
    with sqlite_db.session() as session:
        [entry] = audit.recent(session, target_type="item", target_id=item_id)
        assert (entry.actor, entry.action) == ("李若溪（monitor）", "item.override")
        assert entry.detail == {
            "previous": {"grade": before["grade"], "category": before["category"]},
            "new": {"grade": "harmful", "category": "306"},
            "note": "已核实为挤兑传言",
        }
        assert audit.verify(session).ok


def test_api_review_rejects_bad_input_with_the_error_shape(client: TestClient) -> None:
    item_id = _first_id(client)
    cases = [
        ({"grade": "awful", "note": "x", "by": "a"}, "grade"),
        ({"category": "999", "note": "x", "by": "a"}, "category"),
        ({"grade": "general", "note": "  ", "by": "a"}, "note"),
        ({"note": "x", "by": "a"}, "grade"),
    ]
    for body, field in cases:
        response = client.post(f"/api/items/{item_id}/review", json=body)
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["type"] == "input" and field in error["message"]
    missing = client.post("/api/items/999999/review", json={"grade": "general", "note": "x"})
    assert missing.status_code == 404
    assert client.get(f"/api/items/{item_id}").json()["review"] is None


def test_page_form_saves_and_escapes_the_note(client: TestClient) -> None:
    item_id = _first_id(client)
    hostile = "<script>alert(1)</script>误报"
    response = client.post(
        f"/items/{item_id}/review",
        data={"grade": "general", "category": "", "note": hostile},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(f"/items/{item_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;误报" in page
    assert "<script>alert(1)" not in page
    assert "人工改判" in page
    assert "李若溪（monitor）" in page
    bad = client.post(f"/items/{item_id}/review", data={"grade": "general", "note": ""})
    assert bad.status_code == 400
    assert "须填写理由" in bad.text


def test_cli_review_and_show(demo_app: FastAPI, sqlite_settings: Settings) -> None:
    env = {
        "YUQING_DATA_DIR": str(sqlite_settings.data_dir),
        "YUQING_DATABASE_URL": sqlite_settings.resolved_database_url,
    }
    runner = CliRunner(env=env)
    done = runner.invoke(
        app,
        ["review", "1", "--grade", "attention", "--note", "客户投诉属实", "--by", "李", "--json"],
    )
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.stdout)["grade"] == "attention"
    shown = runner.invoke(app, ["show", "1", "--json"])
    data = orjson.loads(shown.stdout)
    assert data["review"]["grade"] == "attention"
    assert data["grade_history"][-1]["note"] == "客户投诉属实"
    refused = runner.invoke(app, ["review", "1", "--grade", "nope", "--note", "x", "--by", "李"])
    assert refused.exit_code == 1
    assert "等级" in refused.output
