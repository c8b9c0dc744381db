"""The Chinese event pages: the events list with filters, and one event with its timeline,
volume chart and propagation graph (ECharts when installed; the tables always).
Both need "events.read" and show the events of the reader's unit subtree (and of no unit)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from yuqing.accounts.actor import Actor
from yuqing.errors import ConfigError, InputError
from yuqing.settings import Settings
from yuqing.standard import Standard, load_standard
from yuqing.store import event_browse
from yuqing.store.subjects import list_subjects
from yuqing.web.auth import Require
from yuqing.web.deps import SessionDep, SettingsDep
from yuqing.web.messages import t
from yuqing.web.templating import local_time, templates

router = APIRouter(include_in_schema=False)
PER_PAGE = 20
GRAPH_NODES = 300
Reader = Annotated[Actor, Require("events.read")]


def _names(settings: Settings) -> dict[str, Any]:
    """Code → Chinese name lookups for the templates; an unknown code shows itself."""
    standard: Standard = load_standard(settings.standard_dir, settings.taxonomy)

    def category_name(code: str | None) -> str:
        if not code:
            return ""
        try:
            return standard.category_name(code)
        except ConfigError:
            return code

    tz = ZoneInfo(settings.timezone)

    def local(iso: str | None) -> str:
        return local_time(datetime.fromisoformat(iso), tz) if iso else ""

    return {
        "grades": list(standard.grades),
        "grade_name": lambda code: standard.grade_name(code) if code else "",
        "category_name": category_name,
        "platform_label": standard.platform_name,
        "local": local,
        "tz": tz,
    }


@router.get("/events", response_class=HTMLResponse)
def events_page(
    request: Request,
    actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
    subject: Annotated[str, Query()] = "",
    grade: Annotated[str, Query()] = "",
    since: Annotated[str, Query()] = "",
    until: Annotated[str, Query()] = "",
    min_items: Annotated[str, Query()] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    params = {
        "q": q,
        "subject": subject,
        "grade": grade,
        "since": since,
        "until": until,
        "min_items": min_items,
    }
    error = None
    result = None
    try:
        flt = event_browse.event_filter(
            subject=int(subject) if subject.isdigit() else None,
            unit=None,
            grade=grade or None,
            since=since,
            until=until,
            q=q,
            min_items=int(min_items) if min_items.isdigit() and int(min_items) > 0 else 1,
            tz=ZoneInfo(settings.timezone),
            units=actor.unit_ids,
        )
        if subject and not subject.isdigit():
            raise InputError("subject", f"主题参数无效：{subject[:40]!r}")
        result = event_browse.list_events(session, flt, page=page, per_page=PER_PAGE)
    except InputError as exc:
        error = exc.reason
    kept = {k: v for k, v in params.items() if v}

    def page_url(number: int) -> str:
        return "/events?" + urlencode({**kept, "page": number})

    return templates.TemplateResponse(
        request,
        "events.html",
        {
            "params": params,
            "error": error,
            "result": result,
            "subjects": {s.id: s.name for s in list_subjects(session)},
            "pages": max(1, math.ceil(result.total / PER_PAGE)) if result else 1,
            "page": page,
            "page_url": page_url,
            **_names(settings),
        },
        status_code=400 if error else 200,
    )


def chart_data(
    detail: dict[str, Any], grade_name: Callable[[str], str], platform_name: Callable[[str], str]
) -> dict[str, Any]:
    """What `static/events.js` draws; it goes into the page as JSON, never as script."""
    shown = detail["timeline"][:GRAPH_NODES]
    ids = {entry["id"] for entry in shown}
    platforms = sorted({entry["platform"] for entry in shown})
    origin = detail["event"]["origin_item_id"]
    nodes = [
        {
            "id": str(entry["id"]),
            "name": entry["title"] or entry["host"] or str(entry["id"]),
            "site": entry["host"] or "",
            "category": platforms.index(entry["platform"]),
            "value": sum(v or 0 for v in entry["metrics"].values()),
            "grade": grade_name(entry["grade"]) if entry["grade"] else "",
            "at": entry["at"],
            "origin": entry["id"] == origin,
        }
        for entry in shown
    ]
    edges = [
        {"source": str(e["source"]), "target": str(e["target"]), "kind": e["kind"]}
        for e in detail["propagation"]["edges"]
        if e["source"] in ids and e["target"] in ids
    ]
    return {
        "graph": {
            "nodes": nodes,
            "edges": edges,
            "categories": [platform_name(p) for p in platforms],
        },
        "volume": detail["volume"],
        "labels": {
            "items": t("event.chart.items"),
            "views": t("metric.views"),
            "reposts": t("metric.reposts"),
            "comments": t("metric.comments"),
            "likes": t("metric.likes"),
            "copy": t("event.edge.copy"),
            "story": t("event.edge.story"),
            "event": t("event.edge.event"),
        },
    }


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(
    request: Request, event_id: int, actor: Reader, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    names = _names(settings)
    detail = event_browse.event_detail(session, event_id, tz=names["tz"], units=actor.unit_ids)
    if detail is None:
        return templates.TemplateResponse(
            request, "error.html", {"message_key": "error.event_not_found", "id": event_id}, 404
        )
    subjects = {s.id: s.name for s in list_subjects(session)}
    charts = chart_data(detail, names["grade_name"], names["platform_label"])
    return templates.TemplateResponse(
        request,
        "event.html",
        {
            "detail": detail,
            "event": detail["event"],
            "subject_name": subjects.get(detail["event"]["subject_id"] or 0, ""),
            "charts": charts,
            **names,
        },
    )
