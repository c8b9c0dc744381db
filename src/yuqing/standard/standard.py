"""The loaded standard with lookups by code; built by `load_standard`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from yuqing.errors import ConfigError
from yuqing.standard.grading import GradingFile
from yuqing.standard.models import (
    Category,
    Deadline,
    Grade,
    HarmType,
    Measure,
    MediaTierInfo,
    PlatformInfo,
    Taxonomy,
    WorkingCalendarFile,
)

_T = TypeVar("_T")


def _lookup(index: Mapping[str, _T], code: str, what: str) -> _T:
    try:
        return index[code]
    except KeyError:
        known = "、".join(index)
        raise ConfigError(f"未知的{what}代码 {code!r}；可用的有：{known}") from None


@dataclass(frozen=True, eq=False)
class Standard:
    """Grades, one category preset, harm types, measures, deadlines, platforms, media tiers,
    and the working-calendar additions (years chinesecalendar does not know yet).

    Shared and cached by `load_standard`: every part is immutable. Lookups take the code as a
    plain string or the matching StrEnum member and raise `ConfigError` for unknown codes.
    """

    taxonomy_name: str
    grades: tuple[Grade, ...]
    taxonomy: Taxonomy
    harm_types: tuple[HarmType, ...]
    measures: tuple[Measure, ...]
    deadlines: tuple[Deadline, ...]
    platforms: tuple[PlatformInfo, ...]
    media_tiers: tuple[MediaTierInfo, ...]
    grading: GradingFile
    working_calendar: WorkingCalendarFile
    _grades: dict[str, Grade] = field(init=False, repr=False)
    _categories: dict[str, Category] = field(init=False, repr=False)
    _parents: dict[str, Category] = field(init=False, repr=False)
    _harm_types: dict[str, HarmType] = field(init=False, repr=False)
    _measures: dict[str, Measure] = field(init=False, repr=False)
    _deadlines: dict[str, Deadline] = field(init=False, repr=False)
    _platforms: dict[str, PlatformInfo] = field(init=False, repr=False)
    _media_tiers: dict[str, MediaTierInfo] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        categories: dict[str, Category] = {}
        parents: dict[str, Category] = {}
        for parent in self.taxonomy.categories:
            categories[parent.code] = parent
            for child in parent.subcategories:
                categories[child.code] = child
                parents[child.code] = parent
        indexes: dict[str, object] = {
            "_grades": {g.code.value: g for g in self.grades},
            "_categories": categories,
            "_parents": parents,
            "_harm_types": {h.code: h for h in self.harm_types},
            "_measures": {m.code: m for m in self.measures},
            "_deadlines": {d.code: d for d in self.deadlines},
            "_platforms": {p.code.value: p for p in self.platforms},
            "_media_tiers": {t.code.value: t for t in self.media_tiers},
        }
        for name, index in indexes.items():
            object.__setattr__(self, name, index)

    # Grades -----------------------------------------------------------------------------

    def grade(self, code: str) -> Grade:
        """The grade with this code ('harmful' or GradeCode.HARMFUL)."""
        return _lookup(self._grades, code, "舆情等级")

    def grade_name(self, code: str) -> str:
        """Chinese name of a grade: 'harmful' → '有害'."""
        return self.grade(code).name

    # Categories -------------------------------------------------------------------------

    @property
    def categories(self) -> tuple[Category, ...]:
        """Top-level categories of the chosen preset, in file order."""
        return self.taxonomy.categories

    @property
    def fallback_category(self) -> Category:
        """The category used when nothing matches (usually 000 其他)."""
        return self.category(self.taxonomy.fallback)

    def category(self, code: str) -> Category:
        """A top-level category or a subcategory by its three-digit code."""
        return _lookup(self._categories, code, "舆情分类")

    def category_name(self, code: str) -> str:
        """Chinese name of a category or subcategory: '301' → '案件风险'."""
        return self.category(code).name

    def parent_category(self, code: str) -> Category | None:
        """The top-level category above a subcategory; None for a top-level code."""
        self.category(code)
        return self._parents.get(code)

    def iter_categories(self) -> Iterator[Category]:
        """Every category, each parent followed by its subcategories (100, 101, …, 200, …)."""
        for parent in self.taxonomy.categories:
            yield parent
            yield from parent.subcategories

    # Harm types, measures, deadlines ----------------------------------------------------

    def harm_type(self, code: str) -> HarmType:
        """A harmful/illegal content type by code ('rumor')."""
        return _lookup(self._harm_types, code, "有害信息类型")

    def measure(self, code: str) -> Measure:
        """A handling measure by code ('press_release')."""
        return _lookup(self._measures, code, "处置措施")

    def measures_for(self, grade_code: str, illegal_or_false: bool = False) -> list[Measure]:
        """Measures allowed for a grade (SPEC 2.4), in file order.

        Measures that require illegal or false content (deletion, reporting) are included only
        when `illegal_or_false` is true.
        """
        grade = self.grade(grade_code)
        return [
            measure
            for measure in self.measures
            if grade.code in measure.allowed_grades
            and (measure.requires is None or illegal_or_false)
        ]

    def deadline(self, code: str) -> Deadline:
        """A reporting deadline by code ('phone_report')."""
        return _lookup(self._deadlines, code, "报告时限")

    def deadlines_for(
        self, *, grade_code: str | None = None, unit_level: str | None = None
    ) -> list[Deadline]:
        """Deadlines that apply to a grade and/or a unit level; an omitted filter matches all."""
        if grade_code is not None:
            self.grade(grade_code)
        return [
            deadline
            for deadline in self.deadlines
            if (grade_code is None or deadline.grades is None or grade_code in deadline.grades)
            and (
                unit_level is None
                or deadline.unit_levels is None
                or unit_level in deadline.unit_levels
            )
        ]

    # Platforms and media tiers ----------------------------------------------------------

    def platform(self, code: str) -> PlatformInfo:
        """Display data of a platform ('weibo')."""
        return _lookup(self._platforms, code, "平台")

    def platform_name(self, code: str) -> str:
        """Chinese name of a platform: 'weibo' → '微博'."""
        return self.platform(code).name

    def media_tier(self, code: str) -> MediaTierInfo:
        """Name, reach and wide-spread flag of a media tier ('national')."""
        return _lookup(self._media_tiers, code, "媒体级别")
