"""The unit tree (province → city → county): rows and lookups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.store.tables import Unit


def unit_by_code(session: Session, code: str) -> Unit | None:
    return session.scalars(select(Unit).where(Unit.code == code)).first()


def unit_regions(session: Session) -> dict[int, str]:
    """Unit id → region, for units that name one."""
    rows = session.execute(select(Unit.id, Unit.region).where(Unit.region.is_not(None)))
    return {unit_id: region for unit_id, region in rows if region}


def unit_parents(session: Session) -> dict[int, int | None]:
    """Unit id → its parent's id (None at the top)."""
    return {row.id: row.parent_id for row in session.execute(select(Unit.id, Unit.parent_id))}


def list_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.id)))


def upsert_unit(
    session: Session,
    *,
    code: str,
    name: str,
    level: str,
    parent: Unit | None,
    region: str | None = None,
    contact_a: dict[str, Any] | None = None,
    contact_b: dict[str, Any] | None = None,
) -> Unit:
    """Create or update the unit with `code`."""
    unit = unit_by_code(session, code)
    if unit is None:
        unit = Unit(code=code)
        session.add(unit)
    unit.name = name
    unit.level = level
    unit.parent_id = parent.id if parent is not None else None
    unit.region = region
    unit.contact_a = contact_a
    unit.contact_b = contact_b
    session.flush()
    return unit


def subtree_ids(session: Session, root_id: int) -> set[int]:
    """The unit and every unit below it."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    return subtree(children, root_id)


def subtree(children: Mapping[int | None, Sequence[int]], root: int) -> set[int]:
    """`root` and everything below it in a parent → children map."""
    out: set[int] = set()
    stack = [root]
    while stack:
        current = stack.pop()
        if current not in out:
            out.add(current)
            stack.extend(children.get(current, ()))
    return out
