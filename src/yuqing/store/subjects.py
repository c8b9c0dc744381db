"""Monitored subjects as rows; validation of rules happens in `pipeline.subjects`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.domain import SubjectSpec
from yuqing.store.tables import Subject


def list_subjects(session: Session, *, enabled_only: bool = False) -> list[Subject]:
    stmt = select(Subject).order_by(Subject.id)
    if enabled_only:
        stmt = stmt.where(Subject.enabled.is_(True))
    return list(session.scalars(stmt))


def subject_specs(session: Session) -> list[SubjectSpec]:
    """Every enabled subject, in the form the matcher takes."""
    return [
        SubjectSpec(
            id=s.id,
            name=s.name,
            aliases=tuple(s.aliases or ()),
            exclude=tuple(s.exclude or ()),
            rule=s.rule,
            unit_id=s.unit_id,
        )
        for s in list_subjects(session, enabled_only=True)
    ]


def upsert_subject(
    session: Session,
    *,
    name: str,
    unit_id: int | None,
    kind: str,
    aliases: Sequence[str],
    exclude: Sequence[str],
    rule: str | None,
) -> tuple[Subject, bool]:
    """Create the subject, or update the one with the same unit and name; (row, created)."""
    row = session.scalars(
        select(Subject).where(Subject.name == name, Subject.unit_id == unit_id)
    ).first()
    created = row is None
    if row is None:
        row = Subject(name=name, unit_id=unit_id)
        session.add(row)
    row.kind = kind
    row.aliases = list(aliases)
    row.exclude = list(exclude)
    row.rule = rule
    row.enabled = True
    session.flush()
    return row, created
