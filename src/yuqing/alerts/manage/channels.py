"""Alert channels: add, edit, remove, describe (secrets masked), each change audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.alerts.channels import CHANNEL_KINDS, build_channel, kind_label, masked_config
from yuqing.alerts.channels.base import MASK
from yuqing.alerts.manage.common import ChannelInput, check_name, find_unit, in_scope
from yuqing.errors import ConfigError, InputError
from yuqing.store import alerts as store
from yuqing.store import audit
from yuqing.store.tables import AlertChannel, Unit


def find_channel(session: Session, ref: str | int) -> AlertChannel:
    """A channel by id or name; InputError naming the reference when there is none."""
    row = session.get(AlertChannel, int(ref)) if str(ref).isdigit() else None
    row = row or store.channel_by_name(session, str(ref))
    if row is None:
        raise InputError("channel", f"没有名为或编号为 {str(ref)[:100]!r} 的预警通道")
    return row


def check_channel(name: str, kind: str, config: dict[str, Any]) -> None:
    """Refuse a kind or configuration the channel could not send with (InputError in words
    naming the channel and the field)."""
    try:
        build_channel(name, kind, config)
    except ConfigError as exc:
        raise InputError("config", str(exc)) from None


def add_channel(session: Session, actor: Actor, data: ChannelInput, now: datetime) -> AlertChannel:
    name = check_name(data.name, "通道")
    if store.channel_by_name(session, name) is not None:
        raise InputError("name", f"已有名为「{name}」的预警通道，请换一个名称")
    if data.kind not in CHANNEL_KINDS:
        known = "、".join(CHANNEL_KINDS)
        raise InputError("kind", f"通道类型 {data.kind[:40]!r} 不存在；可用的有：{known}")
    check_channel(name, data.kind, data.config)
    unit = find_unit(session, data.unit)
    in_scope(session, actor, unit.id if unit else None, f"通道「{name}」")
    row = AlertChannel(
        name=name,
        kind=data.kind,
        unit_id=unit.id if unit else None,
        config=dict(data.config),
        enabled=data.enabled,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="alerts.channel.add",
        target_type="alert_channel",
        target_id=row.id,
        detail={
            "name": name,
            "kind": data.kind,
            "unit_id": row.unit_id,
            "enabled": data.enabled,
            "config": masked_config(row.config),
        },
        at=now,
    )
    return row


def edit_channel(
    session: Session, actor: Actor, ref: str | int, changes: dict[str, Any], now: datetime
) -> AlertChannel:
    """Change a channel's name, config (merged key by key; a masked secret keeps the stored
    value, a null removes the key), unit or enabled flag."""
    row = find_channel(session, ref)
    in_scope(session, actor, row.unit_id, f"通道「{row.name}」")
    unknown = set(changes) - {"name", "config", "unit", "enabled"}
    if unknown:
        raise InputError("channel", f"不能修改的字段：{'、'.join(sorted(unknown))}")
    before = describe_channel(session, row)
    name = row.name
    if "name" in changes:
        name = check_name(str(changes["name"]), "通道")
        other = store.channel_by_name(session, name)
        if other is not None and other.id != row.id:
            raise InputError("name", f"已有名为「{name}」的预警通道，请换一个名称")
    config = dict(row.config or {})
    for key, value in (changes.get("config") or {}).items():
        if value is None:
            config.pop(key, None)
        elif isinstance(value, str) and MASK in value:
            continue  # shown masked, given back unchanged
        else:
            config[key] = value
    check_channel(name, row.kind, config)
    unit_id = row.unit_id
    if "unit" in changes:
        unit = find_unit(session, changes["unit"])
        unit_id = unit.id if unit else None
        in_scope(session, actor, unit_id, f"通道「{name}」")
    row.name, row.config, row.unit_id = name, config, unit_id
    if "enabled" in changes:
        row.enabled = bool(changes["enabled"])
    session.flush()
    after = describe_channel(session, row)
    audit.record(
        session,
        actor=actor.label,
        action="alerts.channel.edit",
        target_type="alert_channel",
        target_id=row.id,
        detail={"before": before, "after": after},
        at=now,
    )
    return row


def remove_channel(session: Session, actor: Actor, ref: str | int, now: datetime) -> dict[str, Any]:
    """Delete a channel, with its delivery log, and take it out of every rule."""
    row = find_channel(session, ref)
    in_scope(session, actor, row.unit_id, f"通道「{row.name}」")
    detached = []
    for rule in store.list_rules(session):
        if row.id in (rule.channel_ids or []):
            rule.channel_ids = [c for c in rule.channel_ids if c != row.id]
            detached.append(rule.name)
    deliveries = store.deliveries_of_channel(session, row.id)
    detail = {"name": row.name, "kind": row.kind, "rules": detached, "deliveries": deliveries}
    store.delete_channel(session, row)
    audit.record(
        session,
        actor=actor.label,
        action="alerts.channel.remove",
        target_type="alert_channel",
        target_id=row.id,
        detail=detail,
        at=now,
    )
    return {"id": row.id, **detail}


def describe_channel(session: Session, row: AlertChannel) -> dict[str, Any]:
    """A channel as JSON for lists, the API and the audit log; secrets masked."""
    unit = session.get(Unit, row.unit_id) if row.unit_id is not None else None
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "kind_name": kind_label(row.kind),
        "unit_id": row.unit_id,
        "unit_name": unit.name if unit else None,
        "enabled": row.enabled,
        "config": masked_config(dict(row.config or {})),
        "created_at": row.created_at,
    }
