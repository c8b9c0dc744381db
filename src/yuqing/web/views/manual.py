"""The page where a monitor enters an offline sighting (print, broadcast, QQ/WeChat group)
("items.manual"), and the screenshots kept with items (`GET /attachments/{id}`, "items.read",
only for items the reader may see)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.collect.intake import MAX_SCREENSHOTS, Sighting, add_sighting
from yuqing.errors import InputError
from yuqing.store import attachments as attachment_store
from yuqing.store.browse import get_item
from yuqing.store.sources import list_sources
from yuqing.web.api.ingest import as_entered_by, read_sighting
from yuqing.web.auth import Require
from yuqing.web.deps import CollectorDep, SessionDep, SettingsDep, StandardDep
from yuqing.web.templating import templates

router = APIRouter(include_in_schema=False)
Enterer = Annotated[Actor, Require("items.manual")]

# The item page lists an item's screenshots through this (the item is loaded in a session).
templates.env.globals["item_attachments"] = attachment_store.attachments_of


def _form(
    request: Request,
    session: Session,
    actor: Actor,
    sighting: Sighting | None = None,
    error: str | None = None,
) -> HTMLResponse:
    manual_sources = [
        s
        for s in list_sources(session)
        if s.kind == "manual" and s.enabled and actor.sees_unit(s.unit_id)
    ]
    return templates.TemplateResponse(
        request,
        "manual.html",
        {
            "sources": manual_sources,
            "sighting": sighting or Sighting(title="", content="", platform="print"),
            "error": error,
            "max_screenshots": MAX_SCREENSHOTS,
        },
        status_code=400 if error else 200,
    )


@router.get("/manual", response_class=HTMLResponse)
def manual_page(request: Request, actor: Enterer, session: SessionDep) -> HTMLResponse:
    return _form(request, session, actor)


@router.post("/manual", response_class=HTMLResponse, response_model=None)
async def manual_submit(
    request: Request,
    actor: Enterer,
    session: SessionDep,
    collector: CollectorDep,
    standard: StandardDep,
) -> HTMLResponse | RedirectResponse:
    """Save the sighting and show its item (PRG); a mistake shows the form again, filled."""
    # Signing in may have written (session last seen): end that transaction now, or SQLite's
    # write lock would be held while the collector's own sessions write the sighting.
    session.commit()
    sighting = None
    try:
        sighting = await read_sighting(request, collector.settings.max_content_chars)
        with collector.db.session() as own:
            sighting = as_entered_by(own, sighting, actor)
        result = await add_sighting(collector, standard, sighting)
    except InputError as exc:
        if sighting is not None:
            sighting.screenshots = []  # files are not sent back; the form asks for them again
        with collector.db.session() as own:
            return _form(request, own, actor, sighting, exc.reason)
    return RedirectResponse(f"/items/{result.item_id}", status_code=303)


@router.get("/attachments/{attachment_id}")
def attachment_file(
    attachment_id: int,
    actor: Annotated[Actor, Require("items.read")],
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """An attachment's bytes, as the image type it was checked to be, never sniffed."""
    row = attachment_store.get_attachment(session, attachment_id)
    if row is None or get_item(session, row.item_id, actor.unit_ids) is None:
        raise HTTPException(status_code=404, detail=f"附件 {attachment_id} 不存在")
    data = attachment_store.read_attachment(settings.data_dir, row)
    image = row.media_type in attachment_store.IMAGE_TYPES
    fallback = "".join(
        c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in row.filename
    )
    disposition = "inline" if image else "attachment"
    return Response(
        content=data,
        media_type=row.media_type if image else "application/octet-stream",
        headers={
            "Content-Disposition": (
                f'{disposition}; filename="{fallback or "attachment"}"; '
                f"filename*=UTF-8''{quote(row.filename, safe='')}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=86400",
        },
    )
