"""Read the bundled standard YAML, let an organization's copies replace files, validate.

An organization edits a copy, not code: `override_dir` mirrors the bundled layout
(`grades.yaml`, `categories/banking.yaml`, …), and each file present there replaces the bundled
one whole. A new preset can be added as `categories/<name>.yaml` in the override directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from yuqing.errors import ConfigError
from yuqing.standard.grading import GradingFile
from yuqing.standard.models import (
    DeadlinesFile,
    GradesFile,
    HarmTypesFile,
    MeasuresFile,
    MediaTiersFile,
    PlatformsFile,
    Taxonomy,
    WorkingCalendarFile,
)
from yuqing.standard.standard import Standard

BUNDLED_DIR = Path(__file__).parent
CATEGORIES_DIR = "categories"
_MAX_ERRORS = 5

_M = TypeVar("_M", bound=BaseModel)

# Pydantic's English messages for the errors an editor of these files is likely to make.
_MESSAGES = {
    "missing": "缺少此字段",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "string_type": "须为文字",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "tuple_type": "须为列表",
    "dict_type": "须为键值映射",
    "model_type": "须为键值映射",
    "too_short": "不能为空",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "只能由小写英文字母、数字和下划线组成，且以字母开头",
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _describe(error: ErrorDetails) -> str:
    """One error as "field.path：中文说明（实际为 …）"."""
    where = ".".join(str(part) for part in error["loc"]) or "（整个文件）"
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "value_error":
        # Our validators' messages are Chinese already and quote the value when useful.
        return f"{where}：{ctx.get('error', error['msg'])}"
    if kind in ("enum", "literal_error"):
        choices = str(ctx.get("expected", "")).replace(" or ", ", ").replace(", ", "、")
        message = f"取值须为 {choices} 之一"
    elif kind in ("less_than_equal", "greater_than_equal"):
        limit = ctx.get("le", ctx.get("ge"))
        message = f"不能{'大' if kind == 'less_than_equal' else '小'}于 {limit}"
    else:
        message = _MESSAGES.get(kind, error["msg"])
    value = error.get("input")
    shown = "" if kind == "missing" or isinstance(value, dict | list) else f"（实际为 {value!r}）"
    return f"{where}：{message}{shown}"


def _deepest(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop errors on a container when an error inside it explains them."""
    locs = [tuple(error["loc"]) for error in errors]
    return [
        error
        for error, loc in zip(errors, locs, strict=True)
        if not any(other != loc and other[: len(loc)] == loc for other in locs)
    ]


