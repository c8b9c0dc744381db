"""Alert channels, rules, alerts and their deliveries as rows; the grade feed alerts follow.

Alerts are inserted with "on conflict do nothing" on (rule, key), so two dispatchers never
raise the same alert twice; a delivery is claimed by a conditional update before it is sent,
so two dispatchers never send the same delivery twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yuqing.store.tables import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertRule,
    Cursor,
    DeliveryAttempt,
    Event,
    GradeChange,
    Item,
    ItemSubject,
    Source,
    Subject,
)

PENDING = "pending"
DEFERRED = "deferred"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, DEFERRED, SENDING, SENT, FAILED)
"""Delivery states; `sending` is a claim that lapses at `next_attempt_at` if its sender dies."""


def _chunks(ids: Collection[int], size: int = 500) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


# The grade feed ---------------------------------------------------------------------------


def cursor_position(session: Session, name: str) -> int:
    """Where the follower named `name` got to (0 before its first run)."""
    row = session.get(Cursor, name)
    return row.position if row is not None else 0


def move_cursor(session: Session, name: str, position: int, now: datetime) -> None:
    row = session.get(Cursor, name)
    if row is None:
        session.add(Cursor(name=name, position=position, updated_at=now))
    else:
        row.position = position
        row.updated_at = now
    session.flush()


def grade_changes_after(session: Session, position: int, limit: int) -> list[GradeChange]:
    """History rows with an id above `position`, oldest first."""
    return list(
        session.scalars(
            select(GradeChange)
            .where(GradeChange.id > position)
            .order_by(GradeChange.id)
            .limit(limit)
        )
    )


def grade_changes_by_id(session: Session, ids: Collection[int]) -> list[GradeChange]:
    found: list[GradeChange] = []
    for chunk in _chunks(ids):
        found.extend(session.scalars(select(GradeChange).where(GradeChange.id.in_(chunk))))
    return sorted(found, key=lambda row: row.id)


def human_grades(session: Session, item_ids: Collection[int]) -> dict[int, list[tuple[int, str]]]:
    """Per item, its human overrides as (history id, grade), oldest first."""
    found: dict[int, list[tuple[int, str]]] = {}
    for chunk in _chunks(item_ids):
        rows = session.execute(
            select(GradeChange.item_id, GradeChange.id, GradeChange.grade)
            .where(GradeChange.item_id.in_(chunk), GradeChange.by == "human")
            .order_by(GradeChange.id)
        )
        for item_id, change_id, grade in rows:
            if grade:
                found.setdefault(item_id, []).append((change_id, grade))
    return found


@dataclass(slots=True)
class ItemFacts:
    """What rules match on and messages say about one item."""

    id: int
    title: str
    content: str
    url: str | None
    platform: str
    media_tier: str
    published_at: datetime | None
    discovered_at: datetime
    category: str | None  # the monitor's category, else the machine's
    grade_reasons: list[dict[str, Any]]
    source_name: str | None = None
    event_id: int | None = None
    event_title: str | None = None
    event_items: int = 0
    event_sites: int = 0
    subject_ids: list[int] = field(default_factory=list)
    subject_names: list[str] = field(default_factory=list)
    unit_ids: set[int] = field(default_factory=set)  # of its subjects and its source


def item_facts(session: Session, item_ids: Collection[int]) -> dict[int, ItemFacts]:
    """Facts of the items that still exist, by id."""
    facts: dict[int, ItemFacts] = {}
    for chunk in _chunks(item_ids):
        rows = session.execute(
            select(
                Item, Source.name, Source.unit_id, Event.title, Event.item_count, Event.site_count
            )
            .outerjoin(Source, Source.id == Item.source_id)
            .outerjoin(Event, Event.id == Item.event_id)
            .where(Item.id.in_(chunk))
        )
        for item, source_name, source_unit, event_title, event_items, event_sites in rows:
            facts[item.id] = ItemFacts(
                id=item.id,
                title=item.title or "",
                content=item.content,
                url=item.url,
                platform=item.platform,
                media_tier=item.media_tier,
                published_at=item.published_at,
                discovered_at=item.discovered_at,
                category=item.human_category or item.category,
                grade_reasons=list(item.grade_reasons or []),
                source_name=source_name,
                event_id=item.event_id,
                event_title=event_title,
                event_items=event_items or 0,
                event_sites=event_sites or 0,
                unit_ids={source_unit} if source_unit is not None else set(),
            )
        subjects = session.execute(
            select(ItemSubject.item_id, Subject.id, Subject.name, Subject.unit_id)
            .join(Subject, Subject.id == ItemSubject.subject_id)
            .where(ItemSubject.item_id.in_(chunk))
            .order_by(ItemSubject.item_id, Subject.id)
        )
        for item_id, subject_id, name, unit_id in subjects:
            if (fact := facts.get(item_id)) is not None:
                fact.subject_ids.append(subject_id)
                fact.subject_names.append(name)
                if unit_id is not None:
                    fact.unit_ids.add(unit_id)
    return facts


# Alerts and deliveries ----------------------------------------------------------------------


def alerted(
    session: Session, rule_ids: Collection[int], keys: Collection[str]
) -> set[tuple[int, str]]:
    """Which of the (rule, key) pairs among `rule_ids` × `keys` already raised an alert."""
    found: set[tuple[int, str]] = set()
    if not rule_ids or not keys:
        return found
    key_list = sorted(set(keys))
    for start in range(0, len(key_list), 500):
        rows = session.execute(
            select(Alert.rule_id, Alert.key).where(
                Alert.rule_id.in_(sorted(set(rule_ids))),
                Alert.key.in_(key_list[start : start + 500]),
            )
        )
        found.update((rule_id, key) for rule_id, key in rows)
    return found


def add_alert(session: Session, values: dict[str, Any]) -> int | None:
    """Insert an alert unless its (rule, key) exists; its id, or None when it existed."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = (
        module.insert(Alert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["rule_id", "key"])
        .returning(Alert.id)
    )
    alert_id: int | None = session.scalar(stmt)
    return alert_id


