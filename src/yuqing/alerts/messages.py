"""Alert messages: composed in Chinese from an item, rendered safely for each kind of channel.

A message is a one-line title and a body of lines "标签：值". Crawled text is hostile: every
value is put on one line (so it cannot start a line of its own), and each renderer neutralizes
what its receiver would interpret — markdown syntax for the robots, `<at>` tags for Feishu,
HTML for email. Only lines whose label is one of `LINK_LABELS` and whose value is an http(s)
address become links.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from yuqing.errors import ConfigError
from yuqing.standard import Standard
from yuqing.store.alerts import ItemFacts

LINK_LABELS = ("原文链接", "查看详情", "事件详情", "案件详情", "链接")
"""Labels of the lines whose value is an address to link."""
TITLE_CHARS = 60
"""Longest item title in an alert title; longer ones end in "…"."""
SUMMARY_CHARS = 120
VALUE_CHARS = 500
REASONS_SHOWN = 3
SEPARATOR = "："

_MARKDOWN = str.maketrans(
    {
        "\\": "＼",
        "`": "｀",
        "*": "＊",
        "_": "＿",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "#": "＃",
        "|": "｜",
        "~": "～",
        "!": "！",
        "=": "＝",
        "@": "＠",
        "$": "＄",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_URL_SAFE = "-._~:/?#@!$&'*+,;=%"
_BULLET = re.compile(r"^(\s*)([-+])")
_NUMBERED = re.compile(r"^(\s*\d+)\.")


def one_line(text: str | None, max_chars: int = VALUE_CHARS) -> str:
    """`text` as one line: whitespace runs (line breaks too) become one space; cut with "…"."""
    flat = " ".join(_CONTROL.sub(" ", text or "").split())
    return flat if len(flat) <= max_chars else flat[: max_chars - 1] + "…"


def line(label: str, value: str | None) -> str:
    """One body line; the value is flattened so crawled text cannot open a line of its own."""
    return f"{label}{SEPARATOR}{one_line(value)}"


def neutralize_markdown(text: str) -> str:
    """Markdown syntax in `text` replaced by look-alike full-width characters.

    Robots render markdown: a crawled "[点此](http://…)", "**", "<font>", a leading "#" or a
    bare address would otherwise become links, emphasis, colours or headings in the office's
    group chat.
    """
    # "://" loses its colon so a crawled address is not auto-linked: only our links link.
    out = text.translate(_MARKDOWN).replace("://", "：//")
    # A list marker at the start of a line stays text: "- " → "－ ", "1. " → "1． ".
    out = _BULLET.sub(lambda m: m.group(1) + ("－" if m.group(2) == "-" else "＋"), out)
    return _NUMBERED.sub(lambda m: m.group(1) + "．", out)


def link_target(value: str) -> str | None:
    """An http(s) address made safe inside markdown or an HTML attribute; None otherwise."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in value:
        return None
    return quote(value, safe=_URL_SAFE)


def _link(text_line: str) -> tuple[str, str] | None:
    label, sep, value = text_line.partition(SEPARATOR)
    if not sep or label not in LINK_LABELS:
        return None
    target = link_target(value)
    return (label, target) if target else None


def markdown_lines(body: str) -> list[str]:
    """The body as markdown lines for the WeCom and DingTalk robots."""
    lines = []
    for text_line in body.split("\n"):
        link = _link(text_line)
        if link is not None:
            lines.append(f"[{link[0]}]({link[1]})")
        else:
            lines.append(neutralize_markdown(text_line))
    return lines


def markdown_title(title: str) -> str:
    return f"**{neutralize_markdown(one_line(title, 200))}**"


def plain_text(text: str) -> str:
    """Text for Feishu's text messages, whose `<at user_id="all">` tags must not come through."""
    return text.replace("<", "＜").replace(">", "＞")


def html_document(title: str, body: str) -> str:
    """The HTML alternative of an alert email: every value escaped, only our links linked."""
    rows = []
    for text_line in body.split("\n"):
        link = _link(text_line)
        if link is not None:
            href = html.escape(link[1], quote=True)
            rows.append(f'<p><a href="{href}">{html.escape(link[0])}</a></p>')
        else:
            rows.append(f"<p>{html.escape(text_line)}</p>" if text_line else "<br>")
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(one_line(title, 200))}</title></head>"
        '<body style="font-family:sans-serif;line-height:1.6">'
        f"<h2>{html.escape(one_line(title, 200))}</h2>{''.join(rows)}</body></html>"
    )


