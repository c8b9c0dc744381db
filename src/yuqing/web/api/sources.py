"""/api/sources: list, add, show, remove, test and run sources, with their health.

Reading needs "sources.read", adding and removing "sources.manage" (audited), test and run
"sources.run". A reader sees the sources of its unit subtree and sources of no unit; any
other source answers 404 as if it did not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.collect.manage import (
    SourceInput,
    add_source,
    describe,
    describe_preview,
    remove_source,
)
from yuqing.collect.runner import Collector
from yuqing.errors import AccessError, ConfigError, InputError, SourceError
from yuqing.sources.registry import SOURCE_KINDS, kind_label
from yuqing.store import sources as source_store
from yuqing.store.tables import Source as SourceRow
from yuqing.web.auth import Require
from yuqing.web.deps import CollectorDep, SessionDep, StandardDep

Reader = Annotated[Actor, Require("sources.read")]
Manager = Annotated[Actor, Require("sources.manage")]
Runner = Annotated[Actor, Require("sources.run")]

router = APIRouter(prefix="/api/sources", tags=["sources"])

RUNS_SHOWN = 20
"""Runs `GET /api/sources/{id}` lists, newest first."""


class SourceBody(BaseModel):
    """A new source; `config` is checked by its kind (see the README for each kind's keys)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, description="源名称，如「滨江日报网」")
    kind: str = Field(description="rss、web、sitemap、json、file、push 或 manual")
    platform: str = Field("other", description="平台代码，如 news、forum、weibo")
    media_tier: str = Field("other", description="媒体级别代码，如 national、provincial、local")
    region: str | None = Field(None, description="地区，如「滨江市」")
    unit: str | int | None = Field(None, description="所属单位代码或编号")
    config: dict[str, Any] = Field(default_factory=dict, description="该类型的配置项")
    interval_minutes: int | None = Field(None, description="抓取间隔（分钟）；与 cron 二选一")
    cron: str | None = Field(None, description="五段 cron 定时表达式，如 0 8,12,17 * * 1-5")
    robots: bool = Field(True, description="是否遵守 robots.txt")
    max_items: int | None = Field(None, description="每次抓取条数上限")
    enabled: bool = Field(True, description="是否启用定时抓取")

    def as_input(self) -> SourceInput:
        return SourceInput(
            name=self.name,
            kind=self.kind,
            platform=self.platform,
            media_tier=self.media_tier,
            region=self.region,
            unit=None if self.unit is None else str(self.unit),
            config=dict(self.config),
            interval_minutes=self.interval_minutes,
            cron=self.cron,
            robots=self.robots,
            max_items=self.max_items,
            enabled=self.enabled,
        )


def not_found(source_id: int) -> HTTPException:
    return HTTPException(status_code=404, detail=f"信息源 {source_id} 不存在，请刷新信息源列表")


def visible_source(session: Session, actor: Actor, source_id: int) -> SourceRow:
    """The source if the actor may see it; 404 otherwise (unknown and hidden look alike)."""
    row = session.get(SourceRow, source_id)
    if row is None or not actor.sees_unit(row.unit_id):
        raise not_found(source_id)
    return row


def collectable(collector: Collector, actor: Actor, source_id: int) -> str:
    """The name of a source Yuqing can fetch; 404 for an unknown (or hidden) id, 400 for
    push/manual."""
    with collector.db.session() as session:
        row = visible_source(session, actor, source_id)
        if row.kind not in SOURCE_KINDS:
            raise InputError(
                "kind",
                f"源「{row.name}」是{kind_label(row.kind)}类型，信息由外部推送或人工录入，不能抓取",
            )
        return row.name


@router.get("")
def list_sources(actor: Reader, session: SessionDep, standard: StandardDep) -> dict[str, Any]:
    """Every source with its health: last success, last error in words, items per run,
    new and duplicate items of the last run, average latency, and the failing flag."""
    rows = [
        describe(session, standard, row)
        for row in source_store.list_sources(session)
        if actor.sees_unit(row.unit_id)
    ]
    return {"total": len(rows), "sources": rows}


@router.post("", status_code=201)
def create_source(
    body: SourceBody, actor: Manager, session: SessionDep, standard: StandardDep
) -> dict[str, Any]:
    """Add a source, checked whole first; a push source's `token` is in this answer only.
    Its unit must be the actor's unit or one below it (or none)."""
    row, token = add_source(session, standard, body.as_input(), datetime.now(UTC), by=actor)
    if not actor.sees_unit(row.unit_id):
        raise AccessError("只能为本单位或下级单位添加信息源：请换一个所属单位，或不填所属单位")
    data = describe(session, standard, row)
    return {**data, "token": token} if token else data


@router.get("/{source_id}")
def get_source(
    source_id: int, actor: Reader, session: SessionDep, standard: StandardDep
) -> dict[str, Any]:
    """One source: every setting, its health and its last 20 runs with their problems."""
    row = visible_source(session, actor, source_id)
    return describe(session, standard, row, runs=RUNS_SHOWN)


@router.delete("/{source_id}")
def delete_source(source_id: int, actor: Manager, session: SessionDep) -> dict[str, Any]:
    """Remove a source and its runs; the items it brought stay. Audited."""
    row = visible_source(session, actor, source_id)
    name = row.name
    remove_source(session, row, datetime.now(UTC), by=actor)
    return {"removed": source_id, "name": name}


@router.post("/{source_id}/test")
async def try_source(
    source_id: int, actor: Runner, session: SessionDep, collector: CollectorDep
) -> dict[str, Any]:
    """Fetch once and answer what would be ingested and every problem; nothing is stored.
    A fetch that fails answers `ok: false` with the reason in words."""
    # Signing in may have written (token or session last used): end that transaction now, or
    # SQLite's write lock would be held while the collector's own sessions write.
    session.commit()
    name = collectable(collector, actor, source_id)
    try:
        collected, items = await collector.preview(source_id)
    except (SourceError, ConfigError) as exc:
        return {"source": name, "source_id": source_id, "ok": False, "error": str(exc)}
    return {
        "source": name,
        "source_id": source_id,
        "ok": True,
        **describe_preview(collected, items),
    }


@router.post("/{source_id}/run")
async def run_source(
    source_id: int, actor: Runner, session: SessionDep, collector: CollectorDep
) -> dict[str, Any]:
    """Collect the source now into the database; the run's report (`ok: false` and `error`
    when it failed, which is also recorded on the source)."""
    # Signing in may have written (token or session last used): end that transaction now, or
    # SQLite's write lock would be held while the collector's own sessions write.
    session.commit()
    collectable(collector, actor, source_id)
    report = await collector.run(source_id, trigger="manual")
    return report.as_dict()
