"""A case as people see it: its deadline clock and steps, the printed form, the API's JSON.

The glue between the case row (store), the workflow (who may do what next), the deadlines
(cases/deadlines.py) and the form view model (cases/form.py). Pages and the API both go
through here, so the list, the page, the DOCX and `/api/cases` always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.accounts.roles import role_name
from yuqing.cases.calendar import WorkingCalendar
from yuqing.cases.deadlines import OPEN_STATES, CaseClock, StepStatus, case_steps, overdue_count
from yuqing.cases.fields import FIELD_LABELS
from yuqing.cases.form import CaseForm, format_time, step_rows
from yuqing.cases.service import CaseService
from yuqing.cases.workflow import Action, Workflow
from yuqing.errors import ConfigError, WorkflowError
from yuqing.standard import Standard
from yuqing.store import cases as case_store
from yuqing.store.tables import Case, CaseAction, CaseFile, Unit

CREATE = "create"
"""The timeline code of opening a case (not an action of the table)."""
FOLLOW_UP = "follow_up"


def final_states(workflow: Workflow) -> list[str]:
    return [state.code for state in workflow.states if state.final]


def _units(session: Session) -> dict[int, Unit]:
    return {unit.id: unit for unit in session.scalars(select(Unit))}


def _follow_ups(session: Session, case_ids: Sequence[int]) -> dict[int, datetime]:
    """The last follow-up report (续报) of each case, in one query."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(CaseAction.case_id, func.max(CaseAction.at))
        .where(CaseAction.case_id.in_(case_ids), CaseAction.action == FOLLOW_UP)
        .group_by(CaseAction.case_id)
    )
    return {case_id: at for case_id, at in rows if at is not None}


def _clock(case: Case, unit: Unit | None, follow_up: datetime | None, final: bool) -> CaseClock:
    # A closed or withdrawn case no longer runs against its deadlines: met steps stay met,
    # the others stop counting (CaseClock calls this "withdrawn").
    return CaseClock(
        discovered_at=case.discovered_at,
        grade=case.grade,
        unit_level=unit.level if unit is not None else None,
        reported_at=case.reported_at,
        phone_reported_at=case.phone_reported_at,
        follow_up_at=follow_up,
        closed_at=case.closed_at,
        withdrawn=final,
    )


def case_clock(session: Session, case: Case, workflow: Workflow) -> CaseClock:
    """What the deadlines need of the case: its unit's level, the last follow-up report."""
    return _clock(
        case,
        session.get(Unit, case.unit_id),
        case_store.last_action_at(session, case.id, FOLLOW_UP),
        workflow.state(case.state).final,
    )


def _steps(
    service: CaseService, clock: CaseClock, now: datetime, calendar: WorkingCalendar | None = None
) -> list[StepStatus]:
    calendar = calendar or WorkingCalendar.from_standard(service.standard)
    soon = timedelta(minutes=service.settings.deadline_reminder_minutes)
    return case_steps(service.standard, calendar, clock, now, service.tz, soon)


def case_steps_now(
    session: Session, service: CaseService, case: Case, now: datetime
) -> list[StepStatus]:
    """The case's deadline steps and how it stands against each at `now`."""
    return _steps(service, case_clock(session, case, service.workflow), now)


def steps_of(
    session: Session, service: CaseService, cases: Sequence[Case], now: datetime
) -> dict[int, list[StepStatus]]:
    """Deadline steps of many cases (a list page) with two queries, not two per case."""
    units = _units(session)
    follow_ups = _follow_ups(session, [case.id for case in cases])
    calendar = WorkingCalendar.from_standard(service.standard)
    return {
        case.id: _steps(
            service,
            _clock(
                case,
                units.get(case.unit_id),
                follow_ups.get(case.id),
                service.workflow.state(case.state).final,
            ),
            now,
            calendar,
        )
        for case in cases
    }


