"""Who may call what: one table of every route and what it needs, checked against the app's
routes (a new route without an entry fails), and each denial proven route by route:
no sign-in, a role without the permission, a cookie session without its CSRF token, a bad
API token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from yuqing.accounts.actor import SYSTEM
from yuqing.accounts.manage import NewUser, add_user
from yuqing.accounts.roles import PERMISSIONS, roles
from yuqing.settings import Settings
from yuqing.store.db import open_database
from yuqing.store.units import upsert_unit
from yuqing.web.app import create_app

PUBLIC, SIGNED_IN, PUSH_TOKEN = "public", "signed_in", "push_token"
ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    # Session
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/api/session"): PUBLIC,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/api/me"): SIGNED_IN,
    ("DELETE", "/api/session"): SIGNED_IN,
    # Items
    ("GET", "/"): "items.read",
    ("GET", "/items/{item_id}"): "items.read",
    ("GET", "/api/items"): "items.read",
    ("GET", "/api/items/{item_id}"): "items.read",
    ("POST", "/items/{item_id}/review"): "items.review",
    ("POST", "/api/items/{item_id}/review"): "items.review",
    ("GET", "/manual"): "items.manual",
    ("POST", "/manual"): "items.manual",
    ("POST", "/api/items/manual"): "items.manual",
    ("GET", "/attachments/{attachment_id}"): "items.read",
    ("POST", "/api/ingest"): PUSH_TOKEN,
    # Events
    ("GET", "/events"): "events.read",
    ("GET", "/events/{event_id}"): "events.read",
    ("GET", "/api/events"): "events.read",
    ("GET", "/api/events/{event_id}"): "events.read",
    # Sources
    ("GET", "/sources"): "sources.read",
    ("GET", "/sources/{source_id}"): "sources.read",
    ("POST", "/sources/{source_id}/run"): "sources.run",
    ("GET", "/api/sources"): "sources.read",
    ("GET", "/api/sources/{source_id}"): "sources.read",
    ("POST", "/api/sources"): "sources.manage",
    ("DELETE", "/api/sources/{source_id}"): "sources.manage",
    ("POST", "/api/sources/{source_id}/test"): "sources.run",
    ("POST", "/api/sources/{source_id}/run"): "sources.run",
    # Cases: reading and acting need cases.read; the workflow table then decides by role.
    ("GET", "/cases"): "cases.read",
    ("GET", "/cases/{case_id}"): "cases.read",
    ("POST", "/cases"): "cases.create",
    ("POST", "/cases/{case_id}/actions/{action}"): "cases.read",
    ("POST", "/cases/{case_id}/files"): "cases.read",
    ("GET", "/api/cases"): "cases.read",
    ("GET", "/api/cases/measures"): "cases.read",
    ("POST", "/api/cases"): "cases.create",
    ("GET", "/api/cases/{case_id}"): "cases.read",
    ("POST", "/api/cases/{case_id}/actions/{action}"): "cases.read",
    ("POST", "/api/cases/{case_id}/files"): "cases.read",
    ("GET", "/api/cases/{case_id}/files/{file_id}"): "cases.read",
    ("GET", "/api/cases/{case_id}/form.docx"): "cases.read",
    # Alerts
    ("GET", "/api/alerts/channels"): "alerts.read",
    ("POST", "/api/alerts/channels"): "alerts.manage",
    ("GET", "/api/alerts/channels/{channel_id}"): "alerts.read",
    ("PATCH", "/api/alerts/channels/{channel_id}"): "alerts.manage",
    ("DELETE", "/api/alerts/channels/{channel_id}"): "alerts.manage",
    ("POST", "/api/alerts/channels/{channel_id}/test"): "alerts.manage",
    ("GET", "/api/alerts/rules"): "alerts.read",
    ("POST", "/api/alerts/rules"): "alerts.manage",
    ("GET", "/api/alerts/rules/{rule_id}"): "alerts.read",
    ("PATCH", "/api/alerts/rules/{rule_id}"): "alerts.manage",
    ("DELETE", "/api/alerts/rules/{rule_id}"): "alerts.manage",
    ("GET", "/api/alerts/deliveries"): "alerts.read",
    # Users and audit
    ("GET", "/api/users"): "users.manage",
    ("POST", "/api/users"): "users.manage",
    ("POST", "/api/users/{username}/password"): "users.manage",
    ("POST", "/api/users/{username}/tokens"): "users.manage",
    ("POST", "/api/users/{username}/deactivate"): "users.manage",
    ("GET", "/api/audit"): "audit.read",
    ("GET", "/api/audit/verify"): "audit.read",
}
NOT_ROUTES = ("/static", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")
SAFE = {"GET", "HEAD", "OPTIONS"}
PASSWORD = "access-test-pass-1"


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, but its docs and static files."""
    found = set()
    for route in iter_route_contexts(app.routes):
        if route.path in NOT_ROUTES:
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, route.path))
    return found


def concrete(path: str) -> str:
    """A path to request: every parameter filled with something of the right shape."""
    return re.sub(r"\{(\w+)\}", lambda m: "viewer" if m.group(1) == "username" else "1", path)


