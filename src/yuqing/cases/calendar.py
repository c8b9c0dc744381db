"""The official Chinese working-day calendar: chinesecalendar plus the office's additions.

The `chinesecalendar` package knows the State Council's holiday arrangements up to its release
(2004–2026 in 1.11). Each autumn the next year's arrangement is published; until the package is
upgraded an office adds that year to `working_calendar.yaml` in its standard directory. A year
listed there replaces the package's data for that year.

>>> calendar = WorkingCalendar()
>>> calendar.add_working_days(date(2026, 9, 30), 1)  # the National Day holiday comes between
datetime.date(2026, 10, 8)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import chinese_calendar  # type: ignore[import-untyped]

from yuqing.errors import ConfigError
from yuqing.standard import Standard
from yuqing.standard.models import WorkingCalendarYear

# chinesecalendar raises NotImplementedError outside the years of its holiday table.
_PACKAGE_FIRST = min(chinese_calendar.holidays).year
_PACKAGE_LAST = max(chinese_calendar.holidays).year


class CalendarRangeError(ConfigError):
    """A date falls in a year whose official holiday arrangement is not known."""

    def __init__(self, day: date, known_years: str) -> None:
        self.day = day
        self.known_years = known_years
        super().__init__(
            f"无法判断 {day.isoformat()} 是否为工作日：工作日历只收录了 {known_years} 年的"
            f"节假日安排。请升级 chinesecalendar 软件包（pip install -U chinesecalendar），"
            f"或在标准目录（设置 YUQING_STANDARD_DIR）的 working_calendar.yaml 中补充 "
            f"{day.year} 年的 holidays 和 workdays（以国务院办公厅公布的放假安排为准）。"
        )


def _ranges(years: list[int]) -> str:
    """[2004, 2005, 2006, 2028] → '2004–2006、2028'."""
    parts: list[str] = []
    start = previous = years[0]
    for year in [*years[1:], None]:
        if year is not None and year == previous + 1:
            previous = year
            continue
        parts.append(str(start) if start == previous else f"{start}–{previous}")
        if year is not None:
            start = previous = year
    return "、".join(parts)


class WorkingCalendar:
    """Working days after the official calendar (holidays and swapped working days)."""

    def __init__(self, years: Mapping[int, WorkingCalendarYear] | None = None) -> None:
        """`years`: the office's arrangements by year, from working_calendar.yaml."""
        self._years = {
            year: (frozenset(days.holidays), frozenset(days.workdays))
            for year, days in (years or {}).items()
        }
        known = set(range(_PACKAGE_FIRST, _PACKAGE_LAST + 1)) | set(self._years)
        self.known_years = _ranges(sorted(known))
        self._known = frozenset(known)

    @classmethod
    def from_standard(cls, standard: Standard) -> WorkingCalendar:
        """The calendar with the standard's working_calendar.yaml additions."""
        return cls(standard.working_calendar.years)

    def knows(self, day: date) -> bool:
        """Whether the arrangement of `day`'s year is known."""
        return day.year in self._known

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is an official working day; CalendarRangeError for unknown years."""
        office = self._years.get(day.year)
        if office is not None:
            holidays, workdays = office
            return day in workdays if day.weekday() >= 5 else day not in holidays
        if not _PACKAGE_FIRST <= day.year <= _PACKAGE_LAST:
            raise CalendarRangeError(day, self.known_years)
        return bool(chinese_calendar.is_workday(day))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (`day` itself for 0).

        `day` need not be a working day: Saturday + 1 is the next working day (usually Monday).
        Raises CalendarRangeError when the count runs into a year that is not known.
        """
        if count < 0:
            raise ValueError(f"working-day count must not be negative, got {count}")
        for _ in range(count):
            day = self.next_working_day(day)
        return day
