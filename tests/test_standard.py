"""The bundled standard matches SPEC 2, and broken or edited copies behave as documented."""

from __future__ import annotations

import dataclasses
from importlib.resources import files
from pathlib import Path

import pydantic
import pytest

import yuqing.standard as standard_pkg
from yuqing.domain.enums import GradeCode, MediaTier, Platform, UnitLevel
from yuqing.errors import ConfigError
from yuqing.standard import (
    Standard,
    available_taxonomies,
    clear_standard_cache,
    load_standard,
)

BUNDLED = Path(str(files("yuqing.standard")))
PRESETS = ["banking", "university_government"]
TOP_CODES = ["100", "200", "300", "400", "500", "600", "700", "800", "900", "000"]
NEGATIVE = {GradeCode.ATTENTION, GradeCode.HARMFUL, GradeCode.DANGEROUS}


@pytest.fixture
def standard() -> Standard:
    return load_standard()


def override(tmp_path: Path, relative: str, old: str = "", new: str = "") -> Path:
    """Copy a bundled file into tmp_path/relative, replacing `old` with `new` once."""
    text = (BUNDLED / relative).read_text(encoding="utf-8")
    if old:
        assert old in text, f"{old!r} not in {relative}"
        text = text.replace(old, new, 1)
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def config_error(tmp_path: Path, taxonomy: str = "banking") -> str:
    with pytest.raises(ConfigError) as info:
        load_standard(tmp_path, taxonomy)
    return str(info.value)


# The bundled standard -------------------------------------------------------------------


@pytest.mark.parametrize("taxonomy", PRESETS)
def test_bundled_standard_loads_for_each_preset(taxonomy: str) -> None:
    standard = load_standard(taxonomy=taxonomy)
    assert standard.taxonomy_name == taxonomy
    assert [c.code for c in standard.categories] == TOP_CODES
    assert standard.fallback_category.code == "000"
    for category in standard.iter_categories():
        assert 10 <= len(category.keywords) <= 40, category.code
        assert all(isinstance(keyword, str) and keyword for keyword in category.keywords)
    for parent in standard.categories[:-1]:
        assert parent.subcategories, parent.code


def test_yaml_files_ship_inside_the_package() -> None:
    names = {
        "grades.yaml",
        "harm_types.yaml",
        "measures.yaml",
        "deadlines.yaml",
        "platforms.yaml",
        "media_tiers.yaml",
    }
    assert names <= {path.name for path in BUNDLED.iterdir()}
    assert available_taxonomies() == PRESETS


def test_five_grades_best_to_worst(standard: Standard) -> None:
    assert [g.code for g in standard.grades] == list(GradeCode)
    assert [g.name for g in standard.grades] == ["正面", "一般", "关注", "有害", "危害"]
    assert [g.rank for g in standard.grades] == [0, 1, 2, 3, 4]
    assert {g.code for g in standard.grades if g.negative} == NEGATIVE
    assert all(g.meaning and g.signals for g in standard.grades)
    assert standard.grade("harmful").name == "有害"
    assert standard.grade(GradeCode.DANGEROUS).rank == 4
    assert standard.grade_name("attention") == "关注"


def test_every_platform_and_media_tier_has_a_chinese_name(standard: Standard) -> None:
    for platform in Platform:
        assert standard.platform_name(platform)
    for tier in MediaTier:
        assert standard.media_tier(tier).name
    assert standard.platform_name("weibo") == "微博"
    assert standard.platform_name("complaint") == "投诉平台"
    assert standard.media_tier("national").name == "中央媒体"


def test_wide_spread_media_tiers_are_the_harmful_signals(standard: Standard) -> None:
    wide = {t.code for t in standard.media_tiers if t.wide_spread}
    assert wide == {"national", "foreign", "portal", "popular_forum"}
    reach = {t.code: t.reach for t in standard.media_tiers}
    assert min(reach[code] for code in wide) > max(
        reach[code] for code in reach if code not in wide
    )


BASIC = {"for_information", "information_and_watch", "reply_post", "publish_comment"}
HARMFUL = {"response_line", "press_release", "reply_post", "publish_comment"}
DANGEROUS = HARMFUL | {"authority_coordination", "spokesperson_statement", "press_conference"}
ILLEGAL = {"request_deletion", "report_to_platform", "report_to_police"}


