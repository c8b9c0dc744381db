"""Fixtures: the organization of `orgdata` in a fresh SQLite database, and an app over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from orgdata import make_org

from yuqing.settings import Settings
from yuqing.store.db import Database
from yuqing.web.app import create_app


@pytest.fixture
def login_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Small limits so lock-out and rate limiting show in a few attempts."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        login_max_failures=3,
        login_lock_minutes=10,
        login_ip_max_failures=6,
    )


@pytest.fixture
def org_db(login_settings: Settings) -> Iterator[Database]:
    from yuqing.store.db import open_database

    database = open_database(login_settings.resolved_database_url)
    make_org(database)
    yield database
    database.dispose()


@pytest.fixture
def web(login_settings: Settings, org_db: Database) -> Iterator[TestClient]:
    """A client of the app over the organization, signed in as no one."""
    with TestClient(create_app(login_settings, org_db)) as client:
        yield client
