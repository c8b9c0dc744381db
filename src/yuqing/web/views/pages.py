"""The Chinese pages: the items list with search and filters, and one item."""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from yuqing.errors import InputError
from yuqing.store import browse
from yuqing.store.browse import item_filter
from yuqing.store.subjects import list_subjects
from yuqing.web.deps import SessionDep, SettingsDep
from yuqing.web.templating import templates

router = APIRouter(include_in_schema=False)
PER_PAGE = 20


@router.get("/", response_class=HTMLResponse)
def items_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
    subject: Annotated[str, Query()] = "",
    platform: Annotated[str, Query()] = "",
    media_tier: Annotated[str, Query()] = "",
    since: Annotated[str, Query()] = "",
    until: Annotated[str, Query()] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    params = {
        "q": q,
        "subject": subject,
        "platform": platform,
        "media_tier": media_tier,
        "since": since,
        "until": until,
    }
    error = None
    result = None
    try:
        subject_id = int(subject) if subject else None
    except ValueError:
        subject_id = None
        error = f"主题参数无效：{subject[:40]!r}"
    if error is None:
        try:
            flt = item_filter(
                q=q,
                subject=subject_id,
                platform=platform,
                media_tier=media_tier,
                since=since,
                until=until,
                tz=ZoneInfo(settings.timezone),
            )
            result = browse.list_items(session, flt, page=page, per_page=PER_PAGE)
        except InputError as exc:
            error = exc.reason
    terms = result.query.highlight_terms if result and result.query else ()
    subjects = {s.id: s.name for s in list_subjects(session)}
    pages = max(1, math.ceil(result.total / PER_PAGE)) if result else 1
    kept = {k: v for k, v in params.items() if v}

    def page_url(number: int) -> str:
        return "/?" + urlencode({**kept, "page": number})

    return templates.TemplateResponse(
        request,
        "items.html",
        {
            "params": params,
            "error": error,
            "result": result,
            "terms": terms,
            "subjects": subjects,
            "pages": pages,
            "page": page,
            "page_url": page_url,
            "tz": ZoneInfo(settings.timezone),
        },
        status_code=400 if error else 200,
    )


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(
    request: Request, item_id: int, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    item = browse.get_item(session, item_id)
    if item is None:
        return templates.TemplateResponse(
            request, "error.html", {"message_key": "error.not_found", "id": item_id}, 404
        )
    story = browse.story(session, item.story_id) if item.story_id else None
    members = (
        browse.list_items(session, browse.ItemFilter(story_id=item.story_id), per_page=50).items
        if item.story_id
        else []
    )
    subjects = {s.id: s.name for s in list_subjects(session)}
    terms = tuple(
        span["term"] for match in item.subjects for span in match.spans if span.get("term")
    )
    return templates.TemplateResponse(
        request,
        "item.html",
        {
            "item": item,
            "story": story,
            "members": members,
            "snapshots": browse.snapshots(session, item_id),
            "subjects": subjects,
            "terms": terms,
            "tz": ZoneInfo(settings.timezone),
        },
    )