def next_step(steps: Iterable[StepStatus]) -> StepStatus | None:
    """The open step due first (overdue ones come first, being due earliest)."""
    timed = [(s.due_at, n, s) for n, s in enumerate(steps) if s.state in OPEN_STATES and s.due_at]
    return min(timed)[2] if timed else None


# Names -------------------------------------------------------------------------------------


def action_name(workflow: Workflow, code: str) -> str:
    if code == CREATE:
        return "新建报告处理单"
    try:
        return workflow.action(code).name
    except WorkflowError:  # an action since removed from the table shows its code
        return code


def category_label(standard: Standard, code: str | None) -> str:
    if not code:
        return ""
    try:
        return f"{code} {standard.category_name(code)}"
    except ConfigError:
        return code  # a code of an earlier taxonomy


def measure_name(standard: Standard, code: str) -> str:
    try:
        return standard.measure(code).name
    except ConfigError:
        return code


def _unit_json(unit: Unit | None) -> dict[str, Any] | None:
    return {"id": unit.id, "code": unit.code, "name": unit.name} if unit else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# The printed form --------------------------------------------------------------------------


def case_form(session: Session, service: CaseService, case: Case, now: datetime) -> CaseForm:
    """The report form of the case, every field a string ready to print."""
    tz, workflow, standard = service.tz, service.workflow, service.standard
    unit = session.get(Unit, case.unit_id)
    return CaseForm(
        number=case.number,
        unit_name=unit.name if unit else "",
        state_name=workflow.state_name(case.state),
        source_name=case.source_name or "",
        captured_by=case.captured_by or "",
        captured_at=format_time(case.captured_at, tz),
        copies=str(case.copies),
        url=case.url or "",
        topic=case.topic,
        grade_name=standard.grade_name(case.grade),
        category_name=category_label(standard, case.category),
        attachments=[f.filename for f in case_store.case_files(session, case.id)],
        reporting_opinion=case.reporting_opinion or "",
        instruction=case.instruction or "",
        instruction_by=case.instruction_by or "",
        instruction_at=format_time(case.instruction_at, tz),
        handling_opinion=case.handling_opinion or "",
        implementation=case.implementation or "",
        measures=[measure_name(standard, code) for code in case.measures],
        result_name=workflow.result_name(case.result) if case.result else "",
        discovered_at=format_time(case.discovered_at, tz),
        reported_at=format_time(case.reported_at, tz),
        closed_at=format_time(case.closed_at, tz),
        steps=step_rows(case_steps_now(session, service, case, now), tz),
        timeline=[
            (format_time(a.at, tz), a.actor, action_name(workflow, a.action), a.note or "")
            for a in case.actions
        ],
        printed_at=format_time(now, tz),
    )


# JSON --------------------------------------------------------------------------------------


def action_json(action: Action) -> dict[str, Any]:
    """An action the caller may take, with the fields it accepts (and those it needs)."""
    return {
        "code": action.code,
        "name": action.name,
        "to": action.to,
        "fields": [
            {"name": name, "label": FIELD_LABELS[name], "required": name in action.requires}
            for name in (*action.fields, "note")
        ],
    }


def measures_json(standard: Standard, grade: str, illegal_or_false: bool) -> list[dict[str, Any]]:
    """The measures offered for a grade: those the grade allows, illegal-only ones marked and
    `allowed` only when the content is marked illegal or false."""
    standard.grade(grade)  # ConfigError naming the grades when unknown
    return [
        {
            "code": m.code,
            "name": m.name,
            "description": m.description,
            "illegal_or_false_only": m.requires == "illegal_or_false",
            "allowed": m.requires is None or illegal_or_false,
        }
        for m in standard.measures
        if grade in m.allowed_grades
    ]


def step_json(step: StepStatus) -> dict[str, Any]:
    return {
        "code": step.code,
        "name": step.name,
        "description": step.description,
        "due_at": _iso(step.due_at),
        "met_at": _iso(step.met_at),
        "state": step.state,
        "remaining_seconds": step.remaining_seconds,
        "remaining_text": step.remaining_text(),
        "error": step.error,
    }


