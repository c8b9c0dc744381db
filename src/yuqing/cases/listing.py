"""Listing cases: the filter from request parameters and the overdue count over open cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.cases.deadlines import overdue_count
from yuqing.cases.present import final_states, steps_of
from yuqing.cases.service import CaseService
from yuqing.errors import InputError
from yuqing.store import cases as case_store
from yuqing.store.tables import Unit
from yuqing.store.units import unit_by_code


def overdue_summary(
    session: Session, service: CaseService, actor: Actor, now: datetime
) -> tuple[int, int]:
    """(overdue steps, cases with one) over every open case the actor sees."""
    page = case_store.list_cases(
        session,
        actor,
        case_store.CaseFilter(open_only=True),
        final_states=final_states(service.workflow),
        per_page=100_000,
    )
    counts = [overdue_count(steps) for steps in steps_of(session, service, page.rows, now).values()]
    return sum(counts), sum(1 for n in counts if n)


def _day(name: str, label: str, value: str | None, service: CaseService) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(name, f"{label}须为日期，如 2026-11-21，收到 {value[:40]!r}") from None
    return datetime.combine(day, time(0, 0), tzinfo=service.tz).astimezone(UTC)


def case_filter(
    session: Session,
    service: CaseService,
    *,
    state: str | None = None,
    grade: str | None = None,
    unit: str | None = None,
    q: str | None = None,
    open_only: bool = False,
    since: str | None = None,
    until: str | None = None,
) -> case_store.CaseFilter:
    """The list filter from request parameters; InputError naming a bad one.

    `unit` is a unit code or id; `since`/`until` are office-local dates, both days included.
    """
    states = [s.code for s in service.workflow.states]
    if state and state not in states:
        raise InputError("state", f"状态 {state[:40]!r} 无效，可选：{'、'.join(states)}")
    grades = [g.code.value for g in service.standard.grades]
    if grade and grade not in grades:
        raise InputError("grade", f"等级 {grade[:40]!r} 无效，可选：{'、'.join(grades)}")
    unit_id = None
    if unit:
        row = session.get(Unit, int(unit)) if unit.isdigit() else unit_by_code(session, unit)
        if row is None:
            raise InputError("unit", f"单位 {unit[:40]!r} 不存在（可填单位代码或编号）")
        unit_id = row.id
    first = _day("since", "起始日期", since, service)
    last = _day("until", "截止日期", until, service)
    return case_store.CaseFilter(
        state=state or None,
        grade=grade or None,
        unit_id=unit_id,
        open_only=open_only,
        q=(q or "").strip()[:200] or None,
        since=first,
        until=last + timedelta(days=1) if last is not None else None,
    )
