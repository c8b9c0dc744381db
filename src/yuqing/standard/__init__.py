"""The codified standard (SPEC 2) as YAML data with validated models and a cached loader.

>>> standard = load_standard()
>>> standard.grade_name("harmful")
'有害'
"""

from yuqing.standard.loader import available_taxonomies, clear_standard_cache, load_standard
from yuqing.standard.models import (
    Category,
    Deadline,
    DeadlinesFile,
    Grade,
    GradesFile,
    HarmType,
    HarmTypesFile,
    Measure,
    MeasuresFile,
    MediaTierInfo,
    MediaTiersFile,
    PlatformInfo,
    PlatformsFile,
    Taxonomy,
)
from yuqing.standard.standard import Standard

__all__ = [
    "Category",
    "Deadline",
    "DeadlinesFile",
    "Grade",
    "GradesFile",
    "HarmType",
    "HarmTypesFile",
    "Measure",
    "MeasuresFile",
    "MediaTierInfo",
    "MediaTiersFile",
    "PlatformInfo",
    "PlatformsFile",
    "Standard",
    "Taxonomy",
    "available_taxonomies",
    "clear_standard_cache",
    "load_standard",
]