def _read(path: Path, model: type[_M]) -> _M:
    """Parse one YAML file into `model`, translating every failure into ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"标准文件 {path} 无法读取：{exc}") from exc
    try:
        # _UniqueKeyLoader is a SafeLoader: no arbitrary Python objects.
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"标准文件 {path} 不是有效的 YAML{where}：{problem}") from exc
    if data is None:
        raise ConfigError(f"标准文件 {path} 是空的")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = _deepest(exc.errors())
        details = "；".join(_describe(error) for error in errors[:_MAX_ERRORS])
        more = f"；另有 {len(errors) - _MAX_ERRORS} 处错误" if len(errors) > _MAX_ERRORS else ""
        raise ConfigError(f"标准文件 {path} 有误：{details}{more}") from exc


def _resolve(relative: str, override_dir: Path | None) -> Path:
    if override_dir is not None and (override_dir / relative).is_file():
        return override_dir / relative
    return BUNDLED_DIR / relative


def available_taxonomies(override_dir: Path | None = None) -> list[str]:
    """Names of the category presets: bundled ones plus any added in `override_dir`."""
    dirs = [BUNDLED_DIR / CATEGORIES_DIR]
    if override_dir is not None:
        dirs.append(override_dir / CATEGORIES_DIR)
    return sorted(
        {path.stem for folder in dirs if folder.is_dir() for path in folder.glob("*.yaml")}
    )


def load_standard(override_dir: Path | None = None, taxonomy: str = "banking") -> Standard:
    """Load and validate the standard; cached per (override_dir, taxonomy).

    Raises ConfigError naming the file and field path for any YAML or validation error, and
    listing the presets for an unknown `taxonomy`. Call `clear_standard_cache()` after editing
    files to see the change in a running process.
    """
    if override_dir is not None:
        override_dir = Path(override_dir).expanduser().resolve()
    return _load_cached(override_dir, taxonomy)


def clear_standard_cache() -> None:
    """Forget loaded standards so the next `load_standard` rereads the files."""
    _load_cached.cache_clear()


def _check_measures(grades: GradesFile, measures: MeasuresFile, override_dir: Path | None) -> None:
    """Deletion and reporting presuppose negative content: check across the two files."""
    negative = {grade.code for grade in grades.grades if grade.negative}
    for index, measure in enumerate(measures.measures):
        positive = [g for g in measure.allowed_grades if g not in negative]
        if measure.requires is not None and positive:
            raise ConfigError(
                f"标准文件 {_resolve('measures.yaml', override_dir)} 有误："
                f"measures.{index}.allowed_grades："
                f"须以违法或虚假为前提的措施只能用于负面等级，不能用于 {'、'.join(positive)}"
                f"（见 {_resolve('grades.yaml', override_dir)} 中的 negative）"
            )


def _check_grading(
    grades: GradesFile,
    grading: GradingFile,
    harm_codes: set[str],
    tier_codes: set[str],
    platform_codes: set[str],
    override_dir: Path | None,
) -> None:
    """Cross-file checks: negative grades need negative content; codes must exist."""
    negative = {grade.code for grade in grades.grades if grade.negative}
    where = f"标准文件 {_resolve('grading.yaml', override_dir)} 有误"
    for rule in grading.rules:
        if rule.grade in negative and not rule.has_negative_content():
            raise ConfigError(
                f"{where}：规则 {rule.id} 授予负面等级，须在 when 中（或 any 的每一项）写负面内容"
                "条件，例如 {negative: true}：仅凭传播范围不能把信息定为负面"
            )
        for condition in rule.conditions():
            known = {"harm": harm_codes, "media_tier": tier_codes, "platform": platform_codes}.get(
                condition.key
            )
            value = condition.value
            if known is None or not isinstance(value, tuple):
                continue
            unknown = [code for code in value if code not in known]
            if unknown:
                raise ConfigError(
                    f"{where}：规则 {rule.id} 的 {condition.key} 含未知代码 {'、'.join(unknown)}；"
                    f"可用的有：{'、'.join(sorted(known))}"
                )


@lru_cache(maxsize=16)
def _load_cached(override_dir: Path | None, taxonomy: str) -> Standard:
    if override_dir is not None and not override_dir.is_dir():
        raise ConfigError(f"标准覆盖目录 {override_dir} 不存在或不是目录")
    presets = available_taxonomies(override_dir)
    if taxonomy not in presets:
        raise ConfigError(f"未知的分类预设 {taxonomy!r}；可用的有：{'、'.join(presets)}")

    def read(relative: str, model: type[_M]) -> _M:
        return _read(_resolve(relative, override_dir), model)

    grades = read("grades.yaml", GradesFile)
    measures = read("measures.yaml", MeasuresFile)
    _check_measures(grades, measures, override_dir)
    harm_types = read("harm_types.yaml", HarmTypesFile).harm_types
    platforms = read("platforms.yaml", PlatformsFile).platforms
    media_tiers = read("media_tiers.yaml", MediaTiersFile).media_tiers
    grading = read("grading.yaml", GradingFile)
    _check_grading(
        grades,
        grading,
        {h.code for h in harm_types},
        {t.code.value for t in media_tiers},
        {p.code.value for p in platforms},
        override_dir,
    )
    return Standard(
        taxonomy_name=taxonomy,
        grades=grades.grades,
        taxonomy=read(f"{CATEGORIES_DIR}/{taxonomy}.yaml", Taxonomy),
        harm_types=harm_types,
        measures=measures.measures,
        deadlines=read("deadlines.yaml", DeadlinesFile).deadlines,
        platforms=platforms,
        media_tiers=media_tiers,
        grading=grading,
        working_calendar=read("working_calendar.yaml", WorkingCalendarFile),
    )
