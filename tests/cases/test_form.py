"""The form's view model: defaults, local times, deadline rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from yuqing.cases.calendar import WorkingCalendar
from yuqing.cases.deadlines import CaseClock, case_steps
from yuqing.cases.form import CaseForm, format_time, step_rows
from yuqing.standard import load_standard

TZ = ZoneInfo("Asia/Shanghai")


def test_defaults_are_empty_and_lists_are_not_shared() -> None:
    first, second = CaseForm(), CaseForm(number="QS-2026-0001")
    assert first.topic == "" and first.attachments == [] and first.timeline == []
    first.attachments.append("a.png")
    assert second.attachments == []
    with pytest.raises(TypeError):
        CaseForm("QS-2026-0001")  # type: ignore[misc]


def test_format_time_is_office_local() -> None:
    assert format_time(datetime(2026, 5, 15, 9, 0, tzinfo=UTC), TZ) == "2026-05-15 17:00"
    assert format_time(None, TZ) == ""
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 5, 15, 9, 0), TZ)


def test_step_rows() -> None:
    standard = load_standard()
    found = datetime(2026, 5, 15, 17, 0, tzinfo=TZ)
    clock = CaseClock(
        discovered_at=found,
        grade="harmful",
        unit_level="county",
        phone_reported_at=found + timedelta(minutes=45),
    )
    steps = case_steps(
        standard,
        WorkingCalendar(),
        clock,
        found + timedelta(hours=1, minutes=30),
        TZ,
        timedelta(minutes=30),
    )
    rows = {name: (due, state) for name, due, state in step_rows(steps, TZ)}
    assert rows["电话报告"] == ("2026-05-15 18:00", "已按时完成（2026-05-15 17:45）")
    assert rows["书面报告"] == ("2026-05-15 19:00", "剩余 30 分")
    assert rows["舆情信息报告处理单"] == ("2026-05-18 17:00", "剩余 2 天 22 小时")
    assert rows["续报"] == ("无固定时限", "无固定时限")


def test_step_rows_past_the_calendar() -> None:
    found = datetime(2026, 12, 31, 18, 0, tzinfo=TZ)
    clock = CaseClock(discovered_at=found, grade="attention", unit_level=None)
    steps = case_steps(load_standard(), WorkingCalendar(), clock, found, TZ, timedelta(0))
    [(name, due, state)] = step_rows(steps, TZ)
    assert (name, due) == ("舆情信息报告处理单", "无法计算")
    assert "working_calendar.yaml" in state
