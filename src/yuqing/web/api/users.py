"""/api/users ("users.manage"): list, add, set a password, issue an API token, deactivate.

An admin manages the users of its unit and the units below it; anyone else answers 404 as if
there were no such user. Passwords and tokens are in the answer that makes them, only
(`Cache-Control: no-store`). Every change is audited by `yuqing.accounts.manage`, and
deactivation here (`user.deactivate`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.accounts.manage import NewUser, add_user, issue_token, set_password
from yuqing.accounts.roles import role_name, roles
from yuqing.errors import AccessError, InputError
from yuqing.store import audit
from yuqing.store import users as user_store
from yuqing.store.tables import User
from yuqing.store.units import unit_by_code
from yuqing.web.auth import Require
from yuqing.web.deps import SessionDep

router = APIRouter(prefix="/api/users", tags=["users"])
Admin = Annotated[Actor, Require("users.manage")]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_summary(user: User, now: datetime) -> dict[str, Any]:
    """A user as the API shows it: never a hash, never a token."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_name": role_name(user.role),
        "unit_id": user.unit_id,
        "unit": user.unit.code,
        "email": user.email,
        "phone": user.phone,
        "active": user.is_active,
        "locked": user.locked_until is not None and user.locked_until > now,
        "locked_until": _iso(user.locked_until),
        "last_login_at": _iso(user.last_login_at),
        "created_at": _iso(user.created_at),
    }


def _managed(session: Session, actor: Actor, username: str) -> User:
    """The user, if in the admin's unit subtree; 404 otherwise (unknown and hidden alike)."""
    user = user_store.find_user(session, username)
    if user is None or not actor.sees_unit(user.unit_id):
        raise HTTPException(status_code=404, detail=f"用户 {username[:64]} 不存在")
    return user


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


@router.get("")
def list_users(actor: Admin, session: SessionDep) -> dict[str, Any]:
    """The users of the admin's unit and the units below it."""
    now = datetime.now(UTC)
    rows = [
        user_summary(u, now) for u in user_store.list_users(session) if actor.sees_unit(u.unit_id)
    ]
    return {"total": len(rows), "users": rows}


class UserBody(BaseModel):
    """A new user; without `password` one is generated and answered once."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64, description="登录用的用户名：字母、数字、_ . -")
    role: str = Field(max_length=32, description="admin、monitor、office、leader 或 viewer")
    unit: str = Field(max_length=64, description="所属单位代码；用户能看到该单位及其下级")
    display_name: str = Field("", max_length=100, description="显示名，如姓名")
    password: str | None = Field(None, max_length=256, description="初始密码；不给则随机生成")
    email: str | None = Field(None, max_length=255, description="电子邮箱")
    phone: str | None = Field(None, max_length=32, description="手机号")


@router.post("", status_code=201)
def create_user(
    body: UserBody, actor: Admin, session: SessionDep, response: Response
) -> dict[str, Any]:
    """Add a user in the admin's unit or one below it; answers the user and, when generated,
    its one-time `password`."""
    if body.role not in roles():
        raise InputError("role", f"角色 {body.role!r} 不存在，可选：{'、'.join(roles())}")
    unit = unit_by_code(session, body.unit)
    if unit is not None and not actor.sees_unit(unit.id):
        raise AccessError(f"只能在本单位及下级单位中新增用户，单位 {body.unit[:64]} 不在其中")
    new = NewUser(
        body.username,
        body.role,
        body.unit,
        body.display_name,
        body.password,
        body.email,
        body.phone,
    )
    now = datetime.now(UTC)
    user, generated = add_user(session, new, actor, now)
    _no_store(response)
    return {**user_summary(user, now), "password": generated}


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(None, max_length=256, description="新密码；不给则随机生成")


@router.post("/{username}/password")
def change_password(
    username: str, body: PasswordBody, actor: Admin, session: SessionDep, response: Response
) -> dict[str, Any]:
    """Set (or generate) a password: unlocks the account and signs it out everywhere."""
    user = _managed(session, actor, username)
    generated = set_password(session, user.username, body.password, actor, datetime.now(UTC))
    _no_store(response)
    return {"username": user.username, "password": generated}


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("API", max_length=100, description="令牌用途，如「报表系统」")
    days: int | None = Field(None, ge=1, le=3650, description="有效天数；不给则长期有效")


@router.post("/{username}/tokens", status_code=201)
def create_token(
    username: str, body: TokenBody, actor: Admin, session: SessionDep, response: Response
) -> dict[str, Any]:
    """An API token acting as the user (`Authorization: Bearer …`), answered once."""
    user = _managed(session, actor, username)
    raw = issue_token(session, user.username, body.name, actor, datetime.now(UTC), body.days)
    _no_store(response)
    return {"username": user.username, "name": body.name.strip(), "token": raw}


@router.post("/{username}/deactivate")
def deactivate_user(username: str, actor: Admin, session: SessionDep) -> dict[str, Any]:
    """Stop the user signing in: its sessions end and its API tokens stop working."""
    user = _managed(session, actor, username)
    if user.id == actor.user_id:
        raise InputError("username", "不能停用自己的账号：请让另一位管理员操作")
    now = datetime.now(UTC)
    if user.is_active:
        user.is_active = False
        user_store.close_user_sessions(session, user.id)
        audit.record(
            session,
            actor=actor.label,
            action="user.deactivate",
            target_type="user",
            target_id=user.id,
            detail={"username": user.username},
            at=now,
        )
    return user_summary(user, now)
