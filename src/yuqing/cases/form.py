"""The report form (舆情信息报告处理单, SPEC 2.6) as a view model of strings ready to print.

The case service fills a `CaseForm` from a case and its timeline; the DOCX (and later PDF, HTML)
renderers only lay it out. Every field is plain text: renderers escape or sanitise it, since
much of it (topic, URL, source) is crawled and hostile.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from yuqing.cases.deadlines import StepStatus

TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(kw_only=True, slots=True)
class CaseForm:
    """Every field of the printed form; "" (or an empty list) where the case has nothing yet."""

    number: str = ""  # 编号
    unit_name: str = ""  # 填报单位
    state_name: str = ""  # 当前状态
    source_name: str = ""  # 舆情来源
    captured_by: str = ""  # 下载人
    captured_at: str = ""  # 下载时间
    copies: str = ""  # 份数
    url: str = ""  # 下载地址
    topic: str = ""  # 舆情主题
    grade_name: str = ""  # 舆情等级
    category_name: str = ""  # 舆情分类
    attachments: list[str] = field(default_factory=list)  # 附件 (file names)
    reporting_opinion: str = ""  # 上报意见
    instruction: str = ""  # 领导批示
    instruction_by: str = ""  # 签批人
    instruction_at: str = ""  # 签批时间
    handling_opinion: str = ""  # 主办意见
    implementation: str = ""  # 落实情况
    measures: list[str] = field(default_factory=list)  # 处置措施 (names)
    result_name: str = ""  # 处理结果
    discovered_at: str = ""  # 发现时间
    reported_at: str = ""  # 上报时间
    closed_at: str = ""  # 办结时间
    steps: list[tuple[str, str, str]] = field(default_factory=list)  # (时限, 截止, 状态)
    timeline: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # (时间, 人, 操作, 说明)
    printed_at: str = ""  # 打印时间


def format_time(value: datetime | None, tz: ZoneInfo) -> str:
    """An aware datetime as office-local "2026-05-06 14:30"; "" for None."""
    if value is None:
        return ""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} cannot be shown in {tz.key}")
    return value.astimezone(tz).strftime(TIME_FORMAT)


def step_rows(steps: Iterable[StepStatus], tz: ZoneInfo) -> list[tuple[str, str, str]]:
    """Deadline steps as (name, due time, state in words) rows of the form."""
    rows = []
    for step in steps:
        if step.due_at is not None:
            due = format_time(step.due_at, tz)
        else:
            due = "无法计算" if step.state == "unknown" else "无固定时限"
        state = step.remaining_text()
        if step.met_at is not None:
            state = f"{state}（{format_time(step.met_at, tz)}）"
        rows.append((step.name, due, state))
    return rows
