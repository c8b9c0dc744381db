"""Shared fixtures: a fresh migrated database per test (SQLite or PostgreSQL), copied from a
template migrated once per session, and settings pointing at a temporary data directory."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from fixture_server import FixtureServer
from yuqing.settings import Settings
from yuqing.store.db import Database, open_database

POSTGRES_URL = os.environ.get(
    "YUQING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = open_database(f"sqlite:///{path}")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database on the local PostgreSQL; CI fails if it is unreachable."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    name = f"yuqing_tpl_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    open_database(url).dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_postgres(template: str) -> tuple[str, str]:
    name = f"yuqing_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return name, make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(name: str) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _copy_template(tmp_path: Path, template: Path) -> str:
    path = tmp_path / "yuqing.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def _open(url: str) -> Iterator[Database]:
    database = open_database(url)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A fresh migrated database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield _copy_template(tmp_path, sqlite_template)
        return
    template = request.getfixturevalue("postgres_template")
    name, url = _fresh_postgres(template)
    yield url
    _drop_postgres(name)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh migrated SQLite database (for tests that are not about storage)."""
    return _copy_template(tmp_path, sqlite_template)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    yield from _open(settings.resolved_database_url)


@pytest.fixture
def sqlite_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=sqlite_url)


@pytest.fixture
def sqlite_db(sqlite_settings: Settings) -> Iterator[Database]:
    yield from _open(sqlite_settings.resolved_database_url)


@pytest.fixture(scope="session")
def _fixture_server() -> Iterator[FixtureServer]:
    server = FixtureServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site(_fixture_server: FixtureServer) -> Iterator[FixtureServer]:
    """The local fixture HTTP server (tests/fixtures/sites), with this test's routes only."""
    _fixture_server.reset()
    yield _fixture_server
    _fixture_server.reset()