def local_time(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _evidence(evidence: dict[str, Any]) -> str:
    names = {"views": "浏览", "reposts": "转发", "comments": "评论", "likes": "点赞"}
    shown: list[str] = []
    for key, value in evidence.items():
        if key in names and isinstance(value, int):
            shown.append(f"{names[key]} {value}")
        elif key != "subjects" and isinstance(value, list):
            shown.extend(str(v) for v in value if isinstance(v, str))
        elif isinstance(value, dict):
            for terms in value.values():
                if isinstance(terms, list):
                    shown.extend(str(t) for t in terms if isinstance(t, str))
    unique = list(dict.fromkeys(shown))[:6]
    return f"（{'、'.join(unique)}）" if unique else ""


def reason_lines(reasons: Sequence[dict[str, Any]]) -> list[str]:
    """The main grading reasons as "· 文字（证据）" lines, without the fallback rule."""
    lines = []
    for reason in reasons:
        if reason.get("rule") == "default" or not reason.get("text"):
            continue
        evidence = reason.get("evidence")
        extra = _evidence(evidence) if isinstance(evidence, dict) else ""
        lines.append("· " + one_line(f"{reason['text']}{extra}", 200))
        if len(lines) == REASONS_SHOWN:
            break
    return lines


def _category(standard: Standard, code: str | None) -> str:
    if not code:
        return "—"
    try:
        return f"{code} {standard.category_name(code)}"
    except ConfigError:
        return code


def _grade(standard: Standard, code: str) -> str:
    try:
        return standard.grade_name(code)
    except ConfigError:
        return code  # a grade of an earlier standard: show it as it is


def _platform(standard: Standard, code: str) -> str:
    try:
        return standard.platform_name(code)
    except ConfigError:
        return code


def item_alert(
    standard: Standard,
    facts: ItemFacts,
    *,
    grade: str,
    previous: str | None,
    reasons: Sequence[dict[str, Any]],
    override: tuple[str | None, str | None] | None,
    public_url: str,
    timezone: str,
) -> tuple[str, str]:
    """(title, body) of an alert about an item: new when `previous` is None, else escalated
    from `previous` (the grade alerted before). `reasons` are the grading reasons to show;
    `override` is (who, note) of a monitor's grade."""
    grade_name = _grade(standard, grade)
    subject = one_line(facts.title) or one_line(facts.content)
    flag = "【升级】" if previous else ""
    title = f"{flag}【{grade_name}】舆情预警：{one_line(subject, TITLE_CHARS)}"
    level = grade_name if not previous else f"{grade_name}（由{_grade(standard, previous)}升级）"
    source = _platform(standard, facts.platform)
    if facts.source_name:
        source += f" / {one_line(facts.source_name, 100)}"
    lines = [
        line("等级", level),
        line("分类", _category(standard, facts.category)),
        line("平台/来源", source),
        line("发布时间", local_time(facts.published_at or facts.discovered_at, timezone)),
        line("匹配主题", "、".join(facts.subject_names) or "—"),
        line("摘要", one_line(facts.content, SUMMARY_CHARS)),
    ]
    shown = reason_lines(reasons)
    if override is not None:
        who, note = override
        lines.append(line("人工研判", f"{who or '监测员'}：{note or '（无说明）'}"))
    if shown:
        lines.append("研判依据：")
        lines.extend(shown)
    if facts.event_id is not None:
        count = f"（共 {facts.event_items} 条，{facts.event_sites} 个站点）"
        lines.append(line("所属事件", f"{one_line(facts.event_title, 100)}{count}"))
    if facts.url:
        lines.append(line("原文链接", facts.url))
    base = public_url.rstrip("/")
    lines.append(line("查看详情", f"{base}/items/{facts.id}"))
    if facts.event_id is not None:
        lines.append(line("事件详情", f"{base}/events/{facts.event_id}"))
    return title, "\n".join(lines)


def channel_test_message(
    channel_name: str, public_url: str, now: datetime, timezone: str
) -> tuple[str, str]:
    """(title, body) of the message `yuqing alerts channel test` sends."""
    body = "\n".join(
        [
            "这是一条测试消息：收到即说明本通道配置正确。",
            line("通道", channel_name),
            line("发送时间", local_time(now, timezone)),
            line("查看详情", public_url.rstrip("/") + "/"),
        ]
    )
    return "【测试】舆情预警通道测试", body
