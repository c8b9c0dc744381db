"""/api/users: an admin lists, adds, resets, issues tokens and deactivates users of its own
unit subtree; everything is audited and secrets are answered once, never stored in clear."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from yuqing.accounts.actor import SYSTEM
from yuqing.accounts.manage import NewUser, add_user
from yuqing.settings import Settings
from yuqing.store import audit
from yuqing.store.db import Database
from yuqing.store.tables import AuditEntry
from yuqing.store.units import unit_by_code, upsert_unit
from yuqing.web.app import create_app

PASSWORD = "sub-admin-pass-1"


@pytest.fixture
def app_and_db(
    sqlite_settings: Settings, sqlite_db: Database
) -> Iterator[tuple[TestClient, Database]]:
    """ORG ─ CITY, with an admin at CITY (`city_admin`), and a client signed in as no one."""
    with sqlite_db.session() as session:
        org = upsert_unit(session, code="ORG", name="总部", level="head", parent=None)
        upsert_unit(session, code="CITY", name="市分部", level="city", parent=org)
        add_user(
            session,
            NewUser("city_admin", "admin", "CITY", "市管理员", PASSWORD),
            SYSTEM,
            datetime.now(UTC),
        )
    with TestClient(create_app(sqlite_settings, sqlite_db)) as client:
        yield client, sqlite_db


@pytest.fixture
def root(
    app_and_db: tuple[TestClient, Database], web_user: Callable[[TestClient, str], TestClient]
) -> TestClient:
    """The head office's admin (`test_admin` at ORG)."""
    return web_user(app_and_db[0], "admin")


def test_add_answers_the_password_once_and_the_user_signs_in(
    root: TestClient, app_and_db: tuple[TestClient, Database]
) -> None:
    made = root.post(
        "/api/users",
        json={"username": "zhao", "role": "office", "unit": "CITY", "display_name": "赵"},
    )
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    body = made.json()
    assert (body["username"], body["role"], body["unit"], body["active"]) == (
        "zhao",
        "office",
        "CITY",
        True,
    )
    password = body["password"]
    assert len(password) == 16
    listed = root.get("/api/users").json()
    assert {u["username"] for u in listed["users"]} == {"city_admin", "test_admin", "zhao"}
    assert "password" not in str(listed) and "argon2" not in str(listed)
    with TestClient(root.app) as other:
        answer = other.post("/api/session", json={"username": "zhao", "password": password})
        assert answer.status_code == 200
    chosen = root.post(
        "/api/users",
        json={"username": "qian", "role": "viewer", "unit": "ORG", "password": "chosen-pass-11"},
    )
    assert chosen.status_code == 201 and chosen.json()["password"] is None
    _client, db = app_and_db
    with db.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.add")).all()
        assert [r.actor for r in rows][-2:] == ["测试admin（test_admin）"] * 2
        assert password not in str([r.detail for r in rows])


def test_bad_bodies_are_refused_with_words(root: TestClient) -> None:
    cases = [
        ({"username": "a b", "role": "viewer", "unit": "ORG"}, 400, "用户名"),
        ({"username": "ab", "role": "king", "unit": "ORG"}, 400, "角色"),
        ({"username": "ab", "role": "viewer", "unit": "NOWHERE"}, 400, "单位代码"),
        ({"username": "ab", "role": "viewer", "unit": "ORG", "password": "short"}, 400, "密码"),
        ({"username": "test_admin", "role": "viewer", "unit": "ORG"}, 400, "已存在"),
        ({"username": "ab", "role": "viewer", "unit": "ORG", "is_admin": True}, 422, "is_admin"),
    ]
    for body, status, words in cases:
        answer = root.post("/api/users", json=body)
        assert answer.status_code == status, (body, answer.text)
        assert words in answer.json()["error"]["message"], body


def test_password_reset_token_and_deactivation(root: TestClient) -> None:
    root.post("/api/users", json={"username": "sun", "role": "monitor", "unit": "CITY"})
    reset = root.post("/api/users/sun/password", json={})
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    password = reset.json()["password"]
    token = root.post("/api/users/sun/tokens", json={"name": "采集", "days": 7})
    assert token.status_code == 201
    raw = token.json()["token"]
    with TestClient(root.app) as other:
        signed = other.post("/api/session", json={"username": "sun", "password": password})
        assert signed.status_code == 200
        bearer = {"Authorization": f"Bearer {raw}"}
        assert other.get("/api/me", headers=bearer).json()["username"] == "sun"
        gone = root.post("/api/users/sun/deactivate")
        assert gone.status_code == 200 and gone.json()["active"] is False
        assert other.get("/api/me").status_code == 401  # the session ended
        assert other.get("/api/me", headers=bearer).status_code == 401  # the token stopped
    assert root.post("/api/users/test_admin/deactivate").status_code == 400  # not oneself
    assert root.post("/api/users/ghost/password", json={}).status_code == 404


def test_an_admin_of_a_unit_manages_only_its_subtree(
    app_and_db: tuple[TestClient, Database], web_user: Callable[[TestClient, str], TestClient]
) -> None:
    client, db = app_and_db
    web_user(client, "viewer")  # a user at ORG, out of CITY's reach
    with TestClient(client.app) as city:
        answer = city.post("/api/session", json={"username": "city_admin", "password": PASSWORD})
        city.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        assert [u["username"] for u in city.get("/api/users").json()["users"]] == ["city_admin"]
        for path in ("/api/users/test_viewer/password", "/api/users/test_viewer/tokens"):
            assert city.post(path, json={}).status_code == 404
        assert city.post("/api/users/test_viewer/deactivate").status_code == 404
        above = city.post("/api/users", json={"username": "up", "role": "admin", "unit": "ORG"})
        assert above.status_code == 403 and "本单位及下级单位" in above.json()["error"]["message"]
        below = city.post("/api/users", json={"username": "down", "role": "viewer", "unit": "CITY"})
        assert below.status_code == 201
    with db.session() as session:
        assert unit_by_code(session, "CITY") is not None
        assert audit.verify(session).ok
