"""A case's reporting deadlines (SPEC 2.5) and how it stands against each.

The deadlines come from the standard (`deadlines.yaml`): rows anchored at discovery,
development (follow-ups) or closure whose grades include the case's grade and whose unit levels
include the unit's level (or are null). Each row's `met_by` names the case fact that meets it.

Clock hours count on the clock. Working days count on the official calendar, in the office's
time zone: found on a working day at 16:20 → 16:20 on the N-th next working day; found on a day
off → 24:00 at the end of the N-th working day after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from yuqing.cases.calendar import CalendarRangeError, WorkingCalendar
from yuqing.standard import Deadline, Standard
from yuqing.standard.models import CASE_ANCHORS

StepState = Literal["met", "late", "open", "due_soon", "overdue", "untimed", "unknown"]
OPEN_STATES: frozenset[str] = frozenset({"open", "due_soon", "overdue"})


@dataclass(frozen=True, slots=True)
class CaseClock:
    """What deadlines need of a case; datetimes are aware (stored ones are UTC)."""

    discovered_at: datetime
    grade: str
    unit_level: str | None
    reported_at: datetime | None = None
    phone_reported_at: datetime | None = None
    follow_up_at: datetime | None = None
    closed_at: datetime | None = None
    withdrawn: bool = False

    def met_at(self, met_by: str | None) -> datetime | None:
        """When the case fact named by a deadline's `met_by` happened, or None."""
        facts = {
            "reported": self.reported_at,
            "phone_reported": self.phone_reported_at,
            "follow_up": self.follow_up_at,
            "closed": self.closed_at,
        }
        return facts.get(met_by) if met_by is not None else None


def _duration(seconds: float) -> str:
    """3 天 2 小时 · 3 小时 20 分 · 12 分 · 不足 1 分 (whole minutes, rounded down)."""
    minutes = int(abs(seconds)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {minutes} 分" if minutes else f"{hours} 小时"
    return f"{minutes} 分" if minutes else "不足 1 分"


@dataclass(frozen=True, slots=True)
class StepStatus:
    """One deadline of one case: when it is due, whether and when it was met, time left."""

    code: str
    name: str
    description: str
    due_at: datetime | None  # None: no fixed time (follow-ups, disposal report) or unknown
    met_at: datetime | None
    state: StepState
    remaining_seconds: float | None  # due_at - now while open; negative when overdue
    error: str | None  # why the due time is unknown (state "unknown")

    def remaining_text(self) -> str:
        """The state in words: "剩余 3 小时 20 分", "已超时 1 天 2 小时", "已按时完成", …"""
        if self.state == "met":
            return "已按时完成"
        if self.state == "late":
            return "逾期完成"
        if self.state == "unknown":
            return self.error or "无法计算时限"
        if self.state == "untimed":
            return "无固定时限" if self.due_at is None else "不再计时"
        seconds = self.remaining_seconds or 0.0
        if self.state == "overdue":
            return f"已超时 {_duration(seconds)}"
        return f"剩余 {_duration(seconds)}"


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got naive {value!r}")
    return value


def case_deadlines(standard: Standard, grade: str, unit_level: str | None) -> list[Deadline]:
    """The case-level deadlines for a grade and unit level, in file order."""
    standard.grade(grade)
    return [
        deadline
        for deadline in standard.deadlines
        if deadline.anchor in CASE_ANCHORS
        and (deadline.grades is None or grade in deadline.grades)
        and (deadline.unit_levels is None or unit_level in deadline.unit_levels)
    ]


def due_at(
    deadline: Deadline, discovered_at: datetime, calendar: WorkingCalendar, tz: ZoneInfo
) -> datetime | None:
    """When a discovery-anchored deadline falls due (aware UTC); None without a fixed time.

    Raises CalendarRangeError when working days run past the calendar's known years.
    """
    _aware(discovered_at, "discovered_at")
    if deadline.anchor != "discovery" or deadline.amount is None:
        return None
    if deadline.unit == "hours":
        return (discovered_at + timedelta(hours=deadline.amount)).astimezone(UTC)
    local = discovered_at.astimezone(tz)
    day = local.date()
    target = calendar.add_working_days(day, deadline.amount)
    if calendar.is_working_day(day):
        due = datetime.combine(target, local.time(), tzinfo=tz)
    else:
        # Found on a day off: the whole of the N-th working day after it counts.
        due = datetime.combine(target + timedelta(days=1), time(0, 0), tzinfo=tz)
    return due.astimezone(UTC)


def _state(
    due: datetime | None,
    met: datetime | None,
    error: str | None,
    withdrawn: bool,
    now: datetime,
    soon: timedelta,
) -> tuple[StepState, float | None]:
    """The state of one step and, while it is open, the seconds left."""
    if error is not None:
        return "unknown", None
    if met is not None:
        return ("late" if due is not None and met > due else "met"), None
    if withdrawn or due is None:
        return "untimed", None
    remaining = (due - now).total_seconds()
    if remaining <= 0:
        return "overdue", remaining
    if remaining <= soon.total_seconds():
        return "due_soon", remaining
    return "open", remaining


def case_steps(
    standard: Standard,
    calendar: WorkingCalendar,
    clock: CaseClock,
    now: datetime,
    tz: ZoneInfo,
    soon: timedelta,
) -> list[StepStatus]:
    """Each case-level deadline of the case with its state at `now`.

    "due_soon" when 0 < time left ≤ `soon`. A withdrawn case has no open steps: met ones stay
    met (or late), the rest are "untimed". A due time past the known calendar makes the step
    "unknown" with the CalendarRangeError message as `error`.
    """
    _aware(now, "now")
    steps: list[StepStatus] = []
    for deadline in case_deadlines(standard, clock.grade, clock.unit_level):
        met = clock.met_at(deadline.met_by)
        error: str | None = None
        try:
            due = due_at(deadline, clock.discovered_at, calendar, tz)
        except CalendarRangeError as exc:
            due, error = None, str(exc)
        if met is not None:
            _aware(met, f"{deadline.met_by} time")
        if clock.withdrawn and met is None:
            error = None  # a withdrawn case no longer runs against its deadlines
        state, remaining = _state(due, met, error, clock.withdrawn, now, soon)
        steps.append(
            StepStatus(
                code=deadline.code,
                name=deadline.name,
                description=deadline.description,
                due_at=due,
                met_at=met,
                state=state,
                remaining_seconds=remaining,
                error=error,
            )
        )
    return steps


def overdue_count(steps: Iterable[StepStatus]) -> int:
    """How many steps are overdue (open past their due time)."""
    return sum(1 for step in steps if step.state == "overdue")
