"""Plain types shared by every layer: enums and dataclasses, no I/O."""

from yuqing.domain.analysis import Analysis, Grading, Harm, Reason
from yuqing.domain.enums import GradeCode, MediaTier, Platform, UnitLevel
from yuqing.domain.items import Item, MatchSpan, Metrics, RawItem, SubjectMatch
from yuqing.domain.subjects import SubjectSpec
from yuqing.domain.text import to_match_text, to_simplified

__all__ = [
    "Analysis",
    "GradeCode",
    "Grading",
    "Harm",
    "Item",
    "MatchSpan",
    "MediaTier",
    "Metrics",
    "Platform",
    "RawItem",
    "Reason",
    "SubjectMatch",
    "SubjectSpec",
    "UnitLevel",
    "to_match_text",
    "to_simplified",
]
