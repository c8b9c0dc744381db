"""The web application: `create_app()` builds it for `yuqing serve` and for tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from yuqing.alerts.dispatcher import AlertDispatcher
from yuqing.cases.reminders import deadline_reminders
from yuqing.collect.runner import Collector
from yuqing.collect.scheduler import Scheduler
from yuqing.errors import (
    AccessError,
    AuthError,
    ConfigError,
    InputError,
    StorageError,
    WorkflowError,
    YuqingError,
)
from yuqing.settings import Settings
from yuqing.standard import Standard, load_standard
from yuqing.store.db import Database, open_database
from yuqing.store.items import count_items
from yuqing.store.serialize import snippet
from yuqing.web.api import alerts as alerts_api
from yuqing.web.api import audit as audit_api
from yuqing.web.api import cases as cases_api
from yuqing.web.api import events as events_api
from yuqing.web.api import ingest as ingest_api
from yuqing.web.api import items as items_api
from yuqing.web.api import sources as sources_api
from yuqing.web.api import users as users_api
from yuqing.web.templating import STATIC_DIR, templates
from yuqing.web.views import account, pages
from yuqing.web.views import cases as case_pages
from yuqing.web.views import events as event_pages
from yuqing.web.views import manual as manual_pages
from yuqing.web.views import sources as source_pages


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status)


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    *,
    schedule: bool = False,
    collector: Collector | None = None,
) -> FastAPI:
    """The FastAPI app over `db` (opened and migrated from `settings` when not given).

    With `schedule`, the collection scheduler and the alert worker (with deadline reminders)
    run inside the app while it serves (`yuqing serve`); tests and embedding callers leave
    them off and run sources and alert ticks on demand (`app.state.alerts.tick()`).
    """
    settings = settings or Settings()
    db = db or open_database(settings.resolved_database_url)
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    collector = collector or Collector(db, settings)

    alerts = AlertDispatcher(db, settings, reminders=deadline_reminders(standard, settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not schedule:
            yield
            return
        tasks = [
            asyncio.create_task(Scheduler(collector).run_forever(), name="scheduler"),
            asyncio.create_task(alerts.run_forever(), name="alerts"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="Yuqing 舆情 API", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.state.collector = collector
    app.state.alerts = alerts
    templates.env.globals["platform_name"] = standard.platform_name
    templates.env.globals["media_tier_name"] = lambda code: standard.media_tier(code).name
    templates.env.globals["snippet"] = snippet
    templates.env.globals["grade_name"] = standard.grade_name
    templates.env.globals["category_name"] = _category_namer(standard)
    templates.env.globals["harm_name"] = lambda code: standard.harm_type(code).name

    @app.exception_handler(YuqingError)
    async def yuqing_error(request: Request, exc: YuqingError) -> Response:
        status, kind = _status_of(exc)
        page = not request.url.path.startswith("/api")
        if isinstance(exc, AuthError) and status == 401 and page:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?{urlencode({'next': target})}", 303)
        headers = {}
        if isinstance(exc, AuthError) and exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
        if page and status in (403, 409):
            return templates.TemplateResponse(
                request, "error.html", {"message": str(exc)}, status, headers=headers
            )
        response = _error(status, kind, str(exc))
        response.headers.update(headers)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "http", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return _error(422, "validation", f"请求参数无效：{problems}")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        with db.session() as session:
            return {"status": "ok", "database": db.dialect, "items": count_items(session)}

    app.include_router(items_api.router)
    app.include_router(events_api.router)
    app.include_router(cases_api.router)
    app.include_router(sources_api.router)
    app.include_router(ingest_api.router)
    app.include_router(alerts_api.router)
    app.include_router(users_api.router)
    app.include_router(audit_api.router)
    app.include_router(account.api)
    app.include_router(account.router)
    app.include_router(pages.router)
    app.include_router(event_pages.router)
    app.include_router(case_pages.router)
    app.include_router(source_pages.router)
    app.include_router(manual_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _status_of(exc: YuqingError) -> tuple[int, str]:
    """The HTTP status and error type a Yuqing error is answered with."""
    if isinstance(exc, AuthError):
        return exc.status, "auth"
    if isinstance(exc, AccessError):
        return 403, "forbidden"
    if isinstance(exc, WorkflowError):
        return 409, "workflow"
    if isinstance(exc, InputError):
        return 400, "input"
    if isinstance(exc, StorageError):
        return 503, "storage"
    return 500, type(exc).__name__


def _category_namer(standard: Standard) -> Callable[[str | None], str]:
    def name(code: str | None) -> str:
        if not code:
            return "—"
        try:
            return f"{code} {standard.category_name(code)}"
        except ConfigError:
            return code  # a code from an earlier taxonomy: show it as it is

    return name