@pytest.mark.parametrize(
    ("grade", "illegal_or_false", "expected"),
    [
        ("positive", False, BASIC),
        ("positive", True, BASIC),
        ("general", False, BASIC),
        ("general", True, BASIC),
        ("attention", False, BASIC),
        ("attention", True, BASIC | ILLEGAL),
        ("harmful", False, HARMFUL),
        ("harmful", True, HARMFUL | ILLEGAL),
        ("dangerous", False, DANGEROUS),
        ("dangerous", True, DANGEROUS | ILLEGAL),
    ],
)
def test_measures_per_grade_follow_spec_2_4(
    standard: Standard, grade: str, illegal_or_false: bool, expected: set[str]
) -> None:
    measures = standard.measures_for(grade, illegal_or_false=illegal_or_false)
    assert {m.code for m in measures} == expected
    assert len(measures) == len(expected)


def test_measure_details(standard: Standard) -> None:
    assert standard.measure("press_conference").allowed_grades == (GradeCode.DANGEROUS,)
    deletion = standard.measure("request_deletion")
    assert deletion.requires == "illegal_or_false"
    assert set(deletion.allowed_grades) == NEGATIVE
    assert standard.measure("spokesperson_statement").name == "新闻发言人书面发言"


def test_banking_taxonomy_lookups(standard: Standard) -> None:
    risk = standard.category("300")
    assert risk.name == "风险状况"
    assert [(c.code, c.name) for c in risk.subcategories][:6] == [
        ("301", "案件风险"),
        ("302", "操作风险"),
        ("303", "信用风险"),
        ("304", "法律风险"),
        ("305", "市场风险"),
        ("306", "流动性风险"),
    ]
    assert standard.category_name("806") == "ATM故障"
    assert standard.category_name("804") == "排队等候"
    assert "挤兑" in standard.category("306").keywords
    assert "落马" in standard.category("400").keywords
    parent = standard.parent_category("806")
    assert parent is not None and parent.code == "800"
    assert standard.parent_category("800") is None


def test_iter_categories_puts_each_parent_before_its_children(standard: Standard) -> None:
    codes = [c.code for c in standard.iter_categories()]
    assert codes[:2] == ["100", "101"]
    assert len(codes) == len(set(codes))
    for index, code in enumerate(codes):
        if not code.endswith("00"):
            parent = standard.parent_category(code)
            assert parent is not None
            assert codes.index(parent.code) < index


def test_unknown_codes_raise_config_error(standard: Standard) -> None:
    with pytest.raises(ConfigError, match="未知的舆情等级代码 'bad'"):
        standard.grade("bad")
    with pytest.raises(ConfigError, match="舆情分类"):
        standard.category("999")
    with pytest.raises(ConfigError, match="平台"):
        standard.platform_name("myspace")
    with pytest.raises(ConfigError, match="媒体级别"):
        standard.media_tier("galactic")
    with pytest.raises(ConfigError):
        standard.measures_for("catastrophic", illegal_or_false=True)


def test_harm_types_cover_spec_2_3(standard: Standard) -> None:
    codes = [h.code for h in standard.harm_types]
    assert len(codes) == 15
    assert {"rumor", "secession", "gambling", "insult_defamation", "secrets"} <= set(codes)
    assert standard.harm_type("rumor").illegal
    assert not standard.harm_type("org_reputation").illegal


def test_deadlines_follow_spec_2_5(standard: Standard) -> None:
    county = standard.deadline("daily_report_county")
    assert (county.anchor, county.at, county.zero_report) == ("day", "14:15", True)
    assert county.unit_levels == (UnitLevel.COUNTY,)
    city = standard.deadline("daily_report_city")
    assert city.at_time is not None and (city.at_time.hour, city.at_time.minute) == (14, 30)
    phone = standard.deadline("phone_report")
    assert (phone.anchor, phone.amount, phone.unit) == ("discovery", 1, "hours")
    assert set(phone.grades or ()) == {GradeCode.HARMFUL, GradeCode.DANGEROUS}
    written = standard.deadline("written_report")
    assert (written.amount, written.unit) == (2, "hours")
    form = standard.deadline("report_form")
    assert (form.amount, form.unit) == (1, "working_days")
    quarterly = {d.unit_levels: d.amount for d in standard.deadlines if d.anchor == "quarter_end"}
    assert quarterly == {(UnitLevel.COUNTY,): 3, (UnitLevel.CITY,): 5}
    assert {d.code for d in standard.deadlines_for(grade_code="general")}.isdisjoint(
        {"phone_report", "written_report"}
    )
    city_codes = {d.code for d in standard.deadlines_for(unit_level="city")}
    assert "daily_report_city" in city_codes
    assert "daily_report_county" not in city_codes


