"""Pydantic models of the standard's YAML files (SPEC 2); one `*File` model per file.

Every model forbids unknown fields and is frozen, so a typo in an organization's edited copy
fails loudly and the cached standard cannot be changed by a caller. Validation messages are
Chinese: they reach the admin who edited the file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from yuqing.domain.enums import GradeCode, MediaTier, Platform, UnitLevel

_SNAKE = r"^[a-z][a-z0-9_]*$"
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

Keywords = tuple[str, ...]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _duplicates(values: Iterable[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]


def _check_unique(values: Iterable[str], what: str) -> None:
    dups = _duplicates(values)
    if dups:
        raise ValueError(f"{what}重复：{'、'.join(dups)}")


def _check_keywords(keywords: Keywords) -> Keywords:
    if any(not keyword for keyword in keywords):
        raise ValueError("关键词不能为空字符串")
    _check_unique(keywords, "关键词")
    return keywords


class Grade(_Model):
    """One of the five grades of SPEC 2.1."""

    code: GradeCode
    name: str = Field(min_length=1)
    rank: int = Field(ge=0, le=4, description="0 is best (positive), 4 worst (dangerous).")
    negative: bool
    meaning: str = Field(min_length=1)
    signals: tuple[str, ...] = ()


class GradesFile(_Model):
    """grades.yaml: exactly the five GradeCode values, best to worst."""

    grades: tuple[Grade, ...]

    @field_validator("grades")
    @classmethod
    def _five_in_order(cls, grades: tuple[Grade, ...]) -> tuple[Grade, ...]:
        expected = list(GradeCode)
        codes = [grade.code for grade in grades]
        if codes != expected:
            raise ValueError(
                "须依次列出五个等级 " + "、".join(expected) + "，实际为 " + "、".join(codes)
            )
        for index, grade in enumerate(grades):
            if grade.rank != index:
                raise ValueError(f"等级 {grade.code} 的 rank 应为 {index}，实际为 {grade.rank}")
        flags = [grade.negative for grade in grades]
        if not any(flags) or flags != sorted(flags):
            raise ValueError("负面等级须是排在最后的若干等级（至少一个），不能与非负面等级交错")
        return grades


class Category(_Model):
    """A category or subcategory of a taxonomy; codes are quoted three-digit strings."""

    code: str
    name: str = Field(min_length=1)
    description: str = ""
    keywords: Keywords = ()
    subcategories: tuple[Category, ...] = ()

    @field_validator("code", mode="before")
    @classmethod
    def _code_is_quoted(cls, value: object) -> object:
        if not isinstance(value, str):
            # YAML reads 100 as an int and 010 as octal 8: insist on quotes.
            raise ValueError(f'分类代码须加引号写成三位数字字符串，如 "100"，实际为 {value!r}')
        if not re.fullmatch(r"\d{3}", value):
            raise ValueError(f"分类代码须为三位数字，实际为 {value!r}")
        return value

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: Keywords) -> Keywords:
        return _check_keywords(value)

    @model_validator(mode="after")
    def _children(self) -> Category:
        for child in self.subcategories:
            if child.subcategories:
                raise ValueError(f"子分类 {child.code} 不能再有下级分类（只支持两级）")
            if child.code[0] != self.code[0]:
                raise ValueError(f"子分类 {child.code} 的首位数字须与上级分类 {self.code} 相同")
            if child.code.endswith("00"):
                raise ValueError(f"子分类代码 {child.code} 不能以 00 结尾（那是一级分类的写法）")
        return self


class Taxonomy(_Model):
    """categories/<preset>.yaml: a two-level category tree with keywords."""

    name: str = Field(min_length=1)
    description: str = ""
    fallback: str = Field(description="Code used when no category matches, e.g. '000'.")
    categories: tuple[Category, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes(self) -> Taxonomy:
        for category in self.categories:
            if not category.code.endswith("00"):
                raise ValueError(f"一级分类代码须以 00 结尾（如 100、000），实际为 {category.code}")
        codes = [c.code for c in self.categories]
        codes += [s.code for c in self.categories for s in c.subcategories]
        _check_unique(codes, "分类代码")
        if self.fallback not in codes:
            raise ValueError(f"fallback 分类 {self.fallback!r} 不在分类列表中")
        return self


class HarmType(_Model):
    """A kind of harmful or illegal content (SPEC 2.3)."""

    code: str = Field(pattern=_SNAKE)
    name: str = Field(min_length=1)
    illegal: bool = Field(description="True: suggest reporting to the police with evidence.")
    description: str = Field(min_length=1)
    keywords: Keywords = Field(default=(), description="Indicative phrases for a lexicon.")

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: Keywords) -> Keywords:
        return _check_keywords(value)


class HarmTypesFile(_Model):
    """harm_types.yaml."""

    harm_types: tuple[HarmType, ...] = Field(min_length=1)

    @field_validator("harm_types")
    @classmethod
    def _unique(cls, value: tuple[HarmType, ...]) -> tuple[HarmType, ...]:
        _check_unique([h.code for h in value], "有害信息类型代码")
        return value


class Measure(_Model):
    """A handling measure (SPEC 2.4) and the grades it is allowed for."""

    code: str = Field(pattern=_SNAKE)
    name: str = Field(min_length=1)
    description: str = ""
    allowed_grades: tuple[GradeCode, ...] = Field(min_length=1)
    requires: Literal["illegal_or_false"] | None = Field(
        default=None, description="'illegal_or_false': only when the content is illegal or false."
    )

    @field_validator("allowed_grades")
    @classmethod
    def _unique_grades(cls, value: tuple[GradeCode, ...]) -> tuple[GradeCode, ...]:
        _check_unique(value, "等级")
        return value


class MeasuresFile(_Model):
    """measures.yaml."""

    measures: tuple[Measure, ...] = Field(min_length=1)

    @field_validator("measures")
    @classmethod
    def _unique(cls, value: tuple[Measure, ...]) -> tuple[Measure, ...]:
        _check_unique([m.code for m in value], "处置措施代码")
        return value


Anchor = Literal["day", "discovery", "quarter_end", "development", "closure"]
TIMED_BY_AMOUNT: frozenset[str] = frozenset({"discovery", "quarter_end"})
CASE_ANCHORS: frozenset[str] = frozenset({"discovery", "development", "closure"})
# The case fact that meets a case-level deadline: reported (the form went up), phone_reported
# (the phone report was recorded), follow_up (a follow-up report was filed), closed.
MetBy = Literal["reported", "phone_reported", "follow_up", "closed"]


class Deadline(_Model):
    """A reporting deadline (SPEC 2.5).

    `anchor` says what the clock starts from: `day` is a time of day (`at`); `discovery` and
    `quarter_end` add `amount` `unit`s; `development` (follow-ups as the event develops) and
    `closure` (the final disposal report) have no fixed time.
    """

    code: str = Field(pattern=_SNAKE)
    name: str = Field(min_length=1)
    description: str = ""
    anchor: Anchor
    amount: int | None = Field(default=None, ge=0)
    unit: Literal["hours", "working_days"] | None = None
    at: str | None = Field(default=None, description="HH:MM, 24-hour clock, local time.")
    unit_levels: tuple[UnitLevel, ...] | None = Field(default=None, description="None: all.")
    grades: tuple[GradeCode, ...] | None = Field(default=None, description="None: all grades.")
    zero_report: bool = Field(default=False, description="Report even when there is nothing.")
    met_by: MetBy | None = Field(
        default=None,
        description="Case fact that meets a discovery/development/closure deadline; "
        "None for office-level (day, quarter_end) deadlines.",
    )

    @field_validator("at", mode="before")
    @classmethod
    def _hhmm(cls, value: object) -> object:
        if isinstance(value, int):
            # Unquoted 14:15 is YAML 1.1 base-60: the integer 855.
            raise ValueError(f'时间须加引号写成 "HH:MM"，如 "14:15"（未加引号被读成了 {value}）')
        if isinstance(value, str) and not _HHMM.match(value):
            raise ValueError(f"时间须为 HH:MM（00:00–23:59），实际为 {value!r}")
        return value

    @model_validator(mode="after")
    def _timing(self) -> Deadline:
        if (self.amount is None) != (self.unit is None):
            raise ValueError("amount 与 unit 须同时给出或同时省略")
        has_amount = self.amount is not None
        has_at = self.at is not None
        if self.anchor == "day" and (not has_at or has_amount):
            raise ValueError('anchor 为 day 时须给出 at（如 "14:15"），不能给 amount/unit')
        if self.anchor in TIMED_BY_AMOUNT and (not has_amount or has_at):
            raise ValueError(f"anchor 为 {self.anchor} 时须给出 amount 和 unit，不能给 at")
        if self.anchor not in TIMED_BY_AMOUNT | {"day"} and (has_amount or has_at):
            raise ValueError(f"anchor 为 {self.anchor} 时没有固定时限，不能给 amount/unit/at")
        if self.anchor in CASE_ANCHORS and self.met_by is None:
            raise ValueError(
                f"anchor 为 {self.anchor} 的时限属于单个案件，须写 met_by"
                "（reported、phone_reported、follow_up 或 closed），说明案件的哪一步算完成"
            )
        if self.anchor not in CASE_ANCHORS and self.met_by is not None:
            raise ValueError(f"anchor 为 {self.anchor} 的时限属于机构而非单个案件，不能写 met_by")
        return self

    @property
    def at_time(self) -> time | None:
        """`at` as a `datetime.time`, or None."""
        if self.at is None:
            return None
        hour, minute = self.at.split(":")
        return time(int(hour), int(minute))


class DeadlinesFile(_Model):
    """deadlines.yaml."""

    deadlines: tuple[Deadline, ...] = Field(min_length=1)

    @field_validator("deadlines")
    @classmethod
    def _unique(cls, value: tuple[Deadline, ...]) -> tuple[Deadline, ...]:
        _check_unique([d.code for d in value], "时限代码")
        return value


class PlatformInfo(_Model):
    """Display data of one Platform enum member."""

    code: Platform
    name: str = Field(min_length=1)
    description: str = ""


class PlatformsFile(_Model):
    """platforms.yaml: every Platform member exactly once."""

    platforms: tuple[PlatformInfo, ...]

    @field_validator("platforms")
    @classmethod
    def _cover(cls, value: tuple[PlatformInfo, ...]) -> tuple[PlatformInfo, ...]:
        _check_cover([p.code for p in value], list(Platform), "平台")
        return value


class MediaTierInfo(_Model):
    """Display data and spread weight of one MediaTier enum member."""

    code: MediaTier
    name: str = Field(min_length=1)
    reach: int = Field(ge=0, description="Higher carries further.")
    wide_spread: bool = Field(description="Coverage here is a harmful-grade signal (SPEC 2.1).")
    description: str = ""


class MediaTiersFile(_Model):
    """media_tiers.yaml: every MediaTier member exactly once."""

    media_tiers: tuple[MediaTierInfo, ...]

    @field_validator("media_tiers")
    @classmethod
    def _cover(cls, value: tuple[MediaTierInfo, ...]) -> tuple[MediaTierInfo, ...]:
        _check_cover([t.code for t in value], list(MediaTier), "媒体级别")
        return value


def _check_cover(codes: list[str], members: list[str], what: str) -> None:
    _check_unique(codes, f"{what}代码")
    missing = [member for member in members if member not in codes]
    if missing:
        raise ValueError(f"缺少{what}：{'、'.join(missing)}")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _calendar_date(value: object) -> object:
    """Accept a YAML date or a "YYYY-MM-DD" string; refuse numbers and datetimes."""
    if isinstance(value, datetime):
        raise ValueError(f"须为日期（YYYY-MM-DD），不能带时刻，实际为 {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"不是有效的日期：{value!r}") from None
    raise ValueError(f"须为 YYYY-MM-DD 格式的日期，如 2027-01-01，实际为 {value!r}")


CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]


class WorkingCalendarYear(_Model):
    """One year's official arrangement: days off on weekdays, working days on weekends."""

    holidays: tuple[CalendarDate, ...] = Field(
        default=(), description="Days off (法定节假日及调休放假); weekend days may be listed."
    )
    workdays: tuple[CalendarDate, ...] = Field(
        default=(), description="Weekend days that are working days (调休上班)."
    )

    @field_validator("workdays")
    @classmethod
    def _weekend_only(cls, value: tuple[date, ...]) -> tuple[date, ...]:
        weekdays = [day.isoformat() for day in value if day.weekday() < 5]
        if weekdays:
            raise ValueError(
                f"workdays 只列调休上班的周六、周日；{'、'.join(weekdays)} 是周一至周五，"
                "本来就是工作日"
            )
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> WorkingCalendarYear:
        _check_unique([day.isoformat() for day in self.holidays], "holidays 中的日期")
        _check_unique([day.isoformat() for day in self.workdays], "workdays 中的日期")
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            days = "、".join(day.isoformat() for day in both)
            raise ValueError(f"{days} 同时列在 holidays 和 workdays 中，只能二选一")
        return self


class WorkingCalendarFile(_Model):
    """working_calendar.yaml: official holiday arrangements for years chinesecalendar lacks.

    A year listed here replaces the package's data for that year: a weekday is a working day
    unless it is in `holidays`; a weekend day is not unless it is in `workdays`.
    """

    years: dict[int, WorkingCalendarYear] = Field(default_factory=dict)

    @field_validator("years", mode="before")
    @classmethod
    def _mapping(cls, value: object) -> object:
        # An empty `years:` reads as None: treat it as no years.
        return {} if value is None else value

    @field_validator("years")
    @classmethod
    def _in_year(cls, value: dict[int, WorkingCalendarYear]) -> dict[int, WorkingCalendarYear]:
        for year, days in value.items():
            if not 2000 <= year <= 2100:
                raise ValueError(f"年份 {year} 不在 2000–2100 之间")
            for kind, listed in (("holidays", days.holidays), ("workdays", days.workdays)):
                stray = [day.isoformat() for day in listed if day.year != year]
                if stray:
                    raise ValueError(f"{year} 年的 {kind} 中有其他年份的日期：{'、'.join(stray)}")
        return value
