"""Alert rules: add, edit, remove, describe; every filter checked against the standard."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.alerts.manage.channels import find_channel
from yuqing.alerts.manage.common import RuleInput, check_name, find_unit, in_scope
from yuqing.alerts.rules import parse_hhmm
from yuqing.errors import ConfigError, InputError
from yuqing.standard import Standard
from yuqing.store import alerts as store
from yuqing.store import audit
from yuqing.store.tables import AlertRule, Subject, Unit


def find_rule(session: Session, ref: str | int) -> AlertRule:
    row = session.get(AlertRule, int(ref)) if str(ref).isdigit() else None
    row = row or store.rule_by_name(session, str(ref))
    if row is None:
        raise InputError("rule", f"没有名为或编号为 {str(ref)[:100]!r} 的预警规则")
    return row


def _channel_ids(session: Session, refs: list[str]) -> list[int]:
    if not refs:
        raise InputError(
            "channels", "规则至少要有一个预警通道（先用 yuqing alerts channel add 添加）"
        )
    return list(dict.fromkeys(find_channel(session, str(ref).strip()).id for ref in refs))


def _subject_ids(session: Session, refs: list[str]) -> list[int]:
    ids = []
    for ref in refs:
        text = str(ref).strip()
        found = session.get(Subject, int(text)) if text.isdigit() else None
        if found is None:
            matches = list(session.scalars(select(Subject).where(Subject.name == text)))
            if len(matches) > 1:
                raise InputError(
                    "subjects", f"有多个名为「{text}」的监测主题（不同单位）：请用编号"
                )
            found = matches[0] if matches else None
        if found is None:
            raise InputError("subjects", f"监测主题 {text[:60]!r} 不存在：请填主题编号或名称")
        ids.append(found.id)
    return list(dict.fromkeys(ids))


def _check_lists(standard: Standard, data: RuleInput) -> None:
    for grade in data.grades:
        try:
            info = standard.grade(grade)
        except ConfigError as exc:
            raise InputError("grades", str(exc)) from None
        if not info.negative:
            raise InputError(
                "grades", f"等级「{info.name}」不是负面等级，不会预警：只能选关注、有害、危害"
            )
    codes = [c.code for c in standard.iter_categories()]
    for prefix in data.categories:
        if not prefix.isdigit() or not any(code.startswith(prefix) for code in codes):
            raise InputError(
                "categories", f"分类 {prefix[:20]!r} 不是分类代码（或其开头），如 300 或 301"
            )
    for platform in data.platforms:
        try:
            standard.platform(platform)
        except ConfigError as exc:
            raise InputError("platforms", str(exc)) from None


def _quiet(data: RuleInput) -> tuple[str | None, str | None]:
    start, end = (data.quiet_start or "").strip(), (data.quiet_end or "").strip()
    if not start and not end:
        return None, None
    if not start or not end:
        raise InputError("quiet", "免打扰时段要同时给出开始和结束时间，如 22:00 和 07:00")
    try:
        begins, ends = parse_hhmm(start), parse_hhmm(end)
    except ValueError as exc:
        raise InputError("quiet", str(exc)) from None
    if begins == ends:
        raise InputError("quiet", "免打扰时段的开始和结束不能相同")
    return begins.strftime("%H:%M"), ends.strftime("%H:%M")


def _rule_values(session: Session, standard: Standard, data: RuleInput) -> dict[str, Any]:
    _check_lists(standard, data)
    quiet_start, quiet_end = _quiet(data)
    unit = find_unit(session, data.unit)
    return {
        "name": check_name(data.name, "规则"),
        "unit_id": unit.id if unit else None,
        "include_subtree": data.include_subtree,
        "grades": list(dict.fromkeys(data.grades)),
        "categories": list(dict.fromkeys(data.categories)),
        "subject_ids": _subject_ids(session, data.subjects),
        "platforms": list(dict.fromkeys(data.platforms)),
        "channel_ids": _channel_ids(session, data.channels),
        "quiet_start": quiet_start,
        "quiet_end": quiet_end,
        "remind_deadlines": data.remind_deadlines,
        "enabled": data.enabled,
    }


def add_rule(
    session: Session, standard: Standard, actor: Actor, data: RuleInput, now: datetime
) -> AlertRule:
    values = _rule_values(session, standard, data)
    if store.rule_by_name(session, values["name"]) is not None:
        raise InputError("name", f"已有名为「{values['name']}」的预警规则，请换一个名称")
    in_scope(session, actor, values["unit_id"], f"规则「{values['name']}」")
    row = AlertRule(**values, created_at=now)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="alerts.rule.add",
        target_type="alert_rule",
        target_id=row.id,
        detail=values,
        at=now,
    )
    return row


def rule_input(row: AlertRule) -> RuleInput:
    """A stored rule as input again (the starting point of an edit)."""
    return RuleInput(
        name=row.name,
        channels=[str(c) for c in row.channel_ids or []],
        unit=str(row.unit_id) if row.unit_id is not None else None,
        include_subtree=row.include_subtree,
        grades=list(row.grades or []),
        categories=list(row.categories or []),
        subjects=[str(s) for s in row.subject_ids or []],
        platforms=list(row.platforms or []),
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        remind_deadlines=row.remind_deadlines,
        enabled=row.enabled,
    )


def edit_rule(
    session: Session,
    standard: Standard,
    actor: Actor,
    ref: str | int,
    changes: dict[str, Any],
    now: datetime,
) -> AlertRule:
    """Change any fields of a rule (those of `RuleInput`); the whole rule is checked again."""
    row = find_rule(session, ref)
    in_scope(session, actor, row.unit_id, f"规则「{row.name}」")
    data = asdict(rule_input(row))
    unknown = set(changes) - set(data)
    if unknown:
        raise InputError("rule", f"不能修改的字段：{'、'.join(sorted(unknown))}")
    data.update(changes)
    values = _rule_values(session, standard, RuleInput(**data))
    other = store.rule_by_name(session, values["name"])
    if other is not None and other.id != row.id:
        raise InputError("name", f"已有名为「{values['name']}」的预警规则，请换一个名称")
    in_scope(session, actor, values["unit_id"], f"规则「{values['name']}」")
    before = {key: getattr(row, key) for key in values}
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="alerts.rule.edit",
        target_type="alert_rule",
        target_id=row.id,
        detail={"before": before, "after": values},
        at=now,
    )
    return row


def remove_rule(session: Session, actor: Actor, ref: str | int, now: datetime) -> dict[str, Any]:
    """Delete a rule with the alerts it raised and their delivery log."""
    row = find_rule(session, ref)
    in_scope(session, actor, row.unit_id, f"规则「{row.name}」")
    detail = {"name": row.name}
    store.delete_rule(session, row)
    audit.record(
        session,
        actor=actor.label,
        action="alerts.rule.remove",
        target_type="alert_rule",
        target_id=row.id,
        detail=detail,
        at=now,
    )
    return {"id": row.id, **detail}


def describe_rule(session: Session, standard: Standard, row: AlertRule) -> dict[str, Any]:
    """A rule as JSON, with the names of its unit, grades, subjects and channels."""
    unit = session.get(Unit, row.unit_id) if row.unit_id is not None else None
    channels = {c.id: c for c in store.list_channels(session)}
    query = select(Subject.id, Subject.name).where(Subject.id.in_(row.subject_ids or []))
    subjects: dict[int, str] = dict(session.execute(query).all())
    grades = row.grades or [g.code.value for g in standard.grades if g.negative]
    return {
        "id": row.id,
        "name": row.name,
        "enabled": row.enabled,
        "unit_id": row.unit_id,
        "unit_name": unit.name if unit else None,
        "include_subtree": row.include_subtree,
        "grades": list(row.grades or []),
        "grade_names": [standard.grade_name(g) for g in grades],
        "categories": list(row.categories or []),
        "platforms": list(row.platforms or []),
        "subject_ids": list(row.subject_ids or []),
        "subject_names": [subjects.get(s, f"#{s}") for s in row.subject_ids or []],
        "channel_ids": list(row.channel_ids or []),
        "channel_names": [
            channels[c].name if c in channels else f"#{c}（已删除）" for c in row.channel_ids or []
        ],
        "quiet_start": row.quiet_start,
        "quiet_end": row.quiet_end,
        "remind_deadlines": row.remind_deadlines,
        "created_at": row.created_at,
    }
