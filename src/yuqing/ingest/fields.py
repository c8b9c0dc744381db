"""One imported record (a JSON object, a CSV or XLSX row) → a validated RawItem.

Exports of crawlers and commercial monitoring tools name their columns in English or Chinese
and write counts as "1.2万" or "10w+"; this module accepts those and rejects everything else
with an error that names the field and the bad value.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import TypeVar

from yuqing.domain import MediaTier, Metrics, Platform, RawItem
from yuqing.errors import InputError

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset equals Asia/Shanghai.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

METRIC_FIELDS = tuple(f.name for f in dataclasses.fields(Metrics))  # views, reposts, …
_METRIC_SET = frozenset(METRIC_FIELDS)

# Every accepted column name (compared stripped and lower-cased) → the field it fills.
FIELD_ALIASES: dict[str, str] = {
    "id": "id",
    "external_id": "id",
    "title": "title",
    "标题": "title",
    "content": "content",
    "正文": "content",
    "内容": "content",
    "url": "url",
    "链接": "url",
    "网址": "url",
    "原文链接": "url",
    "author": "author",
    "作者": "author",
    "发布者": "author",
    "platform": "platform",
    "平台": "platform",
    "来源类型": "platform",
    "media_tier": "media_tier",
    "媒体级别": "media_tier",
    "region": "region",
    "地区": "region",
    "地域": "region",
    "published_at": "published_at",
    "published": "published_at",
    "发布时间": "published_at",
    "discovered_at": "discovered_at",
    "metrics": "metrics",
    "views": "views",
    "阅读量": "views",
    "浏览量": "views",
    "reposts": "reposts",
    "转发量": "reposts",
    "转发数": "reposts",
    "comments": "comments",
    "评论量": "comments",
    "评论数": "comments",
    "likes": "likes",
    "点赞量": "likes",
    "点赞数": "likes",
}

PLATFORM_NAMES: dict[str, Platform] = {
    **{p.value: p for p in Platform},
    "新闻": Platform.NEWS,
    "论坛": Platform.FORUM,
    "贴吧": Platform.TIEBA,
    "博客": Platform.BLOG,
    "微博": Platform.WEIBO,
    "微信": Platform.WECHAT,
    "公众号": Platform.WECHAT,
    "微信公众号": Platform.WECHAT,
    "视频": Platform.VIDEO,
    "短视频": Platform.VIDEO,
    "投诉": Platform.COMPLAINT,
    "投诉平台": Platform.COMPLAINT,
    "12345": Platform.COMPLAINT,
    "报刊": Platform.PRINT,
    "报纸": Platform.PRINT,
    "广播": Platform.BROADCAST,
    "电视": Platform.BROADCAST,
    "广播电视": Platform.BROADCAST,
    "其他": Platform.OTHER,
}

MEDIA_TIER_NAMES: dict[str, MediaTier] = {
    **{t.value: t for t in MediaTier},
    "中央媒体": MediaTier.NATIONAL,
    "央媒": MediaTier.NATIONAL,
    "境外媒体": MediaTier.FOREIGN,
    "门户网站": MediaTier.PORTAL,
    "省级媒体": MediaTier.PROVINCIAL,
    "地方媒体": MediaTier.LOCAL,
    "热门论坛": MediaTier.POPULAR_FORUM,
    "自媒体": MediaTier.SELF_MEDIA,
    "其他": MediaTier.OTHER,
}

# Longest accepted value per text field; content's limit is a parameter.
FIELD_LIMITS: dict[str, int] = {
    "title": 1_000,
    "url": 4_096,
    "author": 200,
    "region": 100,
    "id": 200,
    "published_at": 200,
    "discovered_at": 100,
}

_HTML = re.compile(r"<(?:p|div|br|span|a|img|script|style|table|li|h[1-6])\b", re.IGNORECASE)
_COUNT = re.compile(r"(\d+)(?:\.(\d+))?([万wW亿千kK]?)\+?", re.ASCII)
# Full-width digits and signs → ASCII; thousands separators and spaces dropped.
_COUNT_FOLD = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)}
    | {"．": ".", "＋": "+", "ｗ": "w", "Ｗ": "W", "ｋ": "k", "Ｋ": "K"}
    | dict.fromkeys([",", "，", " ", "\u3000", "_"])
)
_UNITS = {"": 1, "万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "千": 1000}
_UNITS |= {"k": 1000, "K": 1000}
_MAX_COUNT = 2**63 - 1  # what a database BIGINT holds
_E = TypeVar("_E", Platform, MediaTier)
_TYPE_NAMES = {bool: "布尔值", list: "数组", dict: "对象", float: "数字", int: "数字"}


def record_to_raw(record: Mapping[str, object], where: str, *, max_field_chars: int) -> RawItem:
    """Validate one record and build a RawItem; raise InputError(where, reason) on the first fault.

    Column names go through FIELD_ALIASES; unknown columns are ignored; an empty value counts
    as absent. `published_at` is kept as written for the normalize stage.
    """
    fields: dict[str, object] = {}
    for key, value in record.items():
        name = FIELD_ALIASES.get(key)
        if name is None and isinstance(key, str):
            name = FIELD_ALIASES.get(key.strip().lower())
        if name is None or value is None or value == "" or name in fields:
            continue
        fields[name] = value
    try:
        return _build(fields, where, max_field_chars)
    except _FieldError as exc:
        raise InputError(where, str(exc)) from None


class _FieldError(ValueError):
    """A field's value is unusable; the message names field and value."""