@dataclass
class Signed:
    client: TestClient
    csrf: str


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[TestClient, dict[str, Signed]]]:
    """One app for the module: a client signed in as no one, and one per role (each user at
    the top unit) that has not set its CSRF header."""
    import shutil

    folder = tmp_path_factory.mktemp("access")
    shutil.copyfile(sqlite_template, folder / "yuqing.db")
    settings = Settings(data_dir=folder / "data", database_url=f"sqlite:///{folder}/yuqing.db")
    db = open_database(settings.resolved_database_url)
    with db.session() as session:
        upsert_unit(session, code="ORG", name="本单位", level="head", parent=None)
        for code in roles():
            new = NewUser(f"r_{code}", code, "ORG", code, PASSWORD)
            add_user(session, new, SYSTEM, datetime.now(UTC))
    app = create_app(settings, db)
    clients: list[TestClient] = []
    signed: dict[str, Signed] = {}
    for code in roles():
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        answer = client.post("/api/session", json={"username": f"r_{code}", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        signed[code] = Signed(client, answer.json()["csrf_token"])
    with TestClient(app) as anonymous:
        yield anonymous, signed
    for client in clients:
        client.__exit__(None, None, None)
    db.dispose()


def test_the_table_covers_exactly_the_routes_there_are(
    world: tuple[TestClient, dict[str, Signed]],
) -> None:
    anonymous, _signed = world
    routes = app_routes(anonymous.app)  # type: ignore[arg-type]
    missing = sorted(routes - ACCESS.keys())
    stale = sorted(ACCESS.keys() - routes)
    assert not missing, f"routes without an entry in ACCESS (say who may call them): {missing}"
    assert not stale, f"entries in ACCESS for routes that no longer exist: {stale}"
    unknown = {need for need in ACCESS.values() if need not in PERMISSIONS} - {
        PUBLIC,
        SIGNED_IN,
        PUSH_TOKEN,
    }
    assert not unknown


GUARDED = sorted(key for key, need in ACCESS.items() if need not in (PUBLIC, PUSH_TOKEN))
BY_PERMISSION = sorted(
    key
    for key, need in ACCESS.items()
    if need in PERMISSIONS and any(need not in role.permissions for role in roles().values())
)
"""Routes whose permission some role lacks (every role reads items, events and cases)."""
UNSAFE = sorted(key for key in GUARDED if key[0] not in SAFE)


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_no_sign_in_is_sent_to_sign_in(
    world: tuple[TestClient, dict[str, Signed]], method: str, path: str
) -> None:
    anonymous, _signed = world
    answer = anonymous.request(method, concrete(path), follow_redirects=False)
    if path.startswith("/api/"):
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == {"type": "auth", "message": "请先登录"}
    else:
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == f"/login?next={quote(concrete(path), safe='')}"


@pytest.mark.parametrize(("method", "path"), BY_PERMISSION)
def test_a_role_without_the_permission_is_refused(
    world: tuple[TestClient, dict[str, Signed]], method: str, path: str
) -> None:
    _anonymous, signed = world
    need = ACCESS[(method, path)]
    lacking = [code for code, role in roles().items() if need not in role.permissions]
    for code in lacking:
        who = signed[code]
        answer = who.client.request(
            method,
            concrete(path),
            headers={"X-CSRF-Token": who.csrf},
            follow_redirects=False,
        )
        assert answer.status_code == 403, (code, answer.text)
        role_name = roles()[code].name
        expected = f"当前角色「{role_name}」无权{PERMISSIONS[need]}"
        if path.startswith("/api/"):
            assert answer.json()["error"] == {"type": "forbidden", "message": expected}
        else:
            assert expected in answer.text


@pytest.mark.parametrize(("method", "path"), UNSAFE)
def test_a_cookie_session_without_its_csrf_token_is_refused(
    world: tuple[TestClient, dict[str, Signed]], method: str, path: str
) -> None:
    _anonymous, signed = world
    need = ACCESS[(method, path)]
    code = next(c for c, role in roles().items() if need == SIGNED_IN or need in role.permissions)
    who = signed[code]
    for headers in ({}, {"X-CSRF-Token": "not-" + who.csrf}):
        answer = who.client.request(method, concrete(path), headers=headers, follow_redirects=False)
        assert answer.status_code == 403, (code, headers, answer.text)
        assert "CSRF 校验失败" in answer.text
    # A form field with the wrong token is refused the same way.
    answer = who.client.request(
        method, concrete(path), data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert answer.status_code == 403 and "CSRF 校验失败" in answer.text


@pytest.mark.parametrize(
    ("method", "path"), GUARDED + sorted(key for key, need in ACCESS.items() if need == PUSH_TOKEN)
)
def test_a_bad_api_token_is_refused(
    world: tuple[TestClient, dict[str, Signed]], method: str, path: str
) -> None:
    anonymous, _signed = world
    bad = {"Authorization": "Bearer yq_this-token-was-never-issued"}
    answer = anonymous.request(method, concrete(path), headers=bad, follow_redirects=False)
    if path.startswith("/api/"):
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["type"] == "auth"
        assert "令牌" in answer.json()["error"]["message"]
    else:
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


def test_public_routes_answer_without_sign_in(
    world: tuple[TestClient, dict[str, Signed]],
) -> None:
    anonymous, _signed = world
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/login").status_code == 200
    wrong = anonymous.post("/api/session", json={"username": "r_viewer", "password": "nope"})
    assert wrong.status_code == 401  # answered, not refused for lack of a session
