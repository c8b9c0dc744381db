"""Cases (report forms): lookups, who may see them, lists with filters, numbering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.store.tables import Case, CaseAction, CaseFile, Unit


def unit_path(session: Session, unit_id: int) -> list[int]:
    """The unit and its ancestors, nearest first."""
    rows = session.execute(select(Unit.id, Unit.parent_id)).all()
    parents: dict[int, int | None] = {row.id: row.parent_id for row in rows}
    path: list[int] = []
    current: int | None = unit_id
    while current is not None and current not in path:
        path.append(current)
        current = parents.get(current)
    return path


def visibility(session: Session, actor: Actor) -> ColumnElement[bool]:
    """Cases the actor sees: its own unit's, and those reported up to (or past) its unit.

    A subordinate unit's case stays with that unit until it is reported upward; then every
    unit from there up to the one it was reported to sees it, with its history.
    """
    if actor.is_system:
        return true()
    if actor.unit_id is None:
        return Case.id.is_(None)
    own = Case.unit_id == actor.unit_id
    reported_here = and_(
        Case.unit_id.in_(actor.unit_ids),
        Case.escalated_to_id.in_(unit_path(session, actor.unit_id)),
    )
    return or_(own, reported_here)


def visible_case(session: Session, actor: Actor, case_id: int) -> Case | None:
    return session.scalars(
        select(Case).where(Case.id == case_id, visibility(session, actor))
    ).first()


def case_for_event(session: Session, event_id: int) -> Case | None:
    return session.scalars(select(Case).where(Case.event_id == event_id)).first()


def next_seq(session: Session, unit_id: int, year: int) -> int:
    """The next number of a unit's year; the unique (unit, year, seq) catches a race."""
    current = session.scalar(
        select(func.max(Case.seq)).where(Case.unit_id == unit_id, Case.year == year)
    )
    return int(current or 0) + 1


@dataclass(frozen=True, slots=True)
class CaseFilter:
    state: str | None = None
    grade: str | None = None
    unit_id: int | None = None
    open_only: bool = False
    q: str | None = None  # number or topic contains
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class CasePage:
    rows: list[Case]
    total: int


def list_cases(
    session: Session,
    actor: Actor,
    flt: CaseFilter,
    *,
    final_states: Sequence[str],
    page: int = 1,
    per_page: int = 20,
) -> CasePage:
    """Visible cases, newest first, with the filters applied."""
    conditions: list[ColumnElement[bool]] = [visibility(session, actor)]
    if flt.state:
        conditions.append(Case.state == flt.state)
    if flt.grade:
        conditions.append(Case.grade == flt.grade)
    if flt.unit_id is not None:
        conditions.append(Case.unit_id == flt.unit_id)
    if flt.open_only:
        conditions.append(Case.state.not_in(list(final_states)))
    if flt.q:
        needle = f"%{flt.q}%"
        conditions.append(or_(Case.number.like(needle), Case.topic.like(needle)))
    if flt.since is not None:
        conditions.append(Case.discovered_at >= flt.since)
    if flt.until is not None:
        conditions.append(Case.discovered_at < flt.until)
    total = int(session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0)
    rows = session.scalars(
        select(Case)
        .where(*conditions)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return CasePage(list(rows), total)


def open_cases(session: Session, final_states: Sequence[str]) -> list[Case]:
    """Every case not closed or withdrawn (deadline reminders walk these)."""
    return list(session.scalars(select(Case).where(Case.state.not_in(list(final_states)))))


def last_action_at(session: Session, case_id: int, action: str) -> datetime | None:
    return session.scalar(
        select(func.max(CaseAction.at)).where(
            CaseAction.case_id == case_id, CaseAction.action == action
        )
    )


def case_files(session: Session, case_id: int) -> list[CaseFile]:
    return list(
        session.scalars(select(CaseFile).where(CaseFile.case_id == case_id).order_by(CaseFile.id))
    )
