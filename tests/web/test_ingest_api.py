"""POST /api/ingest: bearer tokens of push sources, per-item results, hostile bodies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from yuqing.collect.manage import SourceInput, add_source
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import Source as SourceRow
from yuqing.store.tables import SourceRun
from yuqing.web.api.ingest import MAX_PUSH_BYTES
from yuqing.web.app import create_app

STANDARD = load_standard()
GOOD = {
    "id": "a-1",
    "title": "云岭农商银行网点排长队",
    "content": "今天上午云岭农商银行城东网点门口排起长队，有储户说取不出钱。",
    "url": "https://bbs.example.cn/thread/1?utm_source=x",
    "published_at": "2026-11-20 09:30",
    "metrics": {"views": "1.2万"},
}
OTHER = {"id": 7, "标题": "滨江路段施工", "正文": "滨江路今晚起封闭施工两周。", "平台": "论坛"}


@pytest.fixture
def push_app(
    sqlite_settings: Settings,
    sqlite_db: Database,
    web_user: Callable[[TestClient, str], TestClient],
) -> Iterator[tuple[TestClient, str]]:
    """An app with a push source, and a client signed in as a viewer (to read items back);
    pushes carry the push source's token, not the viewer's session."""
    with sqlite_db.session() as session:
        _row, token = add_source(
            session,
            STANDARD,
            SourceInput(name="外部爬虫", kind="push", platform="weibo", region="滨江市"),
            datetime.now(UTC),
        )
    assert token
    with TestClient(create_app(sqlite_settings, sqlite_db)) as client:
        yield web_user(client, "viewer"), token


def _push(client: TestClient, token: str, body: object) -> dict[str, object]:
    response = client.post(
        "/api/ingest", content=orjson.dumps(body), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def test_one_item_is_imported_and_inherits_the_source(
    push_app: tuple[TestClient, str], sqlite_db: Database
) -> None:
    client, token = push_app
    answer = _push(client, token, GOOD)
    assert answer["imported"] == 1 and answer["duplicates"] == 0 and answer["errors"] == 0
    [result] = answer["results"]  # type: ignore[misc]
    assert result["index"] == 0 and result["id"] == "a-1" and result["status"] == "imported"
    with sqlite_db.session() as session:
        item = session.get(ItemRow, result["item_id"])
        assert item is not None
        assert (item.platform, item.region, item.views) == ("weibo", "滨江市", 12000)
        assert item.external_id == "a-1" and item.grade  # analysed and graded on the way in
        source = session.scalars(select(SourceRow).where(SourceRow.name == "外部爬虫")).one()
        assert item.source_id == source.id
    detail = client.get(f"/api/items/{result['item_id']}").json()
    assert detail["title"] == GOOD["title"]


def test_many_mixed_items_answer_in_order_and_duplicates_on_re_push(
    push_app: tuple[TestClient, str], sqlite_db: Database
) -> None:
    client, token = push_app
    body = [
        GOOD,
        {"id": "bad-1", "title": "没有正文"},
        OTHER,
        "不是对象",
        {"id": "bad-2", "content": "数字不对", "views": -3},
        {"id": "bad-3", "content": "x" * 200_001},
        {"id": "bad-4", "content": "链接不对", "url": "javascript:alert(1)"},
        dict(GOOD, id="a-1-again"),  # the same URL within one push: a duplicate of the first
    ]
    answer = _push(client, token, body)
    statuses = [(r["index"], r["id"], r["status"]) for r in answer["results"]]  # type: ignore[attr-defined]
    assert statuses == [
        (0, "a-1", "imported"),
        (1, "bad-1", "error"),
        (2, "7", "imported"),
        (3, None, "error"),
        (4, "bad-2", "error"),
        (5, "bad-3", "error"),
        (6, "bad-4", "error"),
        (7, "a-1-again", "duplicate"),
    ]
    results = answer["results"]
    assert isinstance(results, list)
    assert (answer["imported"], answer["duplicates"], answer["errors"]) == (2, 1, 5)
    assert "content" in results[1]["error"]
    assert "JSON 对象" in results[3]["error"] and "字符串" in results[3]["error"]
    assert "views" in results[4]["error"]
    assert "200,000" in results[5]["error"]
    assert "javascript" in results[6]["error"]
    assert results[7]["item_id"] == results[0]["item_id"]
    with sqlite_db.session() as session:
        other = session.get(ItemRow, results[2]["item_id"])
        assert other is not None and other.platform == "forum"  # stated platform kept

    again = _push(client, token, [GOOD, OTHER])
    assert (again["imported"], again["duplicates"], again["errors"]) == (0, 2, 0)
    assert [r["item_id"] for r in again["results"]] == [  # type: ignore[attr-defined]
        results[0]["item_id"],
        results[2]["item_id"],
    ]
    with sqlite_db.session() as session:
        runs = session.scalars(select(SourceRun).order_by(SourceRun.id)).all()
    assert [(r.trigger, r.ok, r.imported, r.duplicates, r.rejected) for r in runs] == [
        ("push", True, 2, 1, 5),
        ("push", True, 0, 2, 0),
    ]
    assert any("第 2 条" in p for p in runs[0].problems)


def test_missing_wrong_and_disabled_tokens_are_refused(
    push_app: tuple[TestClient, str], sqlite_db: Database
) -> None:
    client, token = push_app
    missing = client.post("/api/ingest", json=GOOD)
    assert missing.status_code == 401
    assert "Authorization" in missing.json()["error"]["message"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = client.post("/api/ingest", json=GOOD, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "令牌无效" in wrong.json()["error"]["message"]
    basic = client.post("/api/ingest", json=GOOD, headers={"Authorization": f"Basic {token}"})
    assert basic.status_code == 401
    with sqlite_db.session() as session:
        source = session.scalars(select(SourceRow).where(SourceRow.name == "外部爬虫")).one()
        source.enabled = False
    disabled = client.post("/api/ingest", json=GOOD, headers={"Authorization": f"Bearer {token}"})
    assert disabled.status_code == 401 and "停用" in disabled.json()["error"]["message"]
    with sqlite_db.session() as session:
        assert session.scalars(select(ItemRow.id)).first() is None


def test_hostile_bodies_are_refused_with_words(push_app: tuple[TestClient, str]) -> None:
    client, token = push_app
    auth = {"Authorization": f"Bearer {token}"}

    def post(body: bytes) -> tuple[int, str]:
        response = client.post("/api/ingest", content=body, headers=auth)
        return response.status_code, response.json()["error"]["message"]

    status, message = post(b'{"content": "x",')
    assert status == 400 and "JSON" in message and "第 1 行" in message
    status, message = post(b"\xff\xfe{}")
    assert status == 400 and "JSON" in message
    status, message = post(b'"just a string"')
    assert status == 400 and "字符串" in message
    status, message = post(b"[]")
    assert status == 400 and "空数组" in message
    status, message = post(b"")
    assert status == 400 and "为空" in message
    status, message = post(b"[" * 100_000)
    assert status == 400 and "JSON" in message
    status, message = post(orjson.dumps([{"content": "x"}] * 1001))
    assert status == 413 and "1000" in message and "1001" in message
    status, message = post(b'{"content": "' + b"x" * MAX_PUSH_BYTES + b'"}')
    assert status == 413 and "5 MB" in message
    lying = client.post(
        "/api/ingest", content=b"{}", headers={**auth, "Content-Length": str(MAX_PUSH_BYTES + 1)}
    )
    assert lying.status_code == 413