def test_loaded_standard_is_cached_and_immutable(standard: Standard) -> None:
    assert load_standard() is standard
    with pytest.raises(dataclasses.FrozenInstanceError):
        standard.grades = ()  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        standard.grades[0].name = "好"  # type: ignore[misc]
    clear_standard_cache()
    assert load_standard() is not standard


def test_public_names_are_exported() -> None:
    for name in standard_pkg.__all__:
        assert hasattr(standard_pkg, name), name


# Overrides and errors --------------------------------------------------------------------


def test_override_dir_replaces_one_file(tmp_path: Path) -> None:
    override(tmp_path, "grades.yaml", "name: 正面", "name: 积极")
    standard = load_standard(tmp_path)
    assert standard.grade("positive").name == "积极"
    assert standard.platform_name("weibo") == "微博"
    assert load_standard().grade("positive").name == "正面"


def test_override_dir_can_add_a_preset(tmp_path: Path) -> None:
    override(tmp_path, "categories/banking.yaml", "name: 银行业", "name: 某农商行")
    (tmp_path / "categories" / "banking.yaml").rename(tmp_path / "categories" / "mybank.yaml")
    assert available_taxonomies(tmp_path) == ["banking", "mybank", "university_government"]
    assert load_standard(tmp_path, "mybank").taxonomy.name == "某农商行"


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "grades.yaml"
    path.write_text("grades: [\n  - code: positive\n", encoding="utf-8")
    message = config_error(tmp_path)
    assert str(path) in message
    assert "不是有效的 YAML" in message


def test_duplicate_measure_code(tmp_path: Path) -> None:
    path = override(tmp_path, "measures.yaml", "code: publish_comment", "code: reply_post")
    message = config_error(tmp_path)
    assert str(path) in message
    assert "measures：" in message and "reply_post" in message


def test_missing_grade(tmp_path: Path) -> None:
    path = override(tmp_path, "grades.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("  - code: dangerous")], encoding="utf-8")
    message = config_error(tmp_path)
    assert str(path) in message
    assert "dangerous" in message


def test_bad_time_names_field_path(tmp_path: Path) -> None:
    path = override(tmp_path, "deadlines.yaml", '"14:15"', '"25:99"')
    message = config_error(tmp_path)
    assert f"标准文件 {path} 有误：deadlines.0.at：" in message
    assert "25:99" in message


def test_unquoted_time_is_explained(tmp_path: Path) -> None:
    override(tmp_path, "deadlines.yaml", 'at: "14:15"', "at: 14:15")
    assert "须加引号" in config_error(tmp_path)


def test_field_error_names_path(tmp_path: Path) -> None:
    path = override(tmp_path, "grades.yaml", "rank: 2", "rank: 7")
    assert f"标准文件 {path} 有误：grades.2.rank：" in config_error(tmp_path)


def test_unknown_field_and_duplicate_key(tmp_path: Path) -> None:
    override(tmp_path, "platforms.yaml", "name: 微博", "nmae: 微博")
    assert "platforms.4.nmae" in config_error(tmp_path)
    override(tmp_path, "platforms.yaml", "name: 微博", "name: 微博\n    name: 微博客")
    assert "duplicate key" in config_error(tmp_path)


def test_category_code_rules(tmp_path: Path) -> None:
    relative = "categories/banking.yaml"
    override(tmp_path, relative, 'code: "301"', "code: 301")
    assert "加引号" in config_error(tmp_path)
    override(tmp_path, relative, 'code: "302"', 'code: "402"')
    assert "首位数字" in config_error(tmp_path)
    override(tmp_path, relative, 'code: "302"', 'code: "301"')
    assert "分类代码重复：301" in config_error(tmp_path)


def test_missing_platform(tmp_path: Path) -> None:
    path = tmp_path / "platforms.yaml"
    path.write_text("platforms:\n  - code: news\n    name: 新闻网站\n", encoding="utf-8")
    message = config_error(tmp_path)
    assert str(path) in message and "weibo" in message


def test_deletion_only_for_negative_grades(tmp_path: Path) -> None:
    override(tmp_path, "grades.yaml", "negative: true", "negative: false")
    message = config_error(tmp_path)
    assert "measures.yaml" in message and "attention" in message


def test_unknown_taxonomy_lists_presets(tmp_path: Path) -> None:
    message = config_error(tmp_path, taxonomy="hospital")
    assert "hospital" in message
    assert "banking" in message and "university_government" in message


def test_missing_override_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="不存在"):
        load_standard(tmp_path / "nowhere")
