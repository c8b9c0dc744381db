"""Creating users, changing passwords, issuing API tokens; each change is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from yuqing.accounts.actor import SYSTEM as SYSTEM_ACTOR
from yuqing.accounts.actor import Actor
from yuqing.accounts.passwords import generate_password, hash_password
from yuqing.accounts.roles import role
from yuqing.errors import InputError
from yuqing.store import audit
from yuqing.store import users as user_store
from yuqing.store.tables import User
from yuqing.store.units import list_units, subtree_ids, unit_by_code, upsert_unit

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user as an admin describes one (CLI options, an API body)."""

    username: str
    role: str
    unit: str  # unit code
    display_name: str = ""
    password: str | None = None  # None: generate one and show it once
    email: str | None = None
    phone: str | None = None


def add_user(session: Session, new: NewUser, by: Actor, now: datetime) -> tuple[User, str | None]:
    """Create a user; returns it and the generated password (None if one was given)."""
    if not _USERNAME.match(new.username):
        raise InputError("username", "用户名须为 2–64 个字母、数字、下划线、点或连字符")
    role(new.role)  # a ConfigError listing the roles if unknown
    unit = unit_by_code(session, new.unit)
    if unit is None:
        raise InputError("unit", f"单位代码 {new.unit[:40]!r} 不存在")
    if user_store.find_user(session, new.username) is not None:
        raise InputError("username", f"用户名 {new.username} 已存在")
    generated = None if new.password is not None else generate_password()
    password = new.password if new.password is not None else generated
    assert password is not None
    user = User(
        unit_id=unit.id,
        username=new.username,
        display_name=(new.display_name or new.username).strip()[:100],
        role=new.role,
        password_hash=hash_password(password),
        is_active=True,
        email=new.email,
        phone=new.phone,
        failed_logins=0,
        password_changed_at=now,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=by.label,
        action="user.add",
        target_type="user",
        target_id=user.id,
        detail={"username": user.username, "role": user.role, "unit": unit.code},
        at=now,
    )
    return user, generated


def _user(session: Session, username: str) -> User:
    user = user_store.find_user(session, username)
    if user is None:
        raise InputError("username", f"用户 {username[:64]} 不存在")
    return user


def set_password(
    session: Session, username: str, password: str | None, by: Actor, now: datetime
) -> str | None:
    """Set (or generate) a new password, unlock, and sign the user out everywhere."""
    user = _user(session, username)
    generated = None if password is not None else generate_password()
    user.password_hash = hash_password(password if password is not None else str(generated))
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None
    user_store.close_user_sessions(session, user.id)
    audit.record(
        session,
        actor=by.label,
        action="user.password",
        target_type="user",
        target_id=user.id,
        detail={"username": user.username},
        at=now,
    )
    return generated


def issue_token(
    session: Session,
    username: str,
    name: str,
    by: Actor,
    now: datetime,
    days: int | None = None,
) -> str:
    """A new API token for the user; the raw value is returned once."""
    user = _user(session, username)
    if not name.strip() or len(name) > 100:
        raise InputError("name", "令牌名称须为 1–100 个字符，如「外部采集程序」")
    expires = now + timedelta(days=days) if days else None
    token, raw = user_store.add_token(session, user, name.strip(), now, expires)
    audit.record(
        session,
        actor=by.label,
        action="user.token",
        target_type="user",
        target_id=user.id,
        detail={"username": user.username, "token": token.id, "name": token.name},
        at=now,
    )
    return raw


def actor_for(session: Session, user: User) -> Actor:
    """The Actor a signed-in user acts as: role, unit and the unit's subtree."""
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        unit_id=user.unit_id,
        unit_ids=frozenset(subtree_ids(session, user.unit_id)),
    )


def ensure_admin(
    session: Session, now: datetime, unit_name: str = "本单位"
) -> tuple[str, str] | None:
    """On a database without users: an `admin` in the root unit (made if there is none).

    Returns the username and its one-time password, or None when users exist already.
    """
    if user_store.count_users(session):
        return None
    roots = [u for u in list_units(session) if u.parent_id is None]
    root = (
        roots[0]
        if roots
        else upsert_unit(session, code="ORG", name=unit_name, level="head", parent=None)
    )
    _user, password = add_user(
        session, NewUser("admin", "admin", root.code, "管理员"), SYSTEM_ACTOR, now
    )
    assert password is not None
    return "admin", password
