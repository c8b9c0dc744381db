"""A web app over a database holding the demo organization and its items (analyzed, graded,
with their events: the demo goes through the whole pipeline), and that app served live."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_url(demo_app: FastAPI) -> Iterator[str]:
    """The demo app served by uvicorn on a free local port, for the browser tests."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(demo_app, host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
