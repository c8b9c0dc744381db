"""Signing in: password check with per-account lock-out and per-address rate limiting."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from yuqing.accounts.passwords import hash_password, needs_rehash, verify_password
from yuqing.errors import AuthError
from yuqing.settings import Settings
from yuqing.store import audit
from yuqing.store import users as user_store
from yuqing.store.tables import User

WINDOW = timedelta(minutes=15)
WRONG = "用户名或密码错误"


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def authenticate(
    session: Session, settings: Settings, username: str, password: str, ip: str, now: datetime
) -> User:
    """The user whose password this is, or an AuthError that says why not in words.

    Every attempt is recorded; failures count against the address (429 past the limit) and
    against the account (locked for a while after too many in a row).
    """
    username = username.strip()[:64]
    failures, oldest = user_store.recent_failures(session, ip, now - WINDOW)
    if failures >= settings.login_ip_max_failures:
        wait = (oldest + WINDOW - now).total_seconds() if oldest else WINDOW.total_seconds()
        raise AuthError(
            f"该地址登录失败次数过多，请 {_minutes(wait)} 分钟后再试", 429, math.ceil(wait)
        )
    user = user_store.find_user(session, username)
    if user is None or not user.is_active:
        verify_password(None, password)
        _fail(session, username, ip, now, "unknown" if user is None else "inactive")
        raise AuthError(WRONG)
    if user.locked_until is not None and user.locked_until > now:
        _fail(session, username, ip, now, "locked")
        wait = (user.locked_until - now).total_seconds()
        raise AuthError(
            f"账号因多次密码错误已锁定，请 {_minutes(wait)} 分钟后再试，或请管理员重设密码",
            423,
            math.ceil(wait),
        )
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        locked = user.failed_logins >= settings.login_max_failures
        if locked:
            user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins = 0
        _fail(session, username, ip, now, "locked_now" if locked else "password")
        if locked:
            raise AuthError(
                f"密码连续错误 {settings.login_max_failures} 次，账号已锁定 "
                f"{settings.login_lock_minutes} 分钟",
                423,
                settings.login_lock_minutes * 60,
            )
        raise AuthError(WRONG)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user_store.record_attempt(session, username, ip, True, now)
    audit.record(
        session,
        actor=f"{user.display_name}（{user.username}）",
        action="login.ok",
        target_type="user",
        target_id=user.id,
        detail={"ip": ip},
        at=now,
    )
    return user


def _fail(session: Session, username: str, ip: str, now: datetime, why: str) -> None:
    user_store.record_attempt(session, username, ip, False, now)
    audit.record(
        session,
        actor=username or "?",
        action="login.fail",
        target_type="user",
        target_id=None,
        detail={"ip": ip, "why": why},
        at=now,
    )
