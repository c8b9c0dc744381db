"""Publish times as Chinese sites write them, read against the discovery time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.pipeline.dates import parse_published

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Discovery time: 2026-11-03 12:00 in Shanghai.
REF = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """A Shanghai wall-clock time as the aware UTC datetime parse_published returns."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ISO 8601.
        ("2026-11-03T08:00:00Z", datetime(2026, 11, 3, 8, tzinfo=UTC)),
        ("2026-11-03T08:00:00+08:00", local(2026, 11, 3, 8)),
        ("2026-11-03T08:00:00.250+08:00", local(2026, 11, 3, 8, 0, 0, 250000)),
        ("2026-11-02T20:00:00-05:00", datetime(2026, 11, 3, 1, tzinfo=UTC)),
        ("2026-11-03T08:00", local(2026, 11, 3, 8)),
        ("2026-11-03", local(2026, 11, 3)),
        # Common site formats.
        ("2026-11-03 08:00", local(2026, 11, 3, 8)),
        ("2026-11-03 08:00:59", local(2026, 11, 3, 8, 0, 59)),
        ("2026/11/3 8:00", local(2026, 11, 3, 8)),
        ("2026/11/03 08:05:09", local(2026, 11, 3, 8, 5, 9)),
        ("2026-11-3 8:00", local(2026, 11, 3, 8)),
        ("2026.11.03", local(2026, 11, 3)),
        ("2026年11月3日", local(2026, 11, 3)),
        ("2026年11月3日 08:30", local(2026, 11, 3, 8, 30)),
        ("2026年11月3日08时30分", local(2026, 11, 3, 8, 30)),
        ("2026年11月3日 8点30分", local(2026, 11, 3, 8, 30)),
        ("2026年11月3日 08时30分15秒", local(2026, 11, 3, 8, 30, 15)),
        ("2026年11月3日 星期二 08:30", local(2026, 11, 3, 8, 30)),
        ("2026年11月3日 下午3:30", local(2026, 11, 3, 15, 30)),
        ("2026年11月3日 凌晨12:10", local(2026, 11, 3, 0, 10)),
        ("２０２６年１１月３日　０８：３０", local(2026, 11, 3, 8, 30)),
        ("  2026-11-03 08:00  ", local(2026, 11, 3, 8)),
        ("20261103", local(2026, 11, 3)),
        ("20261103083000", local(2026, 11, 3, 8, 30)),
        # RSS pubDate.
        ("Tue, 03 Nov 2026 08:00:00 +0800", local(2026, 11, 3, 8)),
        ("Tue, 03 Nov 2026 00:00:00 GMT", datetime(2026, 11, 3, tzinfo=UTC)),
        ("3 Nov 2026 08:00 +0800", local(2026, 11, 3, 8)),
        ("Mon, 02 Nov 2026 08:00:00 -0000", local(2026, 11, 2, 8)),
        # Year-less: this year unless that would be after reference + 1 day.
        ("11月3日", local(2026, 11, 3)),
        ("11月3日 08:30", local(2026, 11, 3, 8, 30)),
        ("11-03 08:30", local(2026, 11, 3, 8, 30)),
        ("11/03", local(2026, 11, 3)),
        ("11-04 11:59", local(2026, 11, 4, 11, 59)),
        ("11-04 12:01", local(2025, 11, 4, 12, 1)),
        ("12-30 10:00", local(2025, 12, 30, 10)),
        ("1月5日", local(2026, 1, 5)),
        ("02-29", local(2024, 2, 29)),
        # Relative.
        ("刚刚", REF),
        ("刚才", REF),
        ("30秒前", REF - timedelta(seconds=30)),
        ("5分钟前", REF - timedelta(minutes=5)),
        ("5 分钟前", REF - timedelta(minutes=5)),
        ("十五分钟前", REF - timedelta(minutes=15)),
        ("二十五分钟前", REF - timedelta(minutes=25)),
        ("半小时前", REF - timedelta(minutes=30)),
        ("3小时前", REF - timedelta(hours=3)),
        ("三小时前", REF - timedelta(hours=3)),
        ("3个小时前", REF - timedelta(hours=3)),
        ("1天前", REF - timedelta(days=1)),
        ("两天前", REF - timedelta(days=2)),
        ("2周前", REF - timedelta(weeks=2)),
        ("一个星期前", REF - timedelta(weeks=1)),
        ("1个月前", REF - timedelta(days=30)),
        ("三个月前", REF - timedelta(days=90)),
        ("一百零五天前", REF - timedelta(days=105)),
        ("今天 08:00", local(2026, 11, 3, 8)),
        ("今天08:00", local(2026, 11, 3, 8)),
        ("昨天 12:30", local(2026, 11, 2, 12, 30)),
        ("昨天 下午1:30", local(2026, 11, 2, 13, 30)),
        ("前天 12:30", local(2026, 11, 1, 12, 30)),
        ("大前天 07:00", local(2026, 10, 31, 7)),
        ("昨天", local(2026, 11, 2)),
        ("今天", local(2026, 11, 3)),
        # Epoch seconds and milliseconds, as digit strings.
        ("1762128000", datetime(2025, 11, 3, tzinfo=UTC)),
        ("1762128000000", datetime(2025, 11, 3, tzinfo=UTC)),
        ("1762128000.5", datetime(2025, 11, 3, 0, 0, 0, 500000, tzinfo=UTC)),
        ("700000000", datetime(1992, 3, 7, 20, 26, 40, tzinfo=UTC)),
    ],
)
def test_written_forms(text: str, expected: datetime) -> None:
    result = parse_published(text, REF, SHANGHAI)
    assert result == expected
    assert result is not None and result.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1762128000, datetime(2025, 11, 3, tzinfo=UTC)),
        (1762128000123, datetime(2025, 11, 3, 0, 0, 0, 123000, tzinfo=UTC)),
        (1762128000.25, datetime(2025, 11, 3, 0, 0, 0, 250000, tzinfo=UTC)),
        (datetime(2026, 11, 3, 8, tzinfo=SHANGHAI), local(2026, 11, 3, 8)),
        (datetime(2026, 11, 3, 8), local(2026, 11, 3, 8)),
    ],
)
def test_numbers_and_datetimes(value: int | float | datetime, expected: datetime) -> None:
    result = parse_published(value, REF, SHANGHAI)
    assert result == expected
    assert result is not None and result.tzinfo is UTC


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n"])
def test_absent_is_none(value: str | None) -> None:
    assert parse_published(value, REF, SHANGHAI) is None


