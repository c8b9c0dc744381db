"""Browser sessions (cookie + CSRF token) and API tokens (Bearer), against the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from orgdata import PASSWORD
from sqlalchemy import select, update

from yuqing.accounts.actor import SYSTEM
from yuqing.accounts.manage import issue_token, set_password
from yuqing.store.db import Database
from yuqing.store.tables import ApiToken, User, WebSession


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through /api/session; returns the CSRF token (not set as a header)."""
    answer = client.post("/api/session", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["csrf_token"]
    return token


def test_unsafe_requests_need_the_sessions_csrf_token(web: TestClient) -> None:
    csrf = sign_in(web, "viewer")
    assert web.get("/api/me").status_code == 200  # reading needs no token
    missing = web.delete("/api/session")
    assert missing.status_code == 403
    assert missing.json()["error"]["message"].startswith("CSRF 校验失败")
    wrong = web.delete("/api/session", headers={"X-CSRF-Token": csrf[:-2] + "xx"})
    assert wrong.status_code == 403
    page = web.post("/logout", follow_redirects=False)  # a page answers with the error page
    assert page.status_code == 403 and "CSRF 校验失败" in page.text
    assert web.get("/api/me").status_code == 200  # still signed in
    by_form = web.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert by_form.status_code == 303 and by_form.headers["location"] == "/login"
    assert web.get("/api/me").status_code == 401


def test_one_sessions_token_does_not_open_another(org_db: Database, web: TestClient) -> None:
    mine = sign_in(web, "viewer")
    with TestClient(web.app) as other:
        theirs = sign_in(other, "leader")
        assert theirs != mine
        refused = other.delete("/api/session", headers={"X-CSRF-Token": mine})
        assert refused.status_code == 403
        done = other.delete("/api/session", headers={"X-CSRF-Token": theirs})
        assert done.status_code == 200


def test_signing_out_ends_the_session_for_a_replayed_cookie(web: TestClient) -> None:
    csrf = sign_in(web, "viewer")
    cookie = web.cookies["yuqing_session"]
    web.delete("/api/session", headers={"X-CSRF-Token": csrf})
    web.cookies.set("yuqing_session", cookie)
    assert web.get("/api/me").status_code == 401
    assert web.get("/", follow_redirects=False).headers["location"] == "/login?next=%2F"


def test_an_expired_session_signs_in_again(web: TestClient, org_db: Database) -> None:
    sign_in(web, "viewer")
    with org_db.session() as session:
        session.execute(
            update(WebSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert web.get("/api/me").status_code == 401
    assert web.get("/events", follow_redirects=False).headers["location"].startswith("/login")


def test_a_new_password_signs_the_user_out_everywhere(web: TestClient, org_db: Database) -> None:
    sign_in(web, "viewer")
    with org_db.session() as session:
        set_password(session, "viewer", "another-pass-99", SYSTEM, datetime.now(UTC))
    assert web.get("/api/me").status_code == 401


def test_api_tokens_act_as_their_user_without_csrf(web: TestClient, org_db: Database) -> None:
    with org_db.session() as session:
        raw = issue_token(session, "monitor", "采集脚本", SYSTEM, datetime.now(UTC))
    assert raw.startswith("yq_")
    bearer = {"Authorization": f"Bearer {raw}"}
    me = web.get("/api/me", headers=bearer).json()
    assert me["username"] == "monitor" and me["csrf_token"] is None
    # A state-changing call with a token needs no CSRF token (no browser sends the header).
    posted = web.post(
        "/api/items/manual",
        headers=bearer,
        data={"title": "报刊所见", "content": "某报刊登了本单位的报道。", "platform": "print"},
    )
    assert posted.status_code == 200, posted.text
    with org_db.session() as session:
        token = session.scalars(select(ApiToken)).one()
        assert token.last_used_at is not None
        assert raw not in (token.token_hash, token.name)  # only the digest is kept


def test_bad_expired_and_orphaned_tokens_are_refused(web: TestClient, org_db: Database) -> None:
    for header in ("Bearer yq_not-a-token", "bearer ", "Bearer " + "x" * 5000):
        answer = web.get("/api/items", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert "API 令牌无效" in answer.json()["error"]["message"]
    with org_db.session() as session:
        expiring = issue_token(session, "viewer", "短期", SYSTEM, datetime.now(UTC), days=1)
        session.execute(
            update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        kept = issue_token(session, "leader", "长期", SYSTEM, datetime.now(UTC))
        session.scalars(select(User).where(User.username == "leader")).one().is_active = False
    for raw in (expiring, kept):
        answer = web.get("/api/items", headers={"Authorization": f"Bearer {raw}"})
        assert answer.status_code == 401
    # A bad token on a page is not silently ignored either: the page asks to sign in.
    page = web.get("/", headers={"Authorization": "Bearer nope"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_signed_in_visitors_skip_the_login_page(web: TestClient) -> None:
    sign_in(web, "viewer")
    answer = web.get("/login", params={"next": "/events"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/events"
