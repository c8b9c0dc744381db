"""The Chinese case pages: the list with time left, one report form with its actions.

Every change goes through `CaseService.act`, as in the API. A refused action shows the case
page again with the refusal in words (409 for the workflow, 400 for a field), nothing saved.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from yuqing.accounts.actor import Actor
from yuqing.cases.fields import FIELD_LABELS
from yuqing.cases.listing import case_filter, overdue_summary
from yuqing.cases.present import (
    case_form,
    case_json,
    case_row_json,
    final_states,
    measure_name,
    steps_of,
)
from yuqing.cases.service import CaseService
from yuqing.errors import InputError, WorkflowError
from yuqing.store import cases as case_store
from yuqing.store.attachments import MAX_UPLOAD_BYTES
from yuqing.store.tables import Case, Unit
from yuqing.web.api.cases import CaseServiceDep, upload_name, visible_or_404
from yuqing.web.auth import Require
from yuqing.web.deps import SessionDep
from yuqing.web.messages import t
from yuqing.web.templating import local_time, templates

router = APIRouter(include_in_schema=False)
PER_PAGE = 20
Reader = Annotated[Actor, Require("cases.read")]
# Fields whose form control is a multi-line text box.
LONG_FIELDS = frozenset(
    {"reporting_opinion", "instruction", "handling_opinion", "implementation", "result_note"}
)


async def _form(request: Request) -> FormData:
    return await request.form()  # parsed once (the CSRF check read it already)


FormDep = Annotated[FormData, Depends(_form)]


def _refusal(exc: WorkflowError | InputError) -> tuple[str, int]:
    """A refusal in words and its status: 409 for the workflow, 400 for a field."""
    if isinstance(exc, InputError):
        return exc.reason, 400
    return str(exc), 409


@contextmanager
def _attempt(session: Session) -> Iterator[None]:
    """Run a change in a savepoint: if it is refused, nothing of it stays, not even the fields
    the service set before it found the refusal (the savepoint's rollback expires them)."""
    with session.begin_nested():
        yield


def _names(service: CaseService) -> dict[str, Any]:
    tz = service.tz

    def local(iso: str | None) -> str:
        return local_time(datetime.fromisoformat(iso), tz) if iso else ""

    return {"local": local, "tz": tz, "field_label": FIELD_LABELS.get}


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    session: SessionDep,
    service: CaseServiceDep,
    actor: Reader,
    state: Annotated[str, Query(max_length=40)] = "",
    grade: Annotated[str, Query(max_length=40)] = "",
    unit: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    open_only: Annotated[str, Query(alias="open", max_length=5)] = "",
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    params = {
        "state": state,
        "grade": grade,
        "unit": unit,
        "q": q,
        "open": open_only,
        "since": since,
        "until": until,
    }
    now = datetime.now(UTC)
    error, rows, total = None, [], 0
    try:
        flt = case_filter(
            session,
            service,
            state=state,
            grade=grade,
            unit=unit,
            q=q,
            open_only=bool(open_only),
            since=since,
            until=until,
        )
        found = case_store.list_cases(
            session,
            actor,
            flt,
            final_states=final_states(service.workflow),
            page=page,
            per_page=PER_PAGE,
        )
        steps = steps_of(session, service, found.rows, now)
        units = {u.id: u for u in session.scalars(select(Unit))}
        rows = [case_row_json(service, c, units.get(c.unit_id), steps[c.id]) for c in found.rows]
        total = found.total
    except InputError as exc:
        error = exc.reason
    overdue_steps, overdue_cases = overdue_summary(session, service, actor, now)
    kept = {k: v for k, v in params.items() if v}

    def page_url(number: int) -> str:
        return "/cases?" + urlencode({**kept, "page": number})

    return templates.TemplateResponse(
        request,
        "cases.html",
        {
            "params": params,
            "error": error,
            "rows": rows,
            "total": total,
            "overdue_steps": overdue_steps,
            "overdue_cases": overdue_cases,
            "states": service.workflow.states,
            "grades": service.standard.grades,
            "units": [
                u
                for u in session.scalars(select(Unit).order_by(Unit.id))
                if u.id in actor.unit_ids or actor.is_system
            ],
            "page": page,
            "pages": max(1, math.ceil(total / PER_PAGE)),
            "page_url": page_url,
            **_names(service),
        },
        status_code=400 if error else 200,
    )


def _notes(detail: dict[str, Any], service: CaseService, units: dict[int, str]) -> list[str]:
    """What a timeline entry's detail says, in words."""
    notes = []
    changed = detail.get("changed") or {}
    if changed:
        labels = "、".join(FIELD_LABELS.get(name, name) for name in changed)
        notes.append(t("case.changed", fields=labels))
    if removed := detail.get("removed_measures"):
        names = "、".join(measure_name(service.standard, code) for code in removed)
        notes.append(t("case.removed_measures", names=names))
    if name := detail.get("file"):
        notes.append(t("case.file_added", name=name))
    if unit_id := detail.get("escalated_to"):
        notes.append(t("case.escalated_detail", unit=units.get(unit_id, str(unit_id))))
    return notes


def _case_page(
    request: Request,
    session: Session,
    service: CaseService,
    actor: Actor,
    case: Case,
    *,
    error: str | None = None,
    failed_action: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    now = datetime.now(UTC)
    detail = case_json(session, service, case, now, actor)
    units: dict[int, str] = dict(session.execute(select(Unit.id, Unit.name)).all())
    for entry in detail["timeline"]:
        entry["notes"] = _notes(entry["detail"] or {}, service, units)
    standard = service.standard
    return templates.TemplateResponse(
        request,
        "case.html",
        {
            "case": detail,
            "form": case_form(session, service, case, now),
            "actions": [a for a in detail["allowed_actions"] if a["code"] != "attach"],
            "can_attach": any(a["code"] == "attach" for a in detail["allowed_actions"]),
            "measures": detail["measures_offered"],
            "grades": standard.grades,
            "categories": list(standard.iter_categories()),
            "results": service.workflow.results,
            "long_fields": LONG_FIELDS,
            "error": error,
            "failed_action": failed_action,
            "max_upload_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
            **_names(service),
        },
        status_code=status,
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request, case_id: int, session: SessionDep, service: CaseServiceDep, actor: Reader
) -> HTMLResponse:
    case = visible_or_404(session, actor, case_id)
    return _case_page(request, session, service, actor, case)


def _id(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise InputError(name, f"{FIELD_LABELS.get(name, name)}须为数字编号，收到 {value[:40]!r}")
    return int(value)


@router.post("/cases", response_class=HTMLResponse, response_model=None)
def open_case(
    request: Request,
    session: SessionDep,
    service: CaseServiceDep,
    actor: Annotated[Actor, Require("cases.create")],
    item_id: Annotated[str, Form(max_length=20)] = "",
    event_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The "填写报告处理单" button of an item or event page: a draft, then its page."""
    try:
        with _attempt(session):
            case = service.open(
                session,
                actor,
                datetime.now(UTC),
                item_id=_id(item_id, "item_id"),
                event_id=_id(event_id, "event_id"),
            )
    except (WorkflowError, InputError) as exc:
        message, status = _refusal(exc)
        return templates.TemplateResponse(request, "error.html", {"message": message}, status)
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


def _inputs(service: CaseService, action: str, form: FormData) -> dict[str, Any]:
    """The submitted values of the action's fields (and note); others are ignored."""
    fields = (*service.workflow.action(action).fields, "note")
    inputs: dict[str, Any] = {}
    for name in fields:
        values = [v for v in form.getlist(name) if isinstance(v, str)]
        if not values:
            continue
        if name == "measures":  # checkboxes, with a hidden "" so none ticked means none
            inputs[name] = [v for v in values if v]
        elif name == "illegal_or_false":  # a hidden "0" before the checkbox's "1"
            inputs[name] = "1" in values
        elif name == "note" and not values[-1].strip():
            continue
        else:
            inputs[name] = values[-1]
    return inputs


@router.post("/cases/{case_id}/actions/{action}", response_class=HTMLResponse, response_model=None)
def act(
    request: Request,
    case_id: int,
    action: str,
    session: SessionDep,
    service: CaseServiceDep,
    actor: Reader,
    form: FormDep,
) -> Response:
    case = visible_or_404(session, actor, case_id)
    try:
        with _attempt(session):
            if action == "attach":
                raise InputError("attach", "添加附件请在「附件」栏选择文件上传")
            service.act(
                session, actor, case, action, _inputs(service, action, form), datetime.now(UTC)
            )
    except (WorkflowError, InputError) as exc:
        message, status = _refusal(exc)
        return _case_page(
            request,
            session,
            service,
            actor,
            case,
            error=message,
            failed_action=action,
            status=status,
        )
    return RedirectResponse(f"/cases/{case.id}#timeline", status_code=303)


@router.post("/cases/{case_id}/files", response_class=HTMLResponse, response_model=None)
def add_file(
    request: Request,
    case_id: int,
    session: SessionDep,
    service: CaseServiceDep,
    actor: Reader,
    file: UploadFile,
) -> Response:
    case = visible_or_404(session, actor, case_id)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    try:
        with _attempt(session):
            service.add_file(
                session, actor, case, upload_name(file.filename), data, datetime.now(UTC)
            )
    except (WorkflowError, InputError) as exc:
        message, status = _refusal(exc)
        return _case_page(
            request,
            session,
            service,
            actor,
            case,
            error=message,
            failed_action="attach",
            status=status,
        )
    return RedirectResponse(f"/cases/{case.id}#files", status_code=303)


def case_of_event(request: Request, event_id: int | None) -> dict[str, Any] | None:
    """The case of an event the signed-in user sees (for the item and event pages' button)."""
    actor: Actor | None = getattr(request.state, "actor", None)
    if event_id is None or actor is None:
        return None
    with request.app.state.db.session() as session:
        case = case_store.case_for_event(session, event_id)
        if case is None or case_store.visible_case(session, actor, case.id) is None:
            return None
        return {"id": case.id, "number": case.number}


templates.env.globals["case_of_event"] = case_of_event
