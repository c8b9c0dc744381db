"""Detection: follow grade_history, raise one alert per rule, event (or item) and grade.

Every grade an item is given is a row in grade_history; the feed reads them by id from the
cursor "alerts.grades". The key of an alert is "event:<id>:<grade>" (or "item:<id>:<grade>" for
an item outside any event), unique per rule. A grade above every grade already alerted for the
same key base and rule is an escalation; the first is new; a grade at or below one alerted
before sends nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.alerts.messages import item_alert
from yuqing.alerts.rules import CompiledRule, Reminder, compile_rules
from yuqing.settings import Settings
from yuqing.standard import Standard
from yuqing.store import alerts as store
from yuqing.store.tables import GradeChange, Unit

CURSOR = "alerts.grades"
BATCH = 500
"""Grade changes read per transaction."""
GAP_GRACE_SECONDS = 120.0
"""How long an id missing below newer ones is waited for (a PostgreSQL transaction that took
its id earlier may commit later); after that it counts as rolled back."""
MAX_GAP = 100_000
"""A jump in ids larger than this is not waited for (a sequence reset, a bulk delete)."""


class GradeFeed:
    """Reads grade_history by id, including rows that became visible after newer ones.

    `position` is the highest id below which everything was read: what the cursor stores.
    """

    def __init__(
        self, grace: float = GAP_GRACE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.grace = grace
        self.clock = clock
        self.high: int | None = None
        self.missing: dict[int, float] = {}

    def reset(self) -> None:
        """Forget what was read (after a rolled-back transaction): start from the cursor."""
        self.high = None
        self.missing.clear()

    def read(self, session: Session, limit: int) -> list[GradeChange]:
        if self.high is None:
            self.high = store.cursor_position(session, CURSOR)
        now = self.clock()
        self.missing = {i: t for i, t in self.missing.items() if now - t < self.grace}
        late = store.grade_changes_by_id(session, list(self.missing)[:1000])
        for row in late:
            self.missing.pop(row.id, None)
        fresh = store.grade_changes_after(session, self.high, limit)
        expected = self.high + 1
        for row in fresh:
            if 0 < row.id - expected <= MAX_GAP:
                self.missing.update(dict.fromkeys(range(expected, row.id), now))
            expected = row.id + 1
        if fresh:
            self.high = fresh[-1].id
        return late + fresh

    @property
    def position(self) -> int:
        return min(self.missing) - 1 if self.missing else (self.high or 0)


@dataclass(slots=True)
class Detected:
    """What one detection batch did."""

    changes: int = 0
    alerts: int = 0
    deliveries: int = 0
    more: bool = False


def _base(change: GradeChange, facts: store.ItemFacts) -> str:
    if facts.event_id is not None:
        return f"event:{facts.event_id}"
    return f"item:{change.item_id}"


class Detector:
    """Turns grade changes and reminders into alerts and their deliveries."""

    def __init__(self, settings: Settings, standard: Standard, feed: GradeFeed) -> None:
        self.settings = settings
        self.standard = standard
        self.feed = feed
        self.rank = {g.code.value: g.rank for g in standard.grades}
        self.urgent_rank = standard.grade("harmful").rank

    def rules(self, session: Session) -> list[CompiledRule]:
        rows = store.list_rules(session, enabled_only=True)
        parents = [(u, p) for u, p in session.execute(select(Unit.id, Unit.parent_id))]
        return compile_rules(rows, self.standard, parents)

    def batch(self, session: Session, now: datetime) -> Detected:
        """Read one batch of grade changes, raise their alerts, move the cursor."""
        changes = self.feed.read(session, BATCH)
        done = Detected(changes=len(changes), more=len(changes) >= BATCH)
        rules = self.rules(session) if changes else []
        if rules:
            self._alert(session, rules, changes, now, done)
        store.move_cursor(session, CURSOR, self.feed.position, now)
        return done

    def _effective(self, change: GradeChange, humans: list[tuple[int, str]]) -> str | None:
        """The grade the item had after this row: a machine regrade under a standing human
        grade leaves the human grade in force."""
        if change.by == "human":
            return change.grade
        earlier = [grade for change_id, grade in humans if change_id < change.id]
        return earlier[-1] if earlier else change.grade

    def _alert(
        self,
        session: Session,
        rules: list[CompiledRule],
        changes: Sequence[GradeChange],
        now: datetime,
        done: Detected,
    ) -> None:
        item_ids = {c.item_id for c in changes}
        facts = store.item_facts(session, item_ids)
        humans = store.human_grades(session, item_ids)
        candidates: list[tuple[GradeChange, str, str, CompiledRule]] = []
        for change in changes:
            fact = facts.get(change.item_id)
            grade = self._effective(change, humans.get(change.item_id, []))
            if fact is None or grade is None:
                continue
            for rule in rules:
                if rule.matches(fact, grade):
                    candidates.append((change, _base(change, fact), grade, rule))
        if not candidates:
            return
        keys = {f"{base}:{g}" for _, base, _, _ in candidates for g in self.rank}
        seen: dict[tuple[int, str], set[str]] = {}
        for rule_id, key in store.alerted(session, {r.id for *_, r in candidates}, keys):
            base, _, grade = key.rpartition(":")
            seen.setdefault((rule_id, base), set()).add(grade)
        channels = store.existing_channel_ids(
            session, {c for *_, r in candidates for c in r.channel_ids}
        )
        for change, base, grade, rule in candidates:
            before = seen.setdefault((rule.id, base), set())
            top = max(before, key=lambda g: self.rank.get(g, -1), default=None)
            if top is not None and self.rank[grade] <= self.rank.get(top, -1):
                continue
            before.add(grade)
            fact = facts[change.item_id]
            override = (change.actor, change.note) if change.by == "human" else None
            title, body = item_alert(
                self.standard,
                fact,
                grade=grade,
                previous=top,
                reasons=change.reasons if override is None else [],
                override=override,
                public_url=self.settings.public_url,
                timezone=self.settings.timezone,
            )
            values: dict[str, Any] = {
                "rule_id": rule.id,
                "key": f"{base}:{grade}",
                "kind": "new" if top is None else "escalation",
                "grade": grade,
                "item_id": fact.id,
                "event_id": fact.event_id,
                "title": title,
                "body": body,
                "created_at": now,
            }
            if (created := self._raise(session, rule, values, grade, channels, now)) is not None:
                done.alerts += 1
                done.deliveries += created

    def _raise(
        self,
        session: Session,
        rule: CompiledRule,
        values: dict[str, Any],
        grade: str | None,
        channels: set[int],
        now: datetime,
    ) -> int | None:
        """Insert the alert and one delivery per channel: how many deliveries, or None when
        the alert existed already (another dispatcher raised it)."""
        alert_id = store.add_alert(session, values)
        if alert_id is None:
            return None
        status, due = store.PENDING, now
        urgent = grade is not None and self.rank.get(grade, 0) >= self.urgent_rank
        if rule.quiet is not None and not urgent:
            until = rule.quiet.defer_until(now, self.settings.timezone)
            if until is not None:
                status, due = store.DEFERRED, until
        rows = [
            {
                "alert_id": alert_id,
                "channel_id": channel_id,
                "status": status,
                "attempts": 0,
                "next_attempt_at": due,
                "created_at": now,
            }
            for channel_id in dict.fromkeys(rule.channel_ids)
            if channel_id in channels
        ]
        store.add_deliveries(session, rows)
        return len(rows)

    def remind(self, session: Session, reminders: Sequence[Reminder], now: datetime) -> Detected:
        """Alerts for deadline reminders: once per reminder key and rule."""
        done = Detected()
        rules = [r for r in self.rules(session) if r.remind_deadlines] if reminders else []
        channels = store.existing_channel_ids(session, {c for r in rules for c in r.channel_ids})
        for reminder in reminders:
            for rule in rules:
                if not rule.covers([reminder.unit_id]):
                    continue
                values: dict[str, Any] = {
                    "rule_id": rule.id,
                    "key": f"reminder:{reminder.key}"[:120],
                    "kind": "reminder",
                    "grade": reminder.grade,
                    "case_id": reminder.case_id,
                    "title": reminder.title,
                    "body": reminder.body,
                    "created_at": now,
                }
                created = self._raise(session, rule, values, reminder.grade, channels, now)
                if created is not None:
                    done.alerts += 1
                    done.deliveries += created
        return done
