"""A case's deadlines: which apply, when they fall due, and how the case stands against each."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.cases.calendar import WorkingCalendar
from yuqing.cases.deadlines import (
    CaseClock,
    StepStatus,
    case_deadlines,
    case_steps,
    due_at,
    overdue_count,
)
from yuqing.errors import ConfigError
from yuqing.standard import Standard, load_standard

TZ = ZoneInfo("Asia/Shanghai")
SOON = timedelta(minutes=30)
STANDARD = load_standard()
CALENDAR = WorkingCalendar.from_standard(STANDARD)
HARMFUL_CODES = [
    "report_form",
    "phone_report",
    "written_report",
    "follow_up_report",
    "disposal_report",
]


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TZ)  # type: ignore[misc]


def clock(discovered: datetime, grade: str = "harmful", **facts: object) -> CaseClock:
    return CaseClock(
        discovered_at=discovered.astimezone(UTC), grade=grade, unit_level="county", **facts
    )  # type: ignore[arg-type]


def steps_at(
    case: CaseClock, now: datetime, standard: Standard = STANDARD
) -> dict[str, StepStatus]:
    found = case_steps(standard, CALENDAR, case, now, TZ, SOON)
    return {step.code: step for step in found}


def form_due(discovered: datetime) -> datetime | None:
    return due_at(STANDARD.deadline("report_form"), discovered, CALENDAR, TZ)


# Which deadlines apply ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "codes"),
    [
        ("positive", []),
        ("general", []),
        ("attention", ["report_form"]),
        ("harmful", HARMFUL_CODES),
        ("dangerous", HARMFUL_CODES),
    ],
)
def test_deadlines_by_grade(grade: str, codes: list[str]) -> None:
    assert [d.code for d in case_deadlines(STANDARD, grade, "county")] == codes


def test_office_level_deadlines_are_not_case_steps() -> None:
    for level in ("county", "city", "province", None):
        codes = {d.code for d in case_deadlines(STANDARD, "dangerous", level)}
        assert codes == set(HARMFUL_CODES)


def test_unit_levels_restrict_a_deadline(tmp_path: Path) -> None:
    text = (Path(str(files("yuqing.standard"))) / "deadlines.yaml").read_text(encoding="utf-8")
    old = "    amount: 1\n    unit: hours\n    unit_levels: null"
    assert old in text
    text = text.replace(old, "    amount: 1\n    unit: hours\n    unit_levels: [county]")
    (tmp_path / "deadlines.yaml").write_text(text, encoding="utf-8")
    standard = load_standard(tmp_path)
    assert "phone_report" in {d.code for d in case_deadlines(standard, "harmful", "county")}
    assert "phone_report" not in {d.code for d in case_deadlines(standard, "harmful", "city")}
    assert "phone_report" not in {d.code for d in case_deadlines(standard, "harmful", None)}
    now = local(2026, 5, 15, 17, 0)
    city_case = replace(clock(now), unit_level="city")
    assert "phone_report" not in steps_at(city_case, now, standard)
    assert "phone_report" in steps_at(clock(now), now, standard)


def test_unknown_grade_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="舆情等级"):
        case_deadlines(STANDARD, "awful", "county")


# When they fall due -------------------------------------------------------------------------


def test_friday_evening_plus_one_working_day_is_monday_evening() -> None:
    assert form_due(local(2026, 5, 15, 17, 0)) == local(2026, 5, 18, 17, 0)


def test_due_times_are_aware_utc() -> None:
    due = form_due(local(2026, 5, 15, 17, 0))
    assert due is not None and due.tzinfo == UTC and due.hour == 9


def test_working_day_before_the_holiday() -> None:
    assert form_due(local(2026, 9, 30, 16, 20)) == local(2026, 10, 8, 16, 20)


def test_discovered_on_a_holiday_runs_to_the_end_of_the_working_day() -> None:
    # 10-03 is in the National Day holiday: the form is due by 24:00 on 10-08.
    assert form_due(local(2026, 10, 3, 10, 0)) == local(2026, 10, 9, 0, 0)
    assert form_due(local(2026, 10, 3, 23, 59)) == local(2026, 10, 9, 0, 0)
    # An ordinary Sunday: by the end of Monday.
    assert form_due(local(2026, 5, 17, 8, 0)) == local(2026, 5, 19, 0, 0)


def test_discovered_on_a_swapped_working_saturday() -> None:
    # 2026-10-10 is a Saturday worked in lieu: it counts, Sunday does not.
    assert form_due(local(2026, 10, 10, 9, 0)) == local(2026, 10, 12, 9, 0)


def test_local_day_decides_not_the_utc_day() -> None:
    # 00:30 on Monday 2026-05-18 in Shanghai is still Sunday in UTC.
    assert form_due(local(2026, 5, 18, 0, 30)) == local(2026, 5, 19, 0, 30)


def test_harmful_phone_and_written_reports_run_on_the_clock() -> None:
    found = local(2026, 10, 3, 23, 30)  # a holiday night: hours still count
    steps = steps_at(clock(found), found)
    assert steps["phone_report"].due_at == found + timedelta(hours=1)
    assert steps["written_report"].due_at == found + timedelta(hours=2)
    assert steps["follow_up_report"].due_at is None
    assert steps["disposal_report"].due_at is None


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        form_due(datetime(2026, 5, 15, 17, 0))
    with pytest.raises(ValueError, match="now"):
        case_steps(STANDARD, CALENDAR, clock(local(2026, 5, 15)), datetime(2026, 5, 15), TZ, SOON)


# How the case stands ------------------------------------------------------------------------

FOUND = local(2026, 5, 15, 17, 0)  # a Friday; form due Monday 17:00, phone 18:00, written 19:00


def test_open_due_soon_and_overdue() -> None:
    steps = steps_at(clock(FOUND), FOUND + timedelta(minutes=40))
    phone, written, form = steps["phone_report"], steps["written_report"], steps["report_form"]
    assert (phone.state, phone.remaining_seconds) == ("due_soon", 20 * 60)
    assert phone.remaining_text() == "剩余 20 分"
    assert (written.state, written.remaining_seconds) == ("open", 80 * 60)
    assert written.remaining_text() == "剩余 1 小时 20 分"
    assert form.state == "open" and form.remaining_text() == "剩余 2 天 23 小时"
    assert overdue_count(steps.values()) == 0

    later = steps_at(clock(FOUND), FOUND + timedelta(days=1, hours=3))
    assert later["phone_report"].state == "overdue"
    assert later["phone_report"].remaining_seconds == -(26 * 3600)
    assert later["phone_report"].remaining_text() == "已超时 1 天 2 小时"
    assert later["written_report"].remaining_text() == "已超时 1 天 1 小时"
    assert later["report_form"].state == "open"
    assert overdue_count(later.values()) == 2


def test_state_boundaries() -> None:
    at_soon = steps_at(clock(FOUND), FOUND + timedelta(hours=1) - SOON)
    assert at_soon["phone_report"].state == "due_soon"
    at_due = steps_at(clock(FOUND), FOUND + timedelta(hours=1))
    assert at_due["phone_report"].state == "overdue"
    assert at_due["phone_report"].remaining_seconds == 0
    just_before = steps_at(clock(FOUND), FOUND + timedelta(minutes=59, seconds=30))
    assert just_before["phone_report"].remaining_text() == "剩余 不足 1 分"


def test_met_and_late() -> None:
    case = clock(
        FOUND,
        phone_reported_at=FOUND + timedelta(minutes=50),
        reported_at=FOUND + timedelta(hours=3),
    )
    steps = steps_at(case, FOUND + timedelta(days=5))
    assert steps["phone_report"].state == "met"
    assert steps["phone_report"].met_at == FOUND + timedelta(minutes=50)
    assert steps["phone_report"].remaining_text() == "已按时完成"
    assert steps["phone_report"].remaining_seconds is None
    assert steps["written_report"].state == "late"  # 2 hours for the written report
    assert steps["written_report"].remaining_text() == "逾期完成"
    assert steps["report_form"].state == "met"  # the same report meets the form's day
    assert overdue_count(steps.values()) == 0


def test_follow_ups_and_the_disposal_report_are_untimed_until_done() -> None:
    steps = steps_at(clock(FOUND), FOUND + timedelta(days=30))
    for code in ("follow_up_report", "disposal_report"):
        assert steps[code].state == "untimed"
        assert steps[code].remaining_text() == "无固定时限"
    done = clock(
        FOUND,
        follow_up_at=FOUND + timedelta(days=2),
        closed_at=FOUND + timedelta(days=9),
    )
    steps = steps_at(done, FOUND + timedelta(days=30))
    assert steps["follow_up_report"].state == "met"
    assert steps["disposal_report"].met_at == FOUND + timedelta(days=9)
    assert steps["disposal_report"].state == "met"


def test_withdrawn_case_has_no_open_steps() -> None:
    case = clock(FOUND, phone_reported_at=FOUND + timedelta(minutes=10), withdrawn=True)
    steps = steps_at(case, FOUND + timedelta(days=3))
    assert steps["phone_report"].state == "met"
    assert {steps[code].state for code in HARMFUL_CODES if code != "phone_report"} == {"untimed"}
    assert steps["written_report"].remaining_text() == "不再计时"
    assert steps["follow_up_report"].remaining_text() == "无固定时限"
    assert overdue_count(steps.values()) == 0


def test_past_the_calendar_the_step_is_unknown_with_the_reason() -> None:
    found = local(2026, 12, 31, 18, 0)  # the form would be due in 2027
    steps = steps_at(clock(found), found + timedelta(minutes=30))
    form = steps["report_form"]
    assert form.state == "unknown" and form.due_at is None
    assert form.error is not None and "2027" in form.error and "working_calendar.yaml" in form.error
    assert form.remaining_text() == form.error
    assert steps["phone_report"].state == "due_soon"  # clock hours still work
    withdrawn = steps_at(clock(found, withdrawn=True), found)
    assert withdrawn["report_form"].state == "untimed"
    assert withdrawn["report_form"].error is None


def test_extended_calendar_resolves_the_unknown(tmp_path: Path) -> None:
    (tmp_path / "working_calendar.yaml").write_text(
        "years:\n  2027:\n    holidays: [2027-01-01]\n", encoding="utf-8"
    )
    standard = load_standard(tmp_path)
    calendar = WorkingCalendar.from_standard(standard)
    found = local(2026, 12, 31, 18, 0)
    steps = case_steps(standard, calendar, clock(found), found, TZ, SOON)
    form = next(step for step in steps if step.code == "report_form")
    assert form.due_at == local(2027, 1, 4, 18, 0)
    assert form.state == "open"


@settings(deadline=None)  # no timing: the machine is shared
@given(
    st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2026, 11, 30)),
    st.integers(min_value=0, max_value=5),
)
def test_working_day_due_time_is_after_discovery_within_a_working_day(
    naive: datetime, amount: int
) -> None:
    found = naive.replace(tzinfo=TZ)
    deadline = STANDARD.deadline("report_form").model_copy(update={"amount": amount})
    due = due_at(deadline, found, CALENDAR, TZ)
    assert due is not None and due >= found
    last_moment = (due - timedelta(microseconds=1)).astimezone(TZ)
    if amount and CALENDAR.is_working_day(found.date()):
        assert due.astimezone(TZ).time() == found.time()
        assert CALENDAR.is_working_day(due.astimezone(TZ).date())
    elif amount:
        assert due.astimezone(TZ).time().hour == 0  # 24:00 of a working day
        assert CALENDAR.is_working_day(last_moment.date())
