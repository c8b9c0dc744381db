"""Signing in demo users and finding demo items, for the case API, page and browser tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from demo_items import uncased_item
from yuqing.accounts.actor import SYSTEM
from yuqing.accounts.manage import actor_for, issue_token
from yuqing.store.db import Database
from yuqing.store.tables import Case
from yuqing.store.users import find_user

PASSWORD = "yuqing-demo-2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


SignIn = Callable[[str], TestClient]
"""The `signed_in` fixture of conftest.py: `signed_in("office")` is a client signed in as
office through POST /api/session, sending its CSRF token as the X-CSRF-Token header."""


def with_token(app: FastAPI, db: Database, username: str) -> TestClient:
    """A client carrying an API token (no cookie, no CSRF token needed)."""
    with db.session() as session:
        raw = issue_token(session, username, "测试", SYSTEM, datetime.now(UTC))
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {raw}"
    return client


def negative_item(db: Database, username: str, grade: str = "harmful") -> int:
    """A demo item of `grade` that `username` sees, in an event without a case yet."""
    with db.session() as session:
        user = find_user(session, username)
        assert user is not None
        return uncased_item(session, actor_for(session, user), (grade,)).id


def found_ago(db: Database, case_id: int, delta: timedelta) -> None:
    """Say the case's matter was discovered `delta` ago (to test deadlines without waiting)."""
    with db.session() as session:
        session.execute(
            update(Case).where(Case.id == case_id).values(discovered_at=datetime.now(UTC) - delta)
        )