def test_relative_forms_use_the_given_zone() -> None:
    # 2026-11-02 20:00 UTC is already 11-03 in Shanghai, still 11-02 in New York.
    ref = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)
    assert parse_published("昨天 09:00", ref, SHANGHAI) == local(2026, 11, 2, 9)
    new_york = ZoneInfo("America/New_York")
    expected = datetime(2026, 11, 1, 9, tzinfo=new_york).astimezone(UTC)
    assert parse_published("昨天 09:00", ref, new_york) == expected


def test_year_inference_in_january() -> None:
    ref = datetime(2027, 1, 2, 4, tzinfo=UTC)
    assert parse_published("12-31 23:00", ref, SHANGHAI) == local(2026, 12, 31, 23)
    assert parse_published("01-03 08:00", ref, SHANGHAI) == local(2027, 1, 3, 8)


def test_naive_reference_is_read_in_the_zone() -> None:
    ref = datetime(2026, 11, 3, 12, 0)
    assert parse_published("1小时前", ref, SHANGHAI) == local(2026, 11, 3, 11)


def test_one_day_of_clock_skew_is_tolerated() -> None:
    assert parse_published("2026-11-04 12:00", REF, SHANGHAI) == local(2026, 11, 4, 12)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("不知道什么时候", "无法识别的发布时间：'不知道什么时候'"),
        ("2026-13-01", "日期不存在：'2026-13-01'"),
        ("2026年2月30日", "日期不存在"),
        ("2026-11-03 25:00", "时刻不存在"),
        ("昨天 24:30", "时刻不存在"),
        ("11-31", "日期不存在"),
        ("20261301", "日期不存在"),
        ("1989-12-31 23:59", "早于 1990 年：'1989-12-31 23:59'"),
        ("2026-11-04 12:00:01", "晚于发现时间一天以上"),
        ("2099-01-01", "晚于发现时间一天以上"),
        ("123", "无法识别的发布时间"),
        ("12345678901234567", "无法识别的发布时间"),
        ("99999999999999天前", "超出范围"),
        ("零天前x", "无法识别的发布时间"),
        ("Tue, 03 Foo 2026 08:00:00 +0800", "无法识别的发布时间"),
        ("just now", "无法识别的发布时间"),
        ("٢٠٢٦-١١-٠٣", "无法识别的发布时间"),
        (0, "早于 1990 年"),
        (-5, "早于 1990 年"),
        (10**30, "超出范围"),
        (float("nan"), "无法识别的发布时间"),
        (float("inf"), "无法识别的发布时间"),
        (True, "无法识别的发布时间"),
        (datetime(1970, 1, 1, tzinfo=UTC), "早于 1990 年"),
    ],
)
def test_bad_values_are_refused_in_words(value: str | float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_published(value, REF, SHANGHAI)


def test_error_message_cuts_long_values() -> None:
    with pytest.raises(ValueError) as caught:
        parse_published("x" * 5000, REF, SHANGHAI)
    assert len(str(caught.value)) < 120


# --- properties ------------------------------------------------------------------------

_MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 2), max_value=datetime(2026, 11, 3, 11, 59, 59)
).map(lambda naive: naive.replace(tzinfo=SHANGHAI))