def add_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(AlertDelivery), list(rows))


def existing_channel_ids(session: Session, ids: Collection[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        session.scalars(select(AlertChannel.id).where(AlertChannel.id.in_(sorted(set(ids)))))
    )


def due_deliveries(session: Session, now: datetime, limit: int) -> list[AlertDelivery]:
    """Deliveries whose time has come: pending, deferred, or claimed by a sender that died."""
    return list(
        session.scalars(
            select(AlertDelivery)
            .where(
                AlertDelivery.status.in_((PENDING, DEFERRED, SENDING)),
                AlertDelivery.next_attempt_at <= now,
            )
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
            .limit(limit)
        )
    )


def claim(session: Session, delivery: AlertDelivery, until: datetime) -> bool:
    """Mark a due delivery as being sent until `until`; False if another sender got it first."""
    result = session.execute(
        update(AlertDelivery)
        .where(
            AlertDelivery.id == delivery.id,
            AlertDelivery.status == delivery.status,
            AlertDelivery.attempts == delivery.attempts,
            AlertDelivery.next_attempt_at == delivery.next_attempt_at,
        )
        .values(status=SENDING, next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def add_attempt(session: Session, values: dict[str, Any]) -> None:
    session.add(DeliveryAttempt(**values))


def deliveries_of_channel(session: Session, channel_id: int) -> int:
    """How many deliveries (with their log) went to a channel."""
    count = session.scalar(
        select(func.count())
        .select_from(AlertDelivery)
        .where(AlertDelivery.channel_id == channel_id)
    )
    return int(count or 0)


# Channels and rules --------------------------------------------------------------------------


def list_channels(session: Session) -> list[AlertChannel]:
    return list(session.scalars(select(AlertChannel).order_by(AlertChannel.id)))


def list_rules(session: Session, *, enabled_only: bool = False) -> list[AlertRule]:
    stmt = select(AlertRule).order_by(AlertRule.id)
    if enabled_only:
        stmt = stmt.where(AlertRule.enabled.is_(True))
    return list(session.scalars(stmt))


def channel_by_name(session: Session, name: str) -> AlertChannel | None:
    return session.scalars(select(AlertChannel).where(AlertChannel.name == name)).first()


def rule_by_name(session: Session, name: str) -> AlertRule | None:
    return session.scalars(select(AlertRule).where(AlertRule.name == name)).first()


def delete_channel(session: Session, channel: AlertChannel) -> None:
    session.execute(delete(AlertChannel).where(AlertChannel.id == channel.id))


def delete_rule(session: Session, rule: AlertRule) -> None:
    session.execute(delete(AlertRule).where(AlertRule.id == rule.id))


# The delivery log ------------------------------------------------------------------------------


@dataclass(slots=True)
class LoggedDelivery:
    """One delivery with its alert, channel and every attempt (oldest first)."""

    delivery: AlertDelivery
    alert: Alert
    rule_name: str | None
    rule_unit_id: int | None
    channel_name: str
    channel_kind: str
    attempts: list[DeliveryAttempt]


def recent_deliveries(
    session: Session,
    *,
    limit: int = 50,
    status: str | None = None,
    alert_id: int | None = None,
    unit_ids: Collection[int] | None = None,
) -> list[LoggedDelivery]:
    """The newest deliveries, optionally of one status, one alert, or rules of some units
    (`unit_ids`; rules for all units are always included)."""
    stmt = (
        select(
            AlertDelivery,
            Alert,
            AlertRule.name,
            AlertRule.unit_id,
            AlertChannel.name,
            AlertChannel.kind,
        )
        .join(Alert, Alert.id == AlertDelivery.alert_id)
        .join(AlertChannel, AlertChannel.id == AlertDelivery.channel_id)
        .outerjoin(AlertRule, AlertRule.id == Alert.rule_id)
        .order_by(AlertDelivery.id.desc())
        .limit(limit)
    )
    if status is not None:
        stmt = stmt.where(AlertDelivery.status == status)
    if alert_id is not None:
        stmt = stmt.where(AlertDelivery.alert_id == alert_id)
    if unit_ids is not None:
        stmt = stmt.where(
            AlertRule.unit_id.is_(None) | AlertRule.unit_id.in_(sorted(set(unit_ids)))
        )
    rows = session.execute(stmt).all()
    attempts: dict[int, list[DeliveryAttempt]] = {}
    for chunk in _chunks([row[0].id for row in rows]):
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(chunk))
            .order_by(DeliveryAttempt.id)
        ):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return [
        LoggedDelivery(
            delivery,
            alert,
            rule_name,
            rule_unit,
            channel_name,
            channel_kind,
            attempts.get(delivery.id, []),
        )
        for delivery, alert, rule_name, rule_unit, channel_name, channel_kind in rows
    ]
