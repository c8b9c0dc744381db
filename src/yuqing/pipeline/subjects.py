"""Adding monitored subjects: validate every rule and term before anything is stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml
from sqlalchemy.orm import Session

from yuqing.domain import SubjectSpec
from yuqing.errors import ConfigError, InputError
from yuqing.pipeline.match import SubjectMatcher
from yuqing.store import audit
from yuqing.store import subjects as subject_store
from yuqing.store import units as unit_store

SUBJECT_KINDS = ("organization", "leader", "subsidiary", "product", "topic")
_FIELDS = {"name", "aliases", "exclude", "rule", "unit", "kind"}


@dataclass(slots=True, frozen=True)
class SubjectInput:
    """A subject as a user gives it: `unit` is a unit code."""

    name: str
    aliases: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    rule: str | None = None
    unit: str | None = None
    kind: str = "organization"


def _strings(value: object, field: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(where, f"字段 {field} 应为字符串列表")
    return tuple(v.strip() for v in value if v.strip())


def subject_from_mapping(data: Mapping[str, Any], where: str) -> SubjectInput:
    """Validate one subject record (`{"name": ..., "aliases": [...], ...}`)."""
    unknown = set(data) - _FIELDS
    if unknown:
        raise InputError(
            where, f"未知字段 {', '.join(sorted(unknown))}；可用：{', '.join(sorted(_FIELDS))}"
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(where, "缺少主题名称 name")
    if len(name) > 200:
        raise InputError(where, f"主题名称过长（{len(name)} 个字符，最多 200）")
    rule = data.get("rule")
    if rule is not None and not isinstance(rule, str):
        raise InputError(where, "字段 rule 应为字符串")
    unit = data.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise InputError(where, "字段 unit 应为单位代码（字符串）")
    kind = data.get("kind") or "organization"
    if kind not in SUBJECT_KINDS:
        raise InputError(where, f"字段 kind 的值 {kind!r} 无效，可选：{', '.join(SUBJECT_KINDS)}")
    subject = SubjectInput(
        name=name.strip(),
        aliases=_strings(data.get("aliases"), "aliases", where),
        exclude=_strings(data.get("exclude"), "exclude", where),
        rule=rule.strip() if rule and rule.strip() else None,
        unit=unit,
        kind=kind,
    )
    check_subjects([subject])
    return subject


def check_subjects(subjects: Sequence[SubjectInput]) -> None:
    """Raise ConfigError (naming the subject) if a rule or term cannot be matched."""
    SubjectMatcher(
        [
            SubjectSpec(id=n, name=s.name, aliases=s.aliases, exclude=s.exclude, rule=s.rule)
            for n, s in enumerate(subjects)
        ]
    )


def read_subjects_file(path: Path) -> list[SubjectInput]:
    """Subjects from a JSON or YAML file holding a list of subject objects."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"无法读取文件：{exc.strerror}") from exc
    try:
        data = orjson.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(str(path), f"文件格式错误：{exc}") from exc
    if isinstance(data, dict) and "subjects" in data:
        data = data["subjects"]
    if not isinstance(data, list):
        raise InputError(str(path), "应为主题对象的列表")
    out = []
    for n, entry in enumerate(data, start=1):
        where = f"{path}#{n}"
        if not isinstance(entry, dict):
            raise InputError(where, "每个主题应为对象")
        out.append(subject_from_mapping(entry, where))
    return out


def save_subjects(
    session: Session, subjects: Sequence[SubjectInput], actor: str = "系统"
) -> tuple[int, int]:
    """Store validated subjects (same unit and name updates); returns (created, updated).

    Each one is a configuration change and goes into the audit log under `actor`.
    """
    check_subjects(subjects)
    created = updated = 0
    for s in subjects:
        unit_id = None
        if s.unit:
            unit = unit_store.unit_by_code(session, s.unit)
            if unit is None:
                raise ConfigError(f"主题「{s.name}」的单位代码 {s.unit!r} 不存在")
            unit_id = unit.id
        row, was_created = subject_store.upsert_subject(
            session,
            name=s.name,
            unit_id=unit_id,
            kind=s.kind,
            aliases=s.aliases,
            exclude=s.exclude,
            rule=s.rule,
        )
        created += was_created
        updated += not was_created
        audit.record(
            session,
            actor=actor,
            action="subject.add" if was_created else "subject.edit",
            target_type="subject",
            target_id=row.id,
            detail={
                "name": s.name,
                "unit": s.unit,
                "kind": s.kind,
                "aliases": list(s.aliases),
                "exclude": list(s.exclude),
                "rule": s.rule,
            },
        )
    return created, updated