def _build(fields: dict[str, object], where: str, max_field_chars: int) -> RawItem:
    content = fields.get("content")
    if content is None:
        raise _FieldError("缺少字段 content（正文）")
    content = _text(content, "content", max_field_chars)
    if not content or content.isspace():
        raise _FieldError("字段 content（正文）为空")
    get = fields.get
    return RawItem(
        content=content,
        title=_short("title", get("title")) or "",
        url=_short("url", get("url")),
        author=_short("author", get("author")),
        platform=_choice("platform", get("platform"), PLATFORM_NAMES, Platform.OTHER),
        media_tier=_choice("media_tier", get("media_tier"), MEDIA_TIER_NAMES, MediaTier.OTHER),
        region=_short("region", get("region")),
        published=_published(get("published_at")),
        discovered_at=_discovered(get("discovered_at")),
        metrics=_metrics(fields),
        external_id=_short("id", get("id")),
        origin=where,
        is_html=_HTML.search(content) is not None,
    )


def _text(value: object, name: str, limit: int) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # Spreadsheets and JSON exporters turn numeric-looking text (ids, titles) into numbers.
        text = _number_text(value, name)
    else:
        kind = _TYPE_NAMES.get(type(value), type(value).__name__)
        raise _FieldError(f"字段 {name} 应为字符串，实际为{kind} {_show(value)}")
    if len(text) > limit:
        raise _FieldError(f"字段 {name} 长 {len(text):,} 字符，超过上限 {limit:,} 字符")
    return text


def _short(name: str, value: object) -> str | None:
    if value is None:
        return None
    if type(value) is str and len(value) <= FIELD_LIMITS[name]:
        return value.strip() or None
    return _text(value, name, FIELD_LIMITS[name]).strip() or None


def _number_text(value: int | float, name: str) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _FieldError(f"字段 {name} 的值 {_show(value)} 无效")
        if value.is_integer():
            return str(int(value))
    return str(value)


def _choice(name: str, value: object, names: Mapping[str, _E], default: _E) -> _E:
    if value is None:
        return default
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _FieldError(f"字段 {name} 应为字符串，实际为 {_show(value)}")
    key = str(value).strip()
    if not key:
        return default
    found = names.get(key) or names.get(key.lower())
    if found is None:
        codes = ", ".join(k for k in names if k.isascii() and not k.isdigit())
        raise _FieldError(f"字段 {name} 的值 {_show(value)} 无效，可选：{codes}（或中文名称）")
    return found


def _published(value: object) -> str | datetime | None:
    if value is None or isinstance(value, str):
        return _short("published_at", value)
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), CHINA_TZ)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value, "published_at")  # epoch seconds or ms: normalize decides
    raise _FieldError(f"字段 published_at 应为字符串或数字，实际为 {_show(value)}")


def _discovered(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, str) and not value.strip():
        return None
    text = _short("discovered_at", value) if isinstance(value, str) else None
    if text is None:
        raise _FieldError(f"字段 discovered_at 应为 ISO 8601 时间字符串，实际为 {_show(value)}")
    try:
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        raise _FieldError(
            f"字段 discovered_at 的值 {_show(value)} 不是 ISO 8601 时间"
            "（如 2026-11-03T08:00:00+08:00）"
        ) from None


def _aware(moment: datetime) -> datetime:
    """Naive times in Chinese exports are Beijing time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TZ)


def _metrics(fields: dict[str, object]) -> Metrics:
    """Counters from a `metrics` object, completed by flat columns (views, 阅读量, …)."""
    nested = fields.get("metrics")
    if nested is None:
        nested = {}
    elif not isinstance(nested, dict):
        raise _FieldError(f"字段 metrics 应为对象，实际为 {_show(nested)}")
    elif not nested.keys() <= _METRIC_SET:
        nested = {
            name: value
            for key, value in nested.items()
            if (name := FIELD_ALIASES.get(str(key).strip().lower())) in _METRIC_SET
        }
    values: list[int | None] = []
    for name in METRIC_FIELDS:
        value = nested.get(name)
        if value is None or value == "":
            value = fields.get(name)
        if value is None or (type(value) is int and 0 <= value <= _MAX_COUNT):
            values.append(value)
        else:
            values.append(_count(name, value))
    return Metrics(*values)


def parse_count(value: object) -> int:
    """A spread counter as exports write it: 1234, 1234.0, "1,234", "1.2万", "3亿", "10w+".

    Raises ValueError for negative, fractional or unreadable values.
    """
    if type(value) is int:
        number = value
    elif type(value) is str and value.isdigit() and value.isascii():
        number = int(value)
    else:
        number = _parse_count_slowly(value)
    if 0 <= number <= _MAX_COUNT:
        return number
    raise ValueError(value)


def _parse_count_slowly(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():  # also NaN and infinities
            raise ValueError(value)
        return int(value)
    if not isinstance(value, str):
        raise ValueError(value)
    match = _COUNT.fullmatch(value.translate(_COUNT_FOLD))
    if match is None:
        raise ValueError(value)
    whole, fraction, unit = match.groups()
    scale = _UNITS[unit]
    number = int(whole) * scale
    if fraction:
        if not unit and fraction.strip("0"):
            raise ValueError(value)
        # Integer arithmetic, so "1.2万" is exactly 12000; "1.23456万" rounds to 12346.
        quotient, remainder = divmod(int(fraction) * scale, 10 ** len(fraction))
        number += quotient + (2 * remainder >= 10 ** len(fraction))
    return number


def _count(name: str, value: object) -> int:
    try:
        return parse_count(value)
    except ValueError:
        raise _FieldError(
            f"字段 {name} 的值 {_show(value)} 无效：应为非负整数（可写 1,234、1.2万、10万+）"
        ) from None


def _show(value: object, limit: int = 40) -> str:
    """The bad value as the user wrote it, cut short so a huge field does not flood the log."""
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return text
