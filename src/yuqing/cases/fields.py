"""The report form's fields: their Chinese labels and how a submitted value is checked.

Values come from forms (strings), JSON bodies and the CLI alike; `coerce` turns each into
the stored type or raises InputError naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from yuqing.errors import ConfigError, InputError

if TYPE_CHECKING:
    from yuqing.cases.service import CaseService

FIELD_LABELS: dict[str, str] = {
    "topic": "舆情主题",
    "source_name": "舆情来源",
    "captured_by": "下载人",
    "captured_at": "下载时间",
    "copies": "份数",
    "url": "下载地址",
    "illegal_or_false": "内容违法或虚假",
    "category": "舆情分类",
    "grade": "舆情等级",
    "reporting_opinion": "上报意见",
    "instruction": "领导批示",
    "handling_opinion": "主办意见",
    "implementation": "落实情况",
    "measures": "处置措施",
    "result": "处理结果",
    "result_note": "处理结果说明",
    "note": "说明",
}
_SHORT = {"topic": 500, "source_name": 200, "captured_by": 100}
_LONG = 5000
_TRUE = {"1", "true", "on", "yes", "是"}
_FALSE = {"", "0", "false", "off", "no", "否"}


def _text(name: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(name, f"「{FIELD_LABELS[name]}」须为文字")
    text = "".join(c for c in value if c.isprintable() or c in "\n\t").strip()
    if len(text) > limit:
        raise InputError(name, f"「{FIELD_LABELS[name]}」过长（{len(text)} 字，最多 {limit}）")
    return text or None


def coerce(name: str, value: Any, service: CaseService) -> Any:
    """The stored value of field `name`, or InputError naming it."""
    label = FIELD_LABELS.get(name, name)
    if name in _SHORT:
        return _text(name, value, _SHORT[name])
    if name in (
        "reporting_opinion",
        "instruction",
        "handling_opinion",
        "implementation",
        "result_note",
        "note",
    ):
        return _text(name, value, _LONG)
    if name == "copies":
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise InputError(name, f"「{label}」须为整数") from None
        if not 1 <= number <= 1000:
            raise InputError(name, f"「{label}」须在 1 到 1000 之间")
        return number
    if name == "illegal_or_false":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise InputError(name, f"「{label}」须为是或否")
    if name == "captured_at":
        return _time(name, value, service)
    if name == "url":
        url = _text("topic", value, 2000) if value else None
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise InputError(name, f"「{label}」须为 http(s) 网址，或留空（线下所见）")
        return url
    if name == "grade":
        codes = [g.code.value for g in service.standard.grades]
        if value not in codes:
            raise InputError(name, f"等级 {str(value)[:40]!r} 无效，可选：{'、'.join(codes)}")
        return value
    if name == "category":
        if value in (None, ""):
            return None
        try:
            service.standard.category(str(value))
        except ConfigError:
            raise InputError(name, f"分类代码 {str(value)[:40]!r} 不在分类体系中") from None
        return str(value)
    if name == "result":
        codes = [r.code for r in service.workflow.results]
        if value not in codes:
            raise InputError(name, f"处理结果 {str(value)[:40]!r} 无效，可选：{'、'.join(codes)}")
        return value
    if name == "measures":
        return _measures(value, service)
    raise InputError(name, f"未知的字段：{name[:40]}")


def _time(name: str, value: Any, service: CaseService) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise InputError(
                name, f"「{FIELD_LABELS[name]}」须为日期时间，如 2026-11-21 09:30"
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=service.tz)
    return parsed


def _measures(value: Any, service: CaseService) -> list[str]:
    if value in (None, ""):
        return []
    codes = value.split(",") if isinstance(value, str) else value
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        raise InputError("measures", "「处置措施」须为措施代码的列表")
    out: list[str] = []
    for code in (c.strip() for c in codes):
        if not code or code in out:
            continue
        try:
            service.standard.measure(code)
        except ConfigError:
            raise InputError("measures", f"处置措施 {code[:40]!r} 不存在") from None
        out.append(code)
    return out
