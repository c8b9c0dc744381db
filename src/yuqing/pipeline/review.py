"""A monitor's review of an item, and what depends on its grade (the item's event)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.standard import Standard
from yuqing.store import grades as grade_store
from yuqing.store.events import refresh_events
from yuqing.store.tables import Item


def review_and_refresh(
    session: Session,
    standard: Standard,
    item_id: int,
    *,
    note: str,
    actor: Actor | str,
    grade: str | None = None,
    category: str | None = None,
    now: datetime | None = None,
) -> Item:
    """Store the human grade/category with its reason and history row; refresh its event.

    `actor` is the signed-in reviewer, or a name given on the command line.
    """
    row = grade_store.review(
        session,
        standard,
        item_id,
        actor=actor.label[:100] if isinstance(actor, Actor) else actor,
        note=note,
        now=now or datetime.now(UTC),
        grade=grade,
        category=category,
    )
    if row.event_id is not None:
        session.flush()
        refresh_events(session, [row.event_id])
    return row
