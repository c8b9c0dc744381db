"""/api/sources: list, add, show, remove, test and run sources, with their health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from yuqing.collect.manage import SourceInput, add_source, describe, describe_preview
from yuqing.collect.runner import Collector
from yuqing.errors import ConfigError, InputError, SourceError
from yuqing.sources.registry import SOURCE_KINDS, kind_label
from yuqing.store import sources as source_store
from yuqing.store.tables import Source as SourceRow
from yuqing.web.deps import CollectorDep, SessionDep, StandardDep

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


def collectable(collector: Collector, source_id: int) -> str:
    """The name of a source Yuqing can fetch; 404 for an unknown id, 400 for push/manual."""
    with collector.db.session() as session:
        row = session.get(SourceRow, source_id)
        if row is None:
            raise not_found(source_id)
        if row.kind not in SOURCE_KINDS:
            raise InputError(
                "kind",
                f"源「{row.name}」是{kind_label(row.kind)}类型，信息由外部推送或人工录入，不能抓取",
            )
        return row.name


@router.get("")
def list_sources(session: SessionDep, standard: StandardDep) -> dict[str, Any]:
    """Every source with its health: last success, last error in words, items per run,
    new and duplicate items of the last run, average latency, and the failing flag."""
    rows = [describe(session, standard, row) for row in source_store.list_sources(session)]
    return {"total": len(rows), "sources": rows}


@router.post("", status_code=201)
def create_source(body: SourceBody, session: SessionDep, standard: StandardDep) -> dict[str, Any]:
    """Add a source, checked whole first; a push source's `token` is in this answer only."""
    row, token = add_source(session, standard, body.as_input(), datetime.now(UTC))
    data = describe(session, standard, row)
    return {**data, "token": token} if token else data


@router.get("/{source_id}")
def get_source(source_id: int, session: SessionDep, standard: StandardDep) -> dict[str, Any]:
    """One source: every setting, its health and its last 20 runs with their problems."""
    row = session.get(SourceRow, source_id)
    if row is None:
        raise not_found(source_id)
    return describe(session, standard, row, runs=RUNS_SHOWN)


@router.delete("/{source_id}")
def delete_source(source_id: int, session: SessionDep) -> dict[str, Any]:
    """Remove a source and its runs; the items it brought stay."""
    row = session.get(SourceRow, source_id)
    if row is None:
        raise not_found(source_id)
    name = row.name
    source_store.remove_source(session, row)
    return {"removed": source_id, "name": name}


@router.post("/{source_id}/test")
async def try_source(source_id: int, collector: CollectorDep) -> dict[str, Any]:
    """Fetch once and answer what would be ingested and every problem; nothing is stored.
    A fetch that fails answers `ok: false` with the reason in words."""
    name = collectable(collector, source_id)
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
async def run_source(source_id: int, collector: CollectorDep) -> dict[str, Any]:
    """Collect the source now into the database; the run's report (`ok: false` and `error`
    when it failed, which is also recorded on the source)."""
    collectable(collector, source_id)
    report = await collector.run(source_id, trigger="manual")
    return report.as_dict()
