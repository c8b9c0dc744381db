"""A web app over a database holding the demo organization and its items (analyzed, graded,
with their events: the demo goes through the whole pipeline), and that app served live."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from live import Chromium, launched, served
from playwright.sync_api import Page

from yuqing.demo import install_demo
from yuqing.settings import Settings
from yuqing.store.db import Database
from yuqing.web.app import create_app

DEMO_NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.fixture
def demo_app(sqlite_settings: Settings, sqlite_db: Database) -> FastAPI:
    install_demo(sqlite_db, sqlite_settings, DEMO_NOW)
    return create_app(sqlite_settings, sqlite_db)


@pytest.fixture
def client(demo_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(demo_app) as test_client:
        yield test_client


@pytest.fixture
def live_url(demo_app: FastAPI) -> Iterator[str]:
    """The demo app served by uvicorn on a free local port, for the browser tests."""
    with served(demo_app) as url:
        yield url


@pytest.fixture
def chromium() -> Iterator[Chromium]:
    """Headless Chromium whose pages record any dialog script opens (`chromium.dialogs`)."""
    with launched() as browser:
        yield browser


# Signing in --------------------------------------------------------------------------------

DEMO_PASSWORD = "yuqing-demo-2026"
ADMIN_PASSWORD = "admin-test-2026"
"""The demo admin's password is random; `signed_in` sets this one before signing in as admin."""


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Sign `client` in through POST /api/session; it keeps the cookie and sends the CSRF
    token as the X-CSRF-Token header from then on. Returns the token."""
    response = client.post("/api/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token


def set_admin_password(db: Database, password: str = ADMIN_PASSWORD) -> None:
    from yuqing.accounts.actor import SYSTEM
    from yuqing.accounts.manage import set_password

    with db.session() as session:
        set_password(session, "admin", password, SYSTEM, datetime.now(UTC))


@pytest.fixture
def signed_in(demo_app: FastAPI, sqlite_db: Database) -> Iterator[Callable[[str], TestClient]]:
    """Make a TestClient signed in as a demo user (admin, monitor, office, leader, viewer,
    qj_monitor, qj_office, qj_leader): `signed_in("office")`."""
    clients: list[TestClient] = []
    admin_ready = False

    def make(username: str) -> TestClient:
        nonlocal admin_ready
        if username == "admin" and not admin_ready:
            set_admin_password(sqlite_db)
            admin_ready = True
        test_client = TestClient(demo_app)
        test_client.__enter__()
        clients.append(test_client)
        sign_in(test_client, username, ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD)
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


@pytest.fixture
def monitor(signed_in: Callable[[str], TestClient]) -> TestClient:
    """The demo monitor of the head office (sees every unit), signed in."""
    return signed_in("monitor")


@pytest.fixture
def admin(signed_in: Callable[[str], TestClient]) -> TestClient:
    """The demo admin of the head office, signed in."""
    return signed_in("admin")


TEST_PASSWORD = "test-password-2026"


def add_role_user(db: Database, role: str, unit: str | None = None) -> str:
    """A user `test_<role>` with TEST_PASSWORD in `unit` (default: the first top unit, made
    as ORG if there is none); returns the username. Safe to call twice."""
    from yuqing.accounts.actor import SYSTEM
    from yuqing.accounts.manage import NewUser, add_user
    from yuqing.store.units import list_units, upsert_unit
    from yuqing.store.users import find_user

    username = f"test_{role}" if unit is None else f"test_{role}_{unit.lower()}"
    with db.session() as session:
        if find_user(session, username) is None:
            if unit is None:
                tops = [u for u in list_units(session) if u.parent_id is None]
                top = (
                    tops[0]
                    if tops
                    else upsert_unit(session, code="ORG", name="本单位", level="head", parent=None)
                )
                unit = top.code
            new = NewUser(username, role, unit, f"测试{role}", TEST_PASSWORD)
            add_user(session, new, SYSTEM, datetime.now(UTC))
    return username


@pytest.fixture
def web_user(sqlite_db: Database) -> Callable[[TestClient, str], TestClient]:
    """Sign a TestClient over `sqlite_db` in as a user with `role` at the top unit:
    `web_user(client, "monitor")`; the client then sends the CSRF header itself."""

    def make(client: TestClient, role: str) -> TestClient:
        sign_in(client, add_role_user(sqlite_db, role), TEST_PASSWORD)
        return client

    return make


@pytest.fixture
def role_user(sqlite_db: Database) -> Callable[[str], tuple[str, str]]:
    """Add (once) a user with `role` at the top unit of `sqlite_db`; returns its username
    and password."""
    return lambda role: (add_role_user(sqlite_db, role), TEST_PASSWORD)


@pytest.fixture
def page_sign_in() -> Callable[[Page, str, str, str], None]:
    """Sign a browser page in through the /login form: `page_sign_in(page, base_url,
    username, password)`; the page ends on the items list."""

    def sign_in_page(page: Page, base_url: str, username: str, password: str) -> None:
        page.goto(base_url + "/")
        page.wait_for_url("**/login?next=*")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(base_url + "/")

    return sign_in_page
