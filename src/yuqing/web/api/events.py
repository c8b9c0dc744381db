"""GET /api/events and /api/events/{id} ("events.read"): events of the reader's unit
subtree and events of no unit."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query

from yuqing.accounts.actor import Actor
from yuqing.store import event_browse
from yuqing.store.event_browse import event_detail, event_summary
from yuqing.web.auth import Require
from yuqing.web.deps import SessionDep, SettingsDep

Reader = Annotated[Actor, Require("events.read")]

router = APIRouter(prefix="/api/events", tags=["events"])


@router.get("")
def list_events(
    actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    subject: Annotated[int | None, Query(description="主题 ID")] = None,
    unit: Annotated[int | None, Query(description="单位 ID（含下级单位）")] = None,
    grade: Annotated[str | None, Query(description="最低舆情等级代码，如 attention")] = None,
    since: Annotated[str | None, Query(description="在此时间之后仍有动态，ISO 8601")] = None,
    until: Annotated[str | None, Query(description="在此时间之前已出现；只写日期时含当天")] = None,
    q: Annotated[str | None, Query(max_length=200, description="标题包含的文字")] = None,
    min_items: Annotated[int, Query(ge=1, le=100_000, description="至少包含的信息条数")] = 1,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """Events with the most recent activity first, filtered and paged."""
    flt = event_browse.event_filter(
        subject=subject,
        unit=unit,
        grade=grade,
        since=since,
        until=until,
        q=q,
        min_items=min_items,
        tz=ZoneInfo(settings.timezone),
        units=actor.unit_ids,
    )
    result = event_browse.list_events(session, flt, page=page, per_page=per_page)
    return {
        "total": result.total,
        "page": page,
        "per_page": per_page,
        "events": [event_summary(e) for e in result.events],
    }


@router.get("/{event_id}")
def get_event(
    event_id: int,
    actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=5000, description="时间线最多列出的条数")] = 500,
) -> dict[str, Any]:
    """One event: summary, origin, timeline, propagation (sites, platforms, repost edges),
    volume curve and spread totals."""
    detail = event_detail(
        session, event_id, tz=ZoneInfo(settings.timezone), limit=limit, units=actor.unit_ids
    )
    if detail is None:
        raise HTTPException(status_code=404, detail=f"事件 {event_id} 不存在")
    return detail
