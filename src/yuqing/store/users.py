"""Users, their API tokens, browser sessions and sign-in attempts: rows and lookups.

Tokens and session cookies are random; only their SHA-256 is stored, so a copy of the
database does not let anyone in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from yuqing.store.tables import ApiToken, LoginAttempt, User, WebSession

TOKEN_PREFIX = "yq_"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.unit_id, User.id)))


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


# API tokens -------------------------------------------------------------------------------


def add_token(
    session: Session, user: User, name: str, now: datetime, expires_at: datetime | None
) -> tuple[ApiToken, str]:
    """A new token for `user`; the raw token is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, name=name, token_hash=digest(raw), created_at=now, expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row, raw


TOUCH_EVERY = timedelta(minutes=1)
"""Last-used and last-seen times are refreshed at most this often."""


def token_user(session: Session, raw: str, now: datetime) -> tuple[ApiToken, User] | None:
    """A live token and its active user (read only; see `touch_token`)."""
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(raw))).first()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    return token, user


def user_for_token(session: Session, raw: str, now: datetime) -> User | None:
    """The active user a live token belongs to."""
    found = token_user(session, raw, now)
    return found[1] if found else None


def touch_token(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def touch_session(session: Session, session_id: str, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now))


def needs_touch(last: datetime | None, now: datetime) -> bool:
    return last is None or now - last > TOUCH_EVERY


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


# Browser sessions -------------------------------------------------------------------------


def open_session(
    session: Session, user: User, now: datetime, lifetime: timedelta, ip: str | None
) -> tuple[WebSession, str]:
    """A new signed-in session; returns the row and the raw cookie value."""
    raw = secrets.token_urlsafe(32)
    row = WebSession(
        id=digest(raw),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        ip=(ip or "")[:64] or None,
    )
    session.add(row)
    # Expired sessions go whenever a new one starts: the table stays small without a job.
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session.flush()
    return row, raw


def live_session(session: Session, raw: str, now: datetime) -> tuple[WebSession, User] | None:
    row = session.get(WebSession, digest(raw))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return row, user


def close_session(session: Session, raw: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == digest(raw)))


def close_user_sessions(session: Session, user_id: int) -> None:
    """Sign a user out everywhere (after a password change or deactivation)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


# Sign-in attempts -------------------------------------------------------------------------


def record_attempt(session: Session, username: str, ip: str, ok: bool, now: datetime) -> None:
    session.add(LoginAttempt(at=now, username=username[:64], ip=ip[:64], ok=ok))
    session.flush()


def recent_failures(session: Session, ip: str, since: datetime) -> tuple[int, datetime | None]:
    """Failed attempts from `ip` since `since`, and the oldest of them."""
    count, oldest = session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.ip == ip[:64], LoginAttempt.ok.is_(False), LoginAttempt.at >= since
        )
    ).one()
    return int(count or 0), oldest
