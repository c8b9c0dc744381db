"""A web app over a database holding the demo organization and its items (analyzed, graded,
with their events: the demo goes through the whole pipeline), and that app served live."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from live import Chromium, launched, served

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
