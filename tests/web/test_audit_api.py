"""/api/audit: the newest rows with filters and paging, and the chain check over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from yuqing.settings import Settings
from yuqing.store import audit
from yuqing.store.db import Database
from yuqing.store.tables import AuditEntry
from yuqing.web.app import create_app

DAY = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def auditor(
    sqlite_settings: Settings,
    sqlite_db: Database,
    web_user: Callable[[TestClient, str], TestClient],
) -> Iterator[TestClient]:
    """An admin signed in after a few rows were written on 19 and 20 November."""
    with sqlite_db.session() as session:
        for n, (action, actor) in enumerate(
            [
                ("case.report", "李（li）"),
                ("case.close", "李（li）"),
                ("item.override", "王（wang）"),
                ("source.add", "系统"),
            ]
        ):
            audit.record(
                session,
                actor=actor,
                action=action,
                target_type=action.split(".")[0],
                target_id=n + 1,
                detail={"n": n, "note": "<b>标注</b>"},
                at=DAY + timedelta(days=n // 2, minutes=n),
            )
    with TestClient(create_app(sqlite_settings, sqlite_db)) as client:
        yield web_user(client, "admin")


def _actions(client: TestClient, **params: object) -> list[str]:
    answer = client.get("/api/audit", params=params)
    assert answer.status_code == 200, answer.text
    return [e["action"] for e in answer.json()["entries"]]


def test_rows_newest_first_with_filters(auditor: TestClient) -> None:
    everything = _actions(auditor)
    assert everything[:2] == ["login.ok", "user.add"]  # signing in the auditor, newest first
    assert everything[2:] == ["source.add", "item.override", "case.close", "case.report"]
    assert _actions(auditor, action="case") == ["case.close", "case.report"]
    assert _actions(auditor, action="case.report") == ["case.report"]
    assert _actions(auditor, action="cas") == []  # a prefix is a whole dotted part
    assert _actions(auditor, actor="wang") == ["item.override"]
    assert _actions(auditor, target_type="case", target_id="2") == ["case.close"]
    assert _actions(auditor, since="2026-11-20", until="2026-11-20") == [
        "source.add",
        "item.override",
    ]
    first = auditor.get("/api/audit", params={"limit": 2}).json()["entries"]
    rest = _actions(auditor, before=first[-1]["id"])
    assert [e["action"] for e in first] + rest == everything
    entry = auditor.get("/api/audit", params={"action": "item.override"}).json()["entries"][0]
    assert entry["detail"] == {"n": 2, "note": "<b>标注</b>"}  # JSON as stored; pages escape
    assert entry["at"] == "2026-11-20T02:02:00+00:00" and len(entry["hash"]) == 64


def test_bad_filters_are_explained(auditor: TestClient) -> None:
    bad = auditor.get("/api/audit", params={"since": "yesterday"})
    assert bad.status_code == 400 and "时间格式无效" in bad.json()["error"]["message"]
    assert auditor.get("/api/audit", params={"limit": 5000}).status_code == 422


def test_verify_over_http_catches_a_changed_row(auditor: TestClient, sqlite_db: Database) -> None:
    good = auditor.get("/api/audit/verify").json()
    assert good["ok"] is True and good["rows"] == 6 and len(good["head"]) == 64
    with sqlite_db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(actor="别人"))
    bad = auditor.get("/api/audit/verify").json()
    assert bad["ok"] is False and bad["broken_at"] == 2 and "第 2 条" in bad["problem"]
