"""working_calendar.yaml and deadlines' met_by: bundled files load, edited copies are checked."""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from pathlib import Path

import pytest

from yuqing.errors import ConfigError
from yuqing.standard import load_standard

BUNDLED = Path(str(files("yuqing.standard")))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_standard(tmp_path)
    return str(info.value)


def test_bundled_calendar_file_is_documented_and_empty() -> None:
    text = (BUNDLED / "working_calendar.yaml").read_text(encoding="utf-8")
    assert "holidays" in text and "workdays" in text and "YUQING_STANDARD_DIR" in text
    assert load_standard().working_calendar.years == {}


def test_office_adds_a_year(tmp_path: Path) -> None:
    write(
        tmp_path,
        "working_calendar.yaml",
        "years:\n  2027:\n    holidays: [2027-01-01, '2027-02-05']\n"
        "    workdays: ['2027-02-07']\n  2028: {}\n",
    )
    years = load_standard(tmp_path).working_calendar.years
    assert years[2027].holidays == (date(2027, 1, 1), date(2027, 2, 5))
    assert years[2027].workdays == (date(2027, 2, 7),)
    assert years[2028].holidays == () and years[2028].workdays == ()


def test_empty_years_key_means_none(tmp_path: Path) -> None:
    write(tmp_path, "working_calendar.yaml", "years:\n")
    assert load_standard(tmp_path).working_calendar.years == {}


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ("2027:\n    holidays: ['2027-13-01']", "years.2027.holidays.0", "不是有效的日期"),
        ("2027:\n    holidays: [20270101]", "years.2027.holidays.0", "YYYY-MM-DD"),
        ("2027:\n    holidays: ['1 Jan 2027']", "years.2027.holidays.0", "YYYY-MM-DD"),
        ("2027:\n    holidays: [2027-01-01 08:00:00]", "years.2027.holidays.0", "不能带时刻"),
        ("2027:\n    holidays: [2028-01-01]", "years", "2027 年的 holidays 中有其他年份的日期"),
        (
            "2027:\n    holidays: [2027-02-06]\n    workdays: [2027-02-06]",
            "years.2027",
            "同时列在 holidays 和 workdays 中",
        ),
        ("2027:\n    workdays: [2027-02-08]", "years.2027.workdays", "2027-02-08 是周一至周五"),
        ("2027:\n    holidays: [2027-01-01, 2027-01-01]", "years.2027", "重复"),
        ("2027:\n    holiday: [2027-01-01]", "years.2027.holiday", "不认识的字段"),
        ("next:\n    holidays: []", "years.next", "须为整数"),
        ("1999: {}", "years", "不在 2000–2100 之间"),
    ],
)
def test_bad_calendar_file_names_file_and_entry(
    tmp_path: Path, body: str, where: str, words: str
) -> None:
    path = write(tmp_path, "working_calendar.yaml", f"years:\n  {body}\n")
    message = error_of(tmp_path)
    assert f"标准文件 {path} 有误：{where}" in message
    assert words in message


def test_calendar_file_must_map_years(tmp_path: Path) -> None:
    path = write(tmp_path, "working_calendar.yaml", "years: [2027]\n")
    message = error_of(tmp_path)
    assert f"标准文件 {path} 有误：years：须为键值映射" in message


# met_by on deadlines ------------------------------------------------------------------------


def test_bundled_deadlines_say_what_meets_them() -> None:
    met_by = {d.code: d.met_by for d in load_standard().deadlines}
    assert met_by == {
        "daily_report_county": None,
        "daily_report_city": None,
        "report_form": "reported",
        "phone_report": "phone_reported",
        "written_report": "reported",
        "follow_up_report": "follow_up",
        "disposal_report": "closed",
        "quarterly_analysis_county": None,
        "quarterly_analysis_city": None,
    }


def deadlines_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (BUNDLED / "deadlines.yaml").read_text(encoding="utf-8")
    assert old in text
    return write(tmp_path, "deadlines.yaml", text.replace(old, new, 1))


def test_case_deadline_without_met_by(tmp_path: Path) -> None:
    path = deadlines_with(tmp_path, "    met_by: phone_reported\n", "")
    message = error_of(tmp_path)
    assert f"标准文件 {path} 有误：deadlines.3：" in message
    assert "须写 met_by" in message


def test_office_deadline_with_met_by(tmp_path: Path) -> None:
    path = deadlines_with(tmp_path, "    zero_report: true\n", "    met_by: reported\n")
    message = error_of(tmp_path)
    assert f"标准文件 {path} 有误：deadlines.0：" in message
    assert "不能写 met_by" in message


def test_unknown_met_by(tmp_path: Path) -> None:
    path = deadlines_with(tmp_path, "met_by: closed", "met_by: finished")
    message = error_of(tmp_path)
    assert f"标准文件 {path} 有误：deadlines.6.met_by：取值须为" in message
    assert "finished" in message
