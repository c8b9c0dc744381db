"""Finding demo items for case tests: one of some grades, in an event that has no case yet,
that a given reader may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.store.browse import get_item
from yuqing.store.tables import Case, Item


def uncased_item(
    session: Session, seen_by: Actor | None = None, grades: Sequence[str] = ("harmful",)
) -> Item:
    """The first demo item of `grades` whose event has no case and that `seen_by` sees."""
    used = set(session.scalars(select(Case.event_id).where(Case.event_id.is_not(None))))
    units = None if seen_by is None or seen_by.is_system else seen_by.unit_ids
    for item in session.scalars(select(Item).where(Item.grade.in_(grades)).order_by(Item.id)):
        if item.event_id not in used and get_item(session, item.id, units) is not None:
            return item
    raise AssertionError(f"no {'/'.join(grades)} demo item left without a case")
