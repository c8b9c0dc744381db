"""What managing channels and rules shares: names, units, and who may change what."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.errors import AccessError, InputError
from yuqing.store.tables import Unit

MAX_NAME_CHARS = 100


@dataclass(slots=True)
class ChannelInput:
    """A channel as a user describes it (CLI options, an API body)."""

    name: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    unit: str | None = None  # unit code or id
    enabled: bool = True


@dataclass(slots=True)
class RuleInput:
    """A rule as a user describes it; empty lists mean any."""

    name: str
    channels: list[str] = field(default_factory=list)  # channel names or ids
    unit: str | None = None
    include_subtree: bool = True
    grades: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # codes or their prefixes
    subjects: list[str] = field(default_factory=list)  # subject ids or names
    platforms: list[str] = field(default_factory=list)
    quiet_start: str | None = None
    quiet_end: str | None = None
    remind_deadlines: bool = True
    enabled: bool = True


def check_name(value: str, what: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise InputError("name", f"{what}名称不能为空，最多 {MAX_NAME_CHARS} 字")
    return name


def find_unit(session: Session, ref: str | None) -> Unit | None:
    if ref is None or not str(ref).strip():
        return None
    ref = str(ref).strip()
    unit = session.get(Unit, int(ref)) if ref.isdigit() else None
    if unit is None:
        unit = session.scalars(select(Unit).where(Unit.code == ref)).first()
    if unit is None:
        raise InputError("unit", f"单位 {ref[:60]!r} 不存在：请填单位代码或编号")
    return unit


def in_scope(session: Session, actor: Actor, unit_id: int | None, what: str) -> None:
    """A user manages only what belongs to the units it sees. What belongs to no unit covers
    every unit, so only the system and users of a top unit (one without a parent) manage it."""
    if actor.is_system:
        return
    if unit_id is None:
        own = session.get(Unit, actor.unit_id) if actor.unit_id is not None else None
        if own is None or own.parent_id is not None:
            raise AccessError(f"{what}不限单位（对全部单位生效），只有最上级单位的用户能修改")
    elif not actor.sees_unit(unit_id):
        raise AccessError(f"{what}属于本单位及下级单位之外的单位，无权修改")
