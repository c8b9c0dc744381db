"""The Chinese pages: the items list with search and filters, and one item ("items.read");
the review form on it ("items.review"). Readers see their unit subtree's items only."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from yuqing.accounts.actor import Actor
from yuqing.errors import InputError
from yuqing.pipeline.review import review_and_refresh
from yuqing.store import browse
from yuqing.store import grades as grade_store
from yuqing.store.browse import item_filter
from yuqing.store.subjects import list_subjects
from yuqing.web.auth import Require
from yuqing.web.deps import SessionDep, SettingsDep, StandardDep
from yuqing.web.templating import templates

router = APIRouter(include_in_schema=False)
PER_PAGE = 20
Reader = Annotated[Actor, Require("items.read")]


@router.get("/", response_class=HTMLResponse)
def items_page(
    request: Request,
    actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    standard: StandardDep,
    q: Annotated[str, Query(max_length=200)] = "",
    subject: Annotated[str, Query()] = "",
    platform: Annotated[str, Query()] = "",
    media_tier: Annotated[str, Query()] = "",
    since: Annotated[str, Query()] = "",
    until: Annotated[str, Query()] = "",
    grade: Annotated[str, Query()] = "",
    category: Annotated[str, Query()] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    params = {
        "grade": grade,
        "category": category,
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
                grade=grade,
                category=category,
            )
            flt = replace(flt, units=actor.unit_ids)
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
            "grades": standard.grades,
            "categories": standard.taxonomy.categories,
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
    request: Request,
    item_id: int,
    actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    standard: StandardDep,
) -> HTMLResponse:
    return _item_page(request, item_id, actor, session, settings, standard, None)


def _not_found(request: Request, item_id: int) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "error.html", {"message_key": "error.not_found", "id": item_id}, 404
    )


def _item_page(
    request: Request,
    item_id: int,
    actor: Actor,
    session: SessionDep,
    settings: SettingsDep,
    standard: StandardDep,
    review_error: str | None,
) -> HTMLResponse:
    item = browse.get_item(session, item_id, actor.unit_ids)
    if item is None:
        return _not_found(request, item_id)
    story = browse.story(session, item.story_id) if item.story_id else None
    members = (
        browse.list_items(
            session, browse.ItemFilter(story_id=item.story_id, units=actor.unit_ids), per_page=50
        ).items
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
            "history": grade_store.history(session, item_id),
            "grades": standard.grades,
            "categories": list(standard.iter_categories()),
            "review_error": review_error,
            "subjects": subjects,
            "terms": terms,
            "tz": ZoneInfo(settings.timezone),
        },
        status_code=400 if review_error else 200,
    )


@router.post("/items/{item_id}/review", response_class=HTMLResponse, response_model=None)
def review_form(
    request: Request,
    item_id: int,
    actor: Annotated[Actor, Require("items.review")],
    session: SessionDep,
    settings: SettingsDep,
    standard: StandardDep,
    note: Annotated[str, Form(max_length=2000)] = "",
    grade: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """The review form on the item page: save as the signed-in reviewer, then show the item
    again (PRG)."""
    if browse.get_item(session, item_id, actor.unit_ids) is None:
        return _not_found(request, item_id)
    try:
        review_and_refresh(
            session,
            standard,
            item_id,
            note=note,
            actor=actor,
            grade=grade or None,
            category=category or None,
        )
    except InputError as exc:  # raised before anything is changed
        return _item_page(request, item_id, actor, session, settings, standard, exc.reason)
    return RedirectResponse(f"/items/{item_id}#grading", status_code=303)
