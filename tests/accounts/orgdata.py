"""An organization with a small unit tree and one user per role, and an app over it.

ORG (head) ─┬─ NORTH (city) ── NORTH-1 (county)
            └─ SOUTH (city)
"""

from __future__ import annotations

from datetime import UTC, datetime

from yuqing.accounts.actor import SYSTEM
from yuqing.accounts.manage import NewUser, add_user
from yuqing.store.db import Database
from yuqing.store.units import upsert_unit

PASSWORD = "correct-horse-42"


def make_org(db: Database) -> None:
    """The unit tree above and users `admin`, `monitor`, `office`, `leader`, `viewer` at ORG
    and `north_monitor` at NORTH, all with PASSWORD."""
    now = datetime.now(UTC)
    with db.session() as session:
        org = upsert_unit(session, code="ORG", name="总部", level="head", parent=None)
        north = upsert_unit(session, code="NORTH", name="北区", level="city", parent=org)
        upsert_unit(session, code="NORTH-1", name="北一县", level="county", parent=north)
        upsert_unit(session, code="SOUTH", name="南区", level="city", parent=org)
        for role in ("admin", "monitor", "office", "leader", "viewer"):
            add_user(session, NewUser(role, role, "ORG", f"{role}用户", PASSWORD), SYSTEM, now)
        add_user(
            session, NewUser("north_monitor", "monitor", "NORTH", "北区监测", PASSWORD), SYSTEM, now
        )
