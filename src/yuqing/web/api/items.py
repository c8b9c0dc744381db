"""GET /api/items and /api/items/{id} ("items.read"), POST /api/items/{id}/review
("items.review"). Readers see the items of their unit's subtree and items of no unit."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from yuqing.accounts.actor import Actor
from yuqing.pipeline.review import review_and_refresh
from yuqing.store import browse
from yuqing.store import grades as grade_store
from yuqing.store.browse import item_filter
from yuqing.store.serialize import item_detail, item_summary
from yuqing.web.auth import Require
from yuqing.web.deps import SessionDep, SettingsDep, StandardDep

router = APIRouter(prefix="/api/items", tags=["items"])


@router.get("")
def list_items(
    actor: Annotated[Actor, Require("items.read")],
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=200, description="全文检索词")] = None,
    subject: Annotated[int | None, Query(description="主题 ID")] = None,
    platform: Annotated[str | None, Query(description="平台代码")] = None,
    media_tier: Annotated[str | None, Query(description="媒体级别代码")] = None,
    since: Annotated[str | None, Query(description="起始时间（含），ISO 8601")] = None,
    until: Annotated[str | None, Query(description="截止时间，ISO 8601；只写日期时含当天")] = None,
    grade: Annotated[str | None, Query(description="等级代码（人工改判优先）")] = None,
    category: Annotated[str | None, Query(description="分类代码；一级分类含其子类")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """Items newest first, filtered and paged."""
    flt = item_filter(
        q=q,
        subject=subject,
        platform=platform,
        media_tier=media_tier,
        since=since,
        until=until,
        tz=ZoneInfo(settings.timezone),
        grade=grade,
        category=category,
    )
    flt = replace(flt, units=actor.unit_ids)
    result = browse.list_items(session, flt, page=page, per_page=per_page)
    return {
        "total": result.total,
        "page": page,
        "per_page": per_page,
        "items": [item_summary(i, result.query) for i in result.items],
    }


def not_found(item_id: int) -> HTTPException:
    return HTTPException(status_code=404, detail=f"条目 {item_id} 不存在")


@router.get("/{item_id}")
def get_item(
    item_id: int, actor: Annotated[Actor, Require("items.read")], session: SessionDep
) -> dict[str, Any]:
    """One item with its content, matches, metric snapshots and story."""
    item = browse.get_item(session, item_id, actor.unit_ids)
    if item is None:
        raise not_found(item_id)
    story = browse.story(session, item.story_id) if item.story_id else None
    history = grade_store.history(session, item_id)
    return item_detail(item, browse.snapshots(session, item_id), story, history)


class ReviewIn(BaseModel):
    """A monitor's judgement: grade and/or category, with the reason."""

    grade: str | None = Field(default=None, description="等级代码")
    category: str | None = Field(default=None, description="分类代码")
    note: str = Field(description="改判理由")
    by: str | None = Field(
        default=None, description="已不再使用：改判人即当前登录用户；为兼容旧客户端仍可传入，忽略"
    )


@router.post("/{item_id}/review")
def review_item(
    item_id: int,
    body: ReviewIn,
    actor: Annotated[Actor, Require("items.review")],
    session: SessionDep,
    standard: StandardDep,
) -> dict[str, Any]:
    """Set the human grade/category as the signed-in reviewer; the machine values are kept
    beside it, and the change is audited."""
    if browse.get_item(session, item_id, actor.unit_ids) is None:
        raise not_found(item_id)
    review_and_refresh(
        session,
        standard,
        item_id,
        grade=body.grade,
        category=body.category,
        note=body.note,
        actor=actor,
    )
    return get_item(item_id, actor, session)
