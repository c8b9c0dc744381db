"""Signing in through the /login page and POST /api/session: the password check, lock-out
after wrong passwords in a row, the per-address limit, and what the audit log keeps."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx2 import Response
from orgdata import PASSWORD
from sqlalchemy import select

from yuqing.store import audit
from yuqing.store.db import Database
from yuqing.store.tables import AuditEntry, LoginAttempt, User


def form_login(client: TestClient, username: str, password: str, next_url: str = "/") -> Response:
    """What a browser does: open the login page (it sets the login CSRF cookie), post it."""
    page = client.get("/login", params={"next": next_url})
    assert page.status_code == 200
    found = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "login_csrf": found.group(1),
            "next": next_url,
        },
        follow_redirects=False,
    )


def api_login(client: TestClient, username: str, password: str) -> Response:
    return client.post("/api/session", json={"username": username, "password": password})


def test_the_login_page_signs_in_with_a_safe_cookie_and_goes_back(web: TestClient) -> None:
    assert web.get("/", follow_redirects=False).headers["location"] == "/login?next=%2F"
    done = form_login(web, "viewer", PASSWORD, "/events?q=x")
    assert done.status_code == 303 and done.headers["location"] == "/events?q=x"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("yuqing_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert web.get("/").status_code == 200
    me = web.get("/api/me").json()
    assert (me["username"], me["role"], me["role_name"]) == ("viewer", "viewer", "只读用户")
    assert me["csrf_token"]


def test_next_never_leaves_the_site(web: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        done = form_login(web, "viewer", PASSWORD, target)
        assert done.headers["location"] == "/", target
        web.cookies.clear()


def test_a_login_post_without_the_page_token_is_refused(web: TestClient) -> None:
    forged = web.post(
        "/login", data={"username": "viewer", "password": PASSWORD}, follow_redirects=False
    )
    assert forged.status_code == 400 and "登录页面已过期" in forged.text
    assert "yuqing_session" not in forged.headers.get("set-cookie", "")


def test_wrong_and_unknown_users_get_the_same_answer(web: TestClient) -> None:
    wrong = form_login(web, "viewer", "not-the-password-1")
    unknown = form_login(web, "nobody", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
    api = api_login(web, "nobody", "x")
    assert api.status_code == 401
    assert api.json()["error"] == {"type": "auth", "message": "用户名或密码错误"}


def test_wrong_passwords_in_a_row_lock_the_account(web: TestClient, org_db: Database) -> None:
    for _ in range(2):
        assert api_login(web, "office", "wrong-password-1").status_code == 401
    locking = api_login(web, "office", "wrong-password-1")
    assert locking.status_code == 423
    assert "锁定 10 分钟" in locking.json()["error"]["message"]
    assert locking.headers["retry-after"] == "600"
    # The right password does not open a locked account, through the API or the page.
    locked = api_login(web, "office", PASSWORD)
    assert locked.status_code == 423 and int(locked.headers["retry-after"]) > 0
    page = form_login(web, "office", PASSWORD)
    assert page.status_code == 423 and "已锁定" in page.text
    # Another account from the same address is not locked.
    assert api_login(web, "leader", PASSWORD).status_code == 200
    with org_db.session() as session:
        user = session.scalars(select(User).where(User.username == "office")).one()
        assert user.locked_until is not None


def test_an_admin_password_reset_unlocks(web: TestClient, org_db: Database) -> None:
    from datetime import UTC, datetime

    from yuqing.accounts.actor import SYSTEM
    from yuqing.accounts.manage import set_password

    for _ in range(3):
        api_login(web, "office", "wrong-password-1")
    assert api_login(web, "office", PASSWORD).status_code == 423
    with org_db.session() as session:
        set_password(session, "office", "brand-new-pass-7", SYSTEM, datetime.now(UTC))
    assert api_login(web, "office", "brand-new-pass-7").status_code == 200


def test_too_many_failures_from_one_address_are_refused(web: TestClient) -> None:
    # Six failures spread over accounts, so no account locks: the address limit answers.
    for name in ("nobody", "viewer", "leader", "nobody2", "viewer", "leader"):
        assert api_login(web, name, "wrong-password-1").status_code == 401
    limited = api_login(web, "monitor", PASSWORD)
    assert limited.status_code == 429
    assert "登录失败次数过多" in limited.json()["error"]["message"]
    assert 0 < int(limited.headers["retry-after"]) <= 900
    page = form_login(web, "monitor", PASSWORD)
    assert page.status_code == 429 and "分钟后再试" in page.text


def test_a_deactivated_user_cannot_sign_in(web: TestClient, org_db: Database) -> None:
    with org_db.session() as session:
        session.scalars(select(User).where(User.username == "leader")).one().is_active = False
    refused = api_login(web, "leader", PASSWORD)
    assert refused.status_code == 401 and refused.json()["error"]["message"] == "用户名或密码错误"


def test_attempts_and_sign_ins_are_recorded_and_audited(web: TestClient, org_db: Database) -> None:
    api_login(web, "viewer", "wrong-password-1")
    signed = api_login(web, "viewer", PASSWORD)
    assert signed.status_code == 200
    out = web.delete("/api/session", headers={"X-CSRF-Token": signed.json()["csrf_token"]})
    assert out.json() == {"signed_out": True}
    with org_db.session() as session:
        attempts = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [(a.username, a.ok) for a in attempts] == [("viewer", False), ("viewer", True)]
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action.like("log%"))).all()
        assert [(r.action, r.actor) for r in rows] == [
            ("login.fail", "viewer"),
            ("login.ok", "viewer用户（viewer）"),
            ("logout", "viewer用户（viewer）"),
        ]
        assert rows[0].detail["why"] == "password"
        assert PASSWORD not in str([r.detail for r in rows])
        assert audit.verify(session).ok