def file_json(row: CaseFile) -> dict[str, Any]:
    return {
        "id": row.id,
        "filename": row.filename,
        "media_type": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
        "added_by": row.added_by,
        "created_at": _iso(row.created_at),
        "url": f"/api/cases/{row.case_id}/files/{row.id}",
    }


def case_row_json(
    service: CaseService, case: Case, unit: Unit | None, steps: list[StepStatus]
) -> dict[str, Any]:
    """A case in a list: what it is, where it stands, what is due next."""
    upcoming = next_step(steps)
    return {
        "id": case.id,
        "number": case.number,
        "topic": case.topic,
        "state": case.state,
        "state_name": service.workflow.state_name(case.state),
        "grade": case.grade,
        "grade_name": service.standard.grade_name(case.grade),
        "unit": _unit_json(unit),
        "discovered_at": _iso(case.discovered_at),
        "next_step": step_json(upcoming) if upcoming else None,
        "overdue_count": overdue_count(steps),
    }


def case_json(
    session: Session, service: CaseService, case: Case, now: datetime, actor: Actor | None
) -> dict[str, Any]:
    """Every field of the form (SPEC 2.6), its steps, timeline, files, and — for `actor` —
    the actions it may take now with the fields each accepts."""
    workflow, standard = service.workflow, service.standard
    units = _units(session)
    steps = case_steps_now(session, service, case, now)
    allowed = service.allowed_actions(session, actor, case) if actor is not None else []
    withdrawn = [a.note for a in case.actions if a.action == "withdraw" and a.note]
    return {
        **case_row_json(service, case, units.get(case.unit_id), steps),
        "final": workflow.state(case.state).final,
        "item_id": case.item_id,
        "event_id": case.event_id,
        "category": case.category,
        "category_name": category_label(standard, case.category),
        "illegal_or_false": case.illegal_or_false,
        "source_name": case.source_name,
        "captured_by": case.captured_by,
        "captured_at": _iso(case.captured_at),
        "copies": case.copies,
        "url": case.url,
        "reporting_opinion": case.reporting_opinion,
        "instruction": case.instruction,
        "instruction_by": case.instruction_by,
        "instruction_at": _iso(case.instruction_at),
        "handling_opinion": case.handling_opinion,
        "implementation": case.implementation,
        "measures": [{"code": c, "name": measure_name(standard, c)} for c in case.measures],
        "measures_offered": measures_json(standard, case.grade, case.illegal_or_false),
        "result": case.result,
        "result_name": workflow.result_name(case.result) if case.result else None,
        "result_note": case.result_note,
        "withdraw_reason": case.withdraw_reason or (withdrawn[-1] if withdrawn else None),
        "phone_reported_at": _iso(case.phone_reported_at),
        "phone_reported_by": case.phone_reported_by,
        "reported_at": _iso(case.reported_at),
        "escalated_to": _unit_json(units.get(case.escalated_to_id or 0)),
        "escalated_at": _iso(case.escalated_at),
        "closed_at": _iso(case.closed_at),
        "created_by": case.created_by,
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "allowed_actions": [action_json(a) for a in allowed],
        "steps": [step_json(s) for s in steps],
        "timeline": [
            {
                "at": _iso(a.at),
                "actor": a.actor,
                "role": a.role,
                "role_name": role_name(a.role) if a.role else None,
                "unit": _unit_json(units.get(a.actor_unit_id or 0)),
                "action": a.action,
                "action_name": action_name(workflow, a.action),
                "from_state": a.from_state,
                "to_state": a.to_state,
                "to_state_name": workflow.state_name(a.to_state),
                "note": a.note,
                "detail": a.detail,
            }
            for a in case.actions
        ],
        "files": [file_json(f) for f in case_store.case_files(session, case.id)],
    }
