"""Which rules an item's new grade (or a deadline reminder) goes to; quiet hours.

An empty filter means any. With no grades listed a rule takes every negative grade of the
standard (attention, harmful, dangerous); positive and general never alert. Units: the item's
units are those of its matched subjects and of its source; a rule for a unit covers that unit
and, with `include_subtree`, every unit below it; a rule without a unit covers all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from yuqing.standard import Standard
from yuqing.store.alerts import ItemFacts
from yuqing.store.tables import AlertRule
from yuqing.store.units import subtree

log = logging.getLogger("yuqing.alerts")
_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


def parse_hhmm(value: str) -> time:
    """ "22:30" → time(22, 30); ValueError in words for anything else."""
    match = _HHMM.match(value.strip())
    if match is None:
        raise ValueError(f"时间 {value[:20]!r} 无效，应为 24 小时制的“时:分”，如 22:00 或 07:30")
    return time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window in local time ("22:00"–"07:00" crosses midnight)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def defer_until(self, now: datetime, timezone: str) -> datetime | None:
        """The end of the window `now` falls in (aware UTC), or None outside it."""
        zone = ZoneInfo(timezone)
        local = now.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return None
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end.astimezone(now.tzinfo)


@dataclass(frozen=True, slots=True)
class Reminder:
    """A deadline reminder the cases module hands the dispatcher; sent once per key and rule
    to every rule with `remind_deadlines` whose units cover `unit_id`."""

    key: str  # unique for one reminder of one deadline, e.g. "case:42:written_report"
    unit_id: int | None
    case_id: int | None
    title: str
    body: str
    due_at: datetime
    grade: str | None = None  # the case's grade: harmful/dangerous reminders ignore quiet hours


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its unit subtree worked out, ready to match many items."""

    id: int
    name: str
    units: frozenset[int] | None  # None: every unit, and items without one
    grades: frozenset[str]
    categories: tuple[str, ...]
    platforms: frozenset[str]
    subject_ids: frozenset[int]
    channel_ids: tuple[int, ...]
    quiet: QuietHours | None
    remind_deadlines: bool

    def matches(self, facts: ItemFacts, grade: str) -> bool:
        if grade not in self.grades:
            return False
        category = facts.category or ""
        if self.categories and not category.startswith(self.categories):
            return False
        if self.platforms and facts.platform not in self.platforms:
            return False
        if self.subject_ids and self.subject_ids.isdisjoint(facts.subject_ids):
            return False
        return self.covers(facts.unit_ids)

    def covers(self, unit_ids: Iterable[int | None]) -> bool:
        """Whether the rule's units take something owned by any of `unit_ids`."""
        if self.units is None:
            return True
        return any(u is not None and u in self.units for u in unit_ids)


def compile_rules(
    rows: Sequence[AlertRule],
    standard: Standard,
    unit_parents: Iterable[tuple[int, int | None]],
) -> list[CompiledRule]:
    """Enabled rules ready to match; `unit_parents` is every (unit id, parent id)."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in unit_parents:
        children.setdefault(parent_id, []).append(unit_id)
    negative = frozenset(g.code.value for g in standard.grades if g.negative)
    compiled = []
    for row in rows:
        if not row.enabled:
            continue
        units: frozenset[int] | None = None
        if row.unit_id is not None:
            units = frozenset(
                subtree(children, row.unit_id) if row.include_subtree else {row.unit_id}
            )
        quiet = None
        if row.quiet_start and row.quiet_end:
            try:
                quiet = QuietHours(parse_hhmm(row.quiet_start), parse_hhmm(row.quiet_end))
            except ValueError:  # edited outside Yuqing: alert at any hour rather than never
                log.warning("alert rule %r has bad quiet hours; ignoring them", row.name)
        compiled.append(
            CompiledRule(
                id=row.id,
                name=row.name,
                units=units,
                grades=frozenset(row.grades or []) & negative if row.grades else negative,
                categories=tuple(row.categories or []),
                platforms=frozenset(row.platforms or []),
                subject_ids=frozenset(row.subject_ids or []),
                channel_ids=tuple(row.channel_ids or []),
                quiet=quiet,
                remind_deadlines=row.remind_deadlines,
            )
        )
    return compiled
