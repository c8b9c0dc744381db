"""/api/audit ("audit.read"): the newest rows of the audit log with filters, and the check
of its hash chain (`GET /api/audit/verify`, the same walk as `yuqing audit verify`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.store import audit
from yuqing.store.browse import parse_moment
from yuqing.store.tables import AuditEntry
from yuqing.web.auth import Require
from yuqing.web.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/api/audit", tags=["audit"])
Auditor = Annotated[Actor, Require("audit.read")]


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "detail": entry.detail,
        "hash": entry.hash,
    }


def _rows(
    session: Session,
    *,
    limit: int,
    before: int | None,
    action: str | None,
    actor: str | None,
    target_type: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if action:
        # "case" finds every case action (case.report, case.close …); "login.fail" one kind.
        query = query.where(
            (AuditEntry.action == action)
            | AuditEntry.action.startswith(action.rstrip(".") + ".", autoescape=True)
        )
    if actor:
        query = query.where(AuditEntry.actor.contains(actor, autoescape=True))
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return list(session.scalars(query))


@router.get("")
def recent(
    _actor: Auditor,
    session: SessionDep,
    settings: SettingsDep,
    action: Annotated[
        str | None, Query(max_length=64, description="操作代码或其前缀，如 login 或 case.report")
    ] = None,
    actor: Annotated[str | None, Query(max_length=100, description="操作人包含的文字")] = None,
    target_type: Annotated[
        str | None, Query(max_length=32, description="对象类型，如 item、case、user、source")
    ] = None,
    target_id: Annotated[str | None, Query(max_length=64, description="对象编号")] = None,
    since: Annotated[str | None, Query(description="起始时间（含），ISO 8601")] = None,
    until: Annotated[str | None, Query(description="截止时间，ISO 8601；只写日期时含当天")] = None,
    before: Annotated[int | None, Query(ge=1, description="只列编号小于此值的（翻页）")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The newest audit rows first; page back with `before` = the last row's id."""
    tz = ZoneInfo(settings.timezone)
    rows = _rows(
        session,
        limit=limit,
        before=before,
        action=action,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        since=parse_moment(since, "since", tz),
        until=parse_moment(until, "until", tz, end=True),
    )
    return {"entries": [entry_dict(e) for e in rows]}


@router.get("/verify")
def verify(_actor: Auditor, session: SessionDep) -> dict[str, Any]:
    """Walk the hash chain: `ok`, rows checked, the first broken row and why, and the head
    hash (keep it elsewhere: only a comparison with it reveals rows cut off the end)."""
    return audit.verify(session).as_dict()
