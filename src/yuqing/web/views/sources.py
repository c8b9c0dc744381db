"""The Chinese sources pages: every source with its health, and one source with its runs
("sources.read"); 「立即抓取」 ("sources.run"). Sources outside the reader's unit subtree
answer 404."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yuqing.accounts.actor import Actor
from yuqing.collect.manage import describe
from yuqing.settings import Settings
from yuqing.sources.registry import SOURCE_KINDS
from yuqing.store import sources as source_store
from yuqing.store.tables import Source as SourceRow
from yuqing.web.auth import Require
from yuqing.web.deps import CollectorDep, SessionDep, SettingsDep, StandardDep
from yuqing.web.messages import t
from yuqing.web.templating import templates

router = APIRouter(include_in_schema=False)
RUNS_SHOWN = 20
Reader = Annotated[Actor, Require("sources.read")]
SECRET_KEYS = ("headers",)
"""Config keys whose values (API keys, cookies) the page never shows."""


def schedule_text(source: dict[str, Any], settings: Settings) -> str:
    """How often a source runs, in words: 每 N 分钟, its cron expression, or the default."""
    if not source["collects"]:
        return t("sources.schedule.passive")
    if source["cron"]:
        return t("sources.schedule.cron", cron=source["cron"])
    if source["interval_minutes"]:
        return t("sources.schedule.every", minutes=source["interval_minutes"])
    return t("sources.schedule.default", minutes=settings.collect_interval_minutes)


def shown_config(config: dict[str, Any]) -> str:
    """The source's configuration as indented JSON, with secret header values hidden."""
    safe = {
        key: (
            dict.fromkeys(value, "******")
            if key in SECRET_KEYS and isinstance(value, dict)
            else value
        )
        for key, value in config.items()
    }
    return json.dumps(safe, ensure_ascii=False, indent=2)


def _helpers(settings: Settings) -> dict[str, Any]:
    tz = ZoneInfo(settings.timezone)

    def local(iso: str | None) -> str:
        return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M") if iso else ""

    return {"local": local, "schedule": lambda s: schedule_text(s, settings)}


@router.get("/sources", response_class=HTMLResponse)
def sources_page(
    request: Request,
    actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    standard: StandardDep,
) -> HTMLResponse:
    sources = [
        describe(session, standard, row)
        for row in source_store.list_sources(session)
        if actor.sees_unit(row.unit_id)
    ]
    return templates.TemplateResponse(
        request, "sources.html", {"sources": sources, **_helpers(settings)}
    )


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(
    request: Request,
    source_id: int,
    actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    standard: StandardDep,
    ran: int = 0,
) -> HTMLResponse:
    row = session.get(SourceRow, source_id)
    if row is None or not actor.sees_unit(row.unit_id):
        return _not_found(request, source_id)
    source = describe(session, standard, row, runs=RUNS_SHOWN)
    return templates.TemplateResponse(
        request,
        "source.html",
        {
            "source": source,
            "config_json": shown_config(source["config"]),
            "just_ran": source["runs"][0] if ran and source["runs"] else None,
            **_helpers(settings),
        },
    )


def _not_found(request: Request, source_id: int) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "error.html", {"message_key": "error.source_not_found", "id": source_id}, 404
    )


@router.post("/sources/{source_id}/run", response_model=None)
async def run_now(
    request: Request,
    source_id: int,
    actor: Annotated[Actor, Require("sources.run")],
    session: SessionDep,
    collector: CollectorDep,
) -> Response:
    """「立即抓取」: run the source, then show its page with the run's result on top."""
    # Signing in may have written (session last used): end that transaction now, or
    # SQLite's write lock would be held while the collector's own sessions write.
    session.commit()
    with collector.db.session() as own:
        row = own.get(SourceRow, source_id)
        kind = row.kind if row is not None and actor.sees_unit(row.unit_id) else None
    if kind is None:
        return _not_found(request, source_id)
    if kind not in SOURCE_KINDS:
        return templates.TemplateResponse(
            request, "error.html", {"message_key": "error.source_passive", "id": source_id}, 400
        )
    await collector.run(source_id, trigger="manual")
    return RedirectResponse(f"/sources/{source_id}?ran=1", status_code=303)
