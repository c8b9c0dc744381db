"""Signing in and out: the login page, and the same for API clients as /api/session."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.accounts.login import authenticate
from yuqing.accounts.roles import role_name
from yuqing.errors import AuthError
from yuqing.settings import Settings
from yuqing.store import audit
from yuqing.store import users as user_store
from yuqing.store.tables import User
from yuqing.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    OptionalActor,
    SignedIn,
    safe_next,
)
from yuqing.web.deps import SessionDep, SettingsDep
from yuqing.web.templating import templates

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["session"])


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _set_session_cookie(response: Response, raw: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"next": next_url, "error": error, "login_csrf": token},
        status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/login"
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, actor: OptionalActor, next: str = "/") -> Response:
    if actor is not None:
        return RedirectResponse(safe_next(next), 303)
    return _login_page(request, safe_next(next), None, 200)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    login_csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not login_csrf or not expected or not secrets.compare_digest(login_csrf, expected):
        return _login_page(request, target, "登录页面已过期，请重新输入", 400)
    now = datetime.now(UTC)
    try:
        user = authenticate(session, settings, username, password, _client_ip(request), now)
    except AuthError as exc:
        # Answered, not raised: the attempt and any lock-out must be committed.
        response = _login_page(request, target, str(exc), exc.status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    _row, raw = user_store.open_session(
        session, user, now, timedelta(hours=settings.session_hours), _client_ip(request)
    )
    response = RedirectResponse(target, 303)
    _set_session_cookie(response, raw, settings)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, actor: SignedIn) -> Response:
    return _sign_out(request, session, actor, RedirectResponse("/login", 303))


def _sign_out(request: Request, session: Session, actor: Actor, response: Response) -> Response:
    """End this browser's session (audited) and clear its cookie on `response`."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        user_store.close_session(session, raw)
    audit.record(
        session, actor=actor.label, action="logout", target_type="user", target_id=actor.user_id
    )
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def _me(user: User | Actor, csrf: str | None) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_name": role_name(user.role),
        "unit_id": user.unit_id,
        "csrf_token": csrf,
    }


@api.post("/session", summary="登录，返回 CSRF 令牌；之后的写请求须带 X-CSRF-Token 头")
def api_login(
    body: Credentials, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    now = datetime.now(UTC)
    try:
        user = authenticate(
            session, settings, body.username, body.password, _client_ip(request), now
        )
    except AuthError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return JSONResponse(
            {"error": {"type": "auth", "message": str(exc)}}, exc.status, headers=headers
        )
    row, raw = user_store.open_session(
        session, user, now, timedelta(hours=settings.session_hours), _client_ip(request)
    )
    response = JSONResponse(_me(user, row.csrf_token))
    _set_session_cookie(response, raw, settings)
    return response


@api.get("/me", summary="当前登录的用户")
def me(request: Request, actor: SignedIn) -> dict[str, Any]:
    return _me(actor, getattr(request.state, "csrf_token", None))


@api.delete("/session", summary="退出登录")
def api_logout(request: Request, session: SessionDep, actor: SignedIn) -> Response:
    return _sign_out(request, session, actor, JSONResponse({"signed_out": True}))