_FORMATS = [
    ("%Y-%m-%d %H:%M:%S", timedelta(seconds=1)),
    ("%Y-%m-%dT%H:%M:%S%z", timedelta(seconds=1)),
    ("%Y/%m/%d %H:%M", timedelta(minutes=1)),
    ("%Y年%m月%d日 %H:%M", timedelta(minutes=1)),
    ("%Y年%m月%d日%H时%M分", timedelta(minutes=1)),
    ("%Y.%m.%d", timedelta(days=1)),
]


@given(_MOMENTS, st.sampled_from(_FORMATS))
def test_formatted_datetimes_round_trip(moment: datetime, form: tuple[str, timedelta]) -> None:
    pattern, precision = form
    truncated = _truncate(moment, precision)
    assert parse_published(moment.strftime(pattern), REF, SHANGHAI) == truncated.astimezone(UTC)


@given(_MOMENTS)
def test_iso_format_round_trips_exactly(moment: datetime) -> None:
    assert parse_published(moment.isoformat(), REF, SHANGHAI) == moment.astimezone(UTC)
    assert parse_published(moment, REF, SHANGHAI) == moment.astimezone(UTC)


@given(_MOMENTS)
def test_epoch_seconds_and_millis_round_trip(moment: datetime) -> None:
    seconds = int(moment.timestamp())
    expected = datetime.fromtimestamp(seconds, UTC)
    assert parse_published(seconds, REF, SHANGHAI) == expected
    assert parse_published(str(seconds), REF, SHANGHAI) == expected
    assert parse_published(seconds * 1000, REF, SHANGHAI) == expected
    assert parse_published(str(seconds * 1000), REF, SHANGHAI) == expected


@given(st.integers(min_value=0, max_value=3000), st.sampled_from(["分钟", "小时", "天"]))
def test_relative_forms_round_trip(amount: int, unit: str) -> None:
    step = {"分钟": timedelta(minutes=1), "小时": timedelta(hours=1), "天": timedelta(days=1)}
    assert parse_published(f"{amount}{unit}前", REF, SHANGHAI) == REF - amount * step[unit]


@given(st.text(max_size=30))
def test_any_text_parses_or_fails_in_words(text: str) -> None:
    try:
        result = parse_published(text, REF, SHANGHAI)
    except ValueError as exc:
        assert "发布时间" in str(exc)
    else:
        assert result is None or (result.tzinfo is UTC and result <= REF + timedelta(days=1))


def _truncate(moment: datetime, precision: timedelta) -> datetime:
    if precision == timedelta(days=1):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision == timedelta(minutes=1):
        return moment.replace(second=0, microsecond=0)
    return moment.replace(microsecond=0)
