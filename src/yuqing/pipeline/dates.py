"""Publish times as Chinese sites write them, turned into aware UTC datetimes.

Sources write "2026-11-03T08:00:00+08:00", "2026年11月3日 08:30", "11-03 08:30", "3小时前",
"昨天 12:30", an RSS "Tue, 03 Nov 2026 08:00:00 +0800" or an epoch number.
`parse_published` reads them all against the moment the item was discovered, in the
organization's time zone. Hand-written regexes instead of dateparser: it is far slower
and its guesses are hard to bound.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
# Epoch values at or above this are milliseconds: as seconds they would be past year 5000,
# as milliseconds anything below it is before 1974, so the cut never misreads a valid date.
_MILLIS_FROM = 100_000_000_000

_TIME = (
    r"(?:(?P<ap>上午|下午|早上|晚上|凌晨|中午|AM|PM|am|pm)\s*)?"
    r"(?P<H>\d{1,2})\s*(?:[:时点點])\s*(?P<M>\d{1,2})"
    r"(?:\s*(?:[:分])\s*(?P<S>\d{1,2})(?:\.(?P<F>\d{1,6}))?)?\s*[分秒]?"
)
_WEEKDAY = r"(?:\s*(?:星期|周|礼拜)[一二三四五六日天])?"
_TAIL = rf"{_WEEKDAY}\s*(?:[T,，]\s*)?(?:{_TIME})?\s*$"
# re.ASCII: \d is 0-9 only (NFKC has already folded full-width digits), so int() sees ASCII.
_FULL_DATE = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<mo>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?" + _TAIL,
    re.ASCII,
)
_YEARLESS_DATE = re.compile(
    r"^(?P<mo>\d{1,2})\s*(?:[-/]|月)\s*(?P<d>\d{1,2})\s*日?" + _TAIL, re.ASCII
)
_DAY_WORD = re.compile(rf"^(?P<day>今天|今日|昨天|昨日|前天|大前天)\s*(?:{_TIME})?\s*$", re.ASCII)
_AGO = re.compile(
    r"^(?P<n>\d+|[零〇一二两三四五六七八九十百]+|半)\s*个?\s*"
    r"(?P<unit>秒钟|秒|分钟|分|小时|钟头|天|日|周|星期|礼拜|月|年)\s*(?:之?前)$",
    re.ASCII,
)
_DIGITS = re.compile(r"^\d+(?:\.\d+)?$", re.ASCII)
# RSS pubDate (RFC 822/2822): "Tue, 03 Nov 2026 08:00:00 +0800", "3 Nov 2026 08:00 GMT".
_RFC_2822 = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s", re.ASCII)

_DAYS_BACK = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2, "大前天": 3}
_JUST_NOW = frozenset({"刚刚", "刚才"})
_UNIT_SECONDS = {
    "秒钟": 1,
    "秒": 1,
    "分钟": 60,
    "分": 60,
    "小时": 3600,
    "钟头": 3600,
    "天": 86400,
    "日": 86400,
    "周": 7 * 86400,
    "星期": 7 * 86400,
    "礼拜": 7 * 86400,
    "月": 30 * 86400,
    "年": 365 * 86400,
}
_CN_DIGITS = dict(
    zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)
)


def parse_published(
    value: str | int | float | datetime | None, reference: datetime, tz: ZoneInfo
) -> datetime | None:
    """Read a publish time into an aware UTC datetime; None when absent; ValueError if bad.

    Relative and year-less forms are resolved against `reference` (the discovery time) in
    `tz`; naive values are local to `tz`. Times before 1990 or more than a day after
    `reference` are refused: they are parse accidents, and would distort every timeline.
    """
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=tz)
    if value is None:
        return None
    if isinstance(value, datetime):
        result = value if value.tzinfo is not None else value.replace(tzinfo=tz)
    elif isinstance(value, bool):
        raise ValueError(f"无法识别的发布时间：{value!r}")
    elif isinstance(value, int | float):
        result = _from_epoch(value, value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        result = _parse_text(text, value, reference, tz)
    else:
        raise ValueError(f"无法识别的发布时间：{_shown(value)}")
    result = result.astimezone(UTC)
    if result < EARLIEST:
        raise ValueError(f"发布时间早于 1990 年：{_shown(value)}")
    if result > reference + FUTURE_SLACK:
        raise ValueError(f"发布时间晚于发现时间一天以上：{_shown(value)}")
    return result


def _parse_text(text: str, value: object, reference: datetime, tz: ZoneInfo) -> datetime:
    """Try each written form, cheapest and commonest first."""
    if not text.isascii():
        # Full-width digits and colons ("２０２６年", "08：30") are common in Chinese pages.
        text = unicodedata.normalize("NFKC", text)
    if _DIGITS.match(text):
        return _from_digits(text, value, tz)
    if text[:4].isdigit() and text[4:5] == "-":
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
    if _RFC_2822.match(text):
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise ValueError(f"无法识别的发布时间：{_shown(value)}") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
    local_ref = reference.astimezone(tz)
    match = _FULL_DATE.match(text)
    if match:
        year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
        return _build(year, month, day, match, value, tz)
    match = _YEARLESS_DATE.match(text)
    if match:
        return _yearless(int(match["mo"]), int(match["d"]), match, value, local_ref, tz)
    match = _AGO.match(text)
    if match:
        seconds = _amount(match["n"], value) * _UNIT_SECONDS[match["unit"]]
        try:
            return reference - timedelta(seconds=seconds)
        except OverflowError:
            raise ValueError(f"发布时间超出范围：{_shown(value)}") from None
    match = _DAY_WORD.match(text)
    if match:
        on = local_ref.date() - timedelta(days=_DAYS_BACK[match["day"]])
        return _build(on.year, on.month, on.day, match, value, tz)
    if text in _JUST_NOW:
        return reference
    raise ValueError(f"无法识别的发布时间：{_shown(value)}")


def _build(
    year: int, month: int, day: int, match: re.Match[str], value: object, tz: ZoneInfo
) -> datetime:
    """Date parts plus the optional time groups of `_TIME` as an aware local datetime."""
    clock = _clock(match, value)
    try:
        return datetime.combine(date(year, month, day), clock, tzinfo=tz)
    except ValueError:
        raise ValueError(f"发布时间的日期不存在：{_shown(value)}") from None


def _clock(match: re.Match[str], value: object) -> time:
    """The time of day in a match; midnight when the text gives only a date."""
    if match["H"] is None:
        return time()
    hour, minute = int(match["H"]), int(match["M"])
    second = int(match["S"]) if match["S"] else 0
    micro = int(match["F"].ljust(6, "0")) if match["F"] else 0
    marker = match["ap"]
    if (marker in ("下午", "晚上", "PM", "pm") and hour < 12) or (marker == "中午" and hour < 11):
        hour += 12
    elif marker in ("凌晨", "上午", "早上", "AM", "am") and hour == 12:
        hour = 0
    try:
        return time(hour, minute, second, micro)
    except ValueError:
        raise ValueError(f"发布时间的时刻不存在：{_shown(value)}") from None


def _yearless(
    month: int, day: int, match: re.Match[str], value: object, local_ref: datetime, tz: ZoneInfo
) -> datetime:
    """The latest year in which month-day (and time) is not after reference + 1 day.

    Why: lists show "11-03 08:30" for this year's posts; in January, "12-30" is last year's.
    Feb 29 walks back to the last leap year.
    """
    limit = local_ref + FUTURE_SLACK
    clock = _clock(match, value)
    for year in range(limit.year, limit.year - 9, -1):
        try:
            candidate = datetime.combine(date(year, month, day), clock, tzinfo=tz)
        except ValueError:
            if month == 2 and day == 29:
                continue
            raise ValueError(f"发布时间的日期不存在：{_shown(value)}") from None
        if candidate <= limit:
            return candidate
    raise ValueError(f"发布时间的日期不存在：{_shown(value)}")


def _from_digits(text: str, value: object, tz: ZoneInfo) -> datetime:
    """Digit strings: compact YYYYMMDD / YYYYMMDDhhmmss (local), 9–13 digits epoch s or ms."""
    whole = text.partition(".")[0]
    if len(text) == 8:
        try:
            return datetime.strptime(text, "%Y%m%d").replace(tzinfo=tz)
        except ValueError:
            raise ValueError(f"发布时间的日期不存在：{_shown(value)}") from None
    if len(text) == 14:
        try:
            return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=tz)
        except ValueError:
            raise ValueError(f"发布时间的日期不存在：{_shown(value)}") from None
    if not 9 <= len(whole) <= 13:
        raise ValueError(f"无法识别的发布时间：{_shown(value)}")
    return _from_epoch(float(text) if "." in text else int(text), value)


def _from_epoch(number: int | float, value: object) -> datetime:
    """Epoch seconds, or milliseconds when the number is too big to be seconds."""
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"无法识别的发布时间：{_shown(value)}")
    seconds = number / 1000 if abs(number) >= _MILLIS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"发布时间超出范围：{_shown(value)}") from None


def _amount(numeral: str, value: object) -> float:
    """How many units: Arabic digits, Chinese numerals up to 999 ("十五", "两", "一百零五"), 半."""
    if numeral.isdigit():
        return int(numeral)
    if numeral == "半":
        return 0.5
    total, current = 0, 0
    for char in numeral:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[char] if current else _CN_DIGITS[char]
    total += current
    if total == 0 and numeral not in ("零", "〇"):
        raise ValueError(f"无法识别的发布时间：{_shown(value)}")
    return total


def _shown(value: object, limit: int = 80) -> str:
    """The value as it appears in a message, cut so one bad record cannot flood the log."""
    text = value if isinstance(value, str) else str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")
