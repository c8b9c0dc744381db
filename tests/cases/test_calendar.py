"""The working-day calendar follows the official arrangement and says when it does not know."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.cases.calendar import CalendarRangeError, WorkingCalendar
from yuqing.errors import ConfigError
from yuqing.standard import load_standard
from yuqing.standard.models import WorkingCalendarYear

CALENDAR = WorkingCalendar()

EXTENSION_2027 = """\
years:
  2027:
    holidays: [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09]
    workdays: [2027-02-07, 2027-02-20]
"""


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1)]


def test_national_day_2026_is_off_and_the_swapped_days_are_worked() -> None:
    # The State Council's 2026 arrangement as the package has it: 10-01..07 off (10-08 back at
    # work), the Mid-Autumn Festival 09-25..27 off, Sunday 09-20 and Saturday 10-10 worked.
    assert not any(CALENDAR.is_working_day(d) for d in days(date(2026, 10, 1), date(2026, 10, 7)))
    assert not any(CALENDAR.is_working_day(d) for d in days(date(2026, 9, 25), date(2026, 9, 27)))
    assert CALENDAR.is_working_day(date(2026, 10, 8))
    assert CALENDAR.is_working_day(date(2026, 9, 20))  # Sunday
    assert CALENDAR.is_working_day(date(2026, 10, 10))  # Saturday
    assert not CALENDAR.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    for day in (date(2026, 9, 20), date(2026, 9, 27), date(2026, 10, 8), date(2026, 10, 10)):
        assert CALENDAR.is_working_day(day) == chinese_calendar.is_workday(day), day


def test_add_working_days_skips_the_holiday() -> None:
    assert CALENDAR.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CALENDAR.add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)
    assert CALENDAR.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)  # Saturday
    assert CALENDAR.add_working_days(date(2026, 10, 3), 2) == date(2026, 10, 9)
    assert CALENDAR.add_working_days(date(2026, 5, 15), 1) == date(2026, 5, 18)  # Fri → Mon
    assert CALENDAR.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    assert CALENDAR.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add_working_days(date(2026, 1, 5), -1)


@pytest.mark.parametrize("day", [date(2027, 1, 4), date(2003, 12, 31)])
def test_unknown_year_says_what_to_do(day: date) -> None:
    with pytest.raises(CalendarRangeError) as info:
        CALENDAR.is_working_day(day)
    message = str(info.value)
    assert isinstance(info.value, ConfigError)
    assert info.value.day == day
    assert day.isoformat() in message
    assert "2004–2026" in message
    assert "chinesecalendar" in message and "working_calendar.yaml" in message
    assert f"{day.year} 年" in message
    assert not CALENDAR.knows(day)


def test_counting_into_an_unknown_year_fails_clearly() -> None:
    with pytest.raises(CalendarRangeError, match="2027-01-01"):
        CALENDAR.add_working_days(date(2026, 12, 31), 1)


def test_office_extends_the_calendar_with_next_year(tmp_path: Path) -> None:
    (tmp_path / "working_calendar.yaml").write_text(EXTENSION_2027, encoding="utf-8")
    calendar = WorkingCalendar.from_standard(load_standard(tmp_path))
    assert calendar.known_years == "2004–2027"
    assert not calendar.is_working_day(date(2027, 1, 1))  # a listed holiday (Friday)
    assert calendar.is_working_day(date(2027, 1, 4))  # an ordinary Monday
    assert not calendar.is_working_day(date(2027, 1, 9))  # an ordinary Saturday
    assert calendar.is_working_day(date(2027, 2, 7))  # a listed Sunday worked
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert calendar.add_working_days(date(2027, 2, 4), 2) == date(2027, 2, 10)
    with pytest.raises(CalendarRangeError) as info:
        calendar.is_working_day(date(2028, 1, 3))
    assert "2004–2027" in str(info.value)


def test_a_listed_year_replaces_the_package(tmp_path: Path) -> None:
    (tmp_path / "working_calendar.yaml").write_text("years:\n  2026: {}\n", encoding="utf-8")
    calendar = WorkingCalendar.from_standard(load_standard(tmp_path))
    assert calendar.is_working_day(date(2026, 10, 1))  # no holidays listed for 2026
    assert not calendar.is_working_day(date(2026, 10, 10))  # nor swapped working days
    assert calendar.is_working_day(date(2025, 10, 10))  # other years: still the package


def test_gap_years_stay_unknown() -> None:
    assert CALENDAR.known_years == "2004–2026"
    extended = WorkingCalendar({2030: WorkingCalendarYear()})
    assert extended.known_years == "2004–2026、2030"
    assert extended.is_working_day(date(2030, 1, 2))
    with pytest.raises(CalendarRangeError, match="2004–2026、2030"):
        extended.is_working_day(date(2028, 6, 1))


KNOWN_DAYS = st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 11, 30))


@settings(deadline=None)  # no timing: the machine is shared
@given(KNOWN_DAYS, st.integers(min_value=1, max_value=20))
def test_add_working_days_lands_on_a_working_day_after_the_start(day: date, count: int) -> None:
    result = CALENDAR.add_working_days(day, count)
    assert result > day
    assert CALENDAR.is_working_day(result)
    between = [d for d in days(day + timedelta(1), result) if CALENDAR.is_working_day(d)]
    assert len(between) == count
    # The package's own search agrees: the (count-1)-th working day from the day after.
    assert result == chinese_calendar.find_workday(count - 1, day + timedelta(1))


@settings(deadline=None)  # no timing: the machine is shared
@given(KNOWN_DAYS, st.integers(min_value=0, max_value=10), st.integers(min_value=0, max_value=10))
def test_add_working_days_composes(day: date, first: int, second: int) -> None:
    once = CALENDAR.add_working_days(day, first + second)
    twice = CALENDAR.add_working_days(CALENDAR.add_working_days(day, first), second)
    assert once == twice
