"""Who is asking, and may they: session cookies with CSRF tokens, API tokens, role checks.

A route declares what it needs with `actor: Annotated[Actor, Require("cases.read")]`.
Browsers sign in at /login and carry an HttpOnly, SameSite cookie; every state-changing
request from a browser must also carry the session's CSRF token (the `csrf_token` form field
or the `X-CSRF-Token` header; pages put both in place). Machines send
`Authorization: Bearer yq_…` API tokens instead and need no CSRF token, since no browser
sends that header by itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.accounts.manage import actor_for
from yuqing.accounts.roles import PERMISSIONS, role_name
from yuqing.errors import AccessError, AuthError
from yuqing.store import users as user_store
from yuqing.web.deps import SessionDep, get_db

SESSION_COOKIE = "yuqing_session"
LOGIN_CSRF_COOKIE = "yuqing_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_FORM_BYTES = 128 * 1024 * 1024
"""Largest form read for its CSRF field; larger ones must send the X-CSRF-Token header."""


class LoginRequired(AuthError):
    """No one is signed in: pages redirect to /login, the API answers 401."""

    def __init__(self) -> None:
        super().__init__("请先登录", 401)


def _touch(request: Request, write: Callable[[Session], None]) -> None:
    """A bookkeeping write (last seen, last used) in its own short transaction.

    Done in the request's session it would hold SQLite's write lock until the response,
    and any route that writes through another session would wait on it.
    """
    with get_db(request).session() as session:
        write(session)


async def _sent_csrf(request: Request) -> str | None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
            # Not parsed here: the route's own limits speak; the header is then required.
            return None
        value = (await request.form()).get(CSRF_FIELD)  # cached: the route reads it again
        sent = value if isinstance(value, str) else None
    return sent


async def current_actor(request: Request, session: SessionDep) -> Actor | None:
    """The actor behind this request, or None when no one is signed in.

    A bad API token is an error (the caller meant to sign in); a stale cookie is not.
    """
    if hasattr(request.state, "actor"):
        cached: Actor | None = request.state.actor
        return cached
    now = datetime.now(UTC)
    actor: Actor | None = None
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        token = user_store.token_user(session, authorization[7:].strip(), now)
        if token is None:
            raise AuthError("API 令牌无效、已过期或已吊销；请用 yuqing user token 重新签发")
        if user_store.needs_touch(token[0].last_used_at, now):
            _touch(request, lambda s: user_store.touch_token(s, token[0].id, now))
        actor = actor_for(session, token[1])
    elif cookie := request.cookies.get(SESSION_COOKIE):
        found = user_store.live_session(session, cookie, now)
        if found is not None:
            web_session, user = found
            if user_store.needs_touch(web_session.last_seen_at, now):
                _touch(request, lambda s: user_store.touch_session(s, web_session.id, now))
            if request.method not in SAFE_METHODS:
                sent = await _sent_csrf(request)
                if not sent or not secrets.compare_digest(sent, web_session.csrf_token):
                    raise AccessError(
                        "CSRF 校验失败：页面已过期或请求来自别的网站，请刷新页面后重试"
                    )
            request.state.csrf_token = web_session.csrf_token
            actor = actor_for(session, user)
    request.state.actor = actor
    return actor


OptionalActor = Annotated[Actor | None, Depends(current_actor)]


def Require(permission: str) -> Any:
    """A dependency that yields the signed-in actor if its role grants `permission`."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    async def dependency(actor: OptionalActor) -> Actor:
        if actor is None:
            raise LoginRequired()
        if not actor.can(permission):
            raise AccessError(f"当前角色「{role_name(actor.role)}」无权{PERMISSIONS[permission]}")
        return actor

    return Depends(dependency)


async def _signed_in(actor: OptionalActor) -> Actor:
    if actor is None:
        raise LoginRequired()
    return actor


SignedIn = Annotated[Actor, Depends(_signed_in)]


def csrf_input(request: Request) -> Markup:
    """The hidden form field every page form carries (empty when no one is signed in)."""
    token = getattr(request.state, "csrf_token", None) or ""
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path on this site, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
