"""The grading engine over the bundled rules: each rule, the combination, monotonicity."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.domain import Analysis, Harm, RawItem, SubjectMatch
from yuqing.errors import ConfigError
from yuqing.pipeline.base import Batch
from yuqing.pipeline.grade import Grade, GradeFacts, Grader, Spread, SubjectContext
from yuqing.pipeline.normalize import Normalize
from yuqing.standard import clear_standard_cache, load_standard
from yuqing.standard.grading import Rule
from yuqing.standard.loader import BUNDLED_DIR

STANDARD = load_standard()
GRADER = Grader(STANDARD)
RANK = {g.code.value: g.rank for g in STANDARD.grades}
NEGATIVE = {g.code.value for g in STANDARD.grades if g.negative}


def analysis(**changes: object) -> Analysis:
    base = Analysis(
        sentiment="neutral",
        sentiment_score=0.0,
        rumor_score=0.05,
        rumor=False,
        offensive_score=0.05,
        offensive=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def facts(a: Analysis | None = None, about: bool = True, **spread: object) -> GradeFacts:
    return GradeFacts(
        analysis=a or analysis(),
        spread=Spread(**spread),  # type: ignore[arg-type]
        about_subject=about,
        subjects=("云岭农商银行",) if about else (),
    )


def fired(f: GradeFacts) -> dict[str, dict[str, object]]:
    return {r.rule: r.evidence for r in GRADER.grade(f).reasons}


NEGATIVE_TEXT = analysis(sentiment="negative", sentiment_score=-0.8)
RUMOR = analysis(sentiment="negative", sentiment_score=-0.5, rumor=True, rumor_score=0.9)


# One case per bundled rule: facts that fire it and the grade the item then gets.
RULE_CASES: dict[str, tuple[GradeFacts, str]] = {
    "default": (facts(), "general"),
    "positive_about_subject": (
        facts(analysis(sentiment="positive", sentiment_score=0.9)),
        "positive",
    ),
    "negative_about_subject": (facts(NEGATIVE_TEXT), "attention"),
    "offensive_about_subject": (
        facts(analysis(offensive=True, offensive_score=0.9)),
        "attention",
    ),
    "harmful_content": (
        facts(analysis(harms=[Harm("gambling", ("网赌",))]), about=False),
        "attention",
    ),
    "rumor_about_subject": (facts(RUMOR), "harmful"),
    "crisis_about_subject": (
        facts(analysis(sentiment="negative", signals={"crisis": ("挤兑",)})),
        "harmful",
    ),
    "attack_about_subject": (facts(analysis(signals={"attack": ("黑心银行",)})), "harmful"),
    "illegal_content_about_subject": (
        facts(analysis(harms=[Harm("gambling", ("网赌",))])),
        "harmful",
    ),
    "negative_wide_media": (facts(NEGATIVE_TEXT, media_tier="national"), "harmful"),
    "negative_many_views": (facts(NEGATIVE_TEXT, views=12_000), "harmful"),
    "negative_much_engagement": (facts(NEGATIVE_TEXT, reposts=1500, comments=600), "harmful"),
    "negative_reposted_widely": (facts(NEGATIVE_TEXT, sites=6), "harmful"),
    "negative_popular_forum": (
        facts(NEGATIVE_TEXT, media_tier="popular_forum", story_items=2),
        "harmful",
    ),
    "negative_several_institutions": (facts(NEGATIVE_TEXT, institutions=2), "harmful"),
    "negative_cross_region": (facts(NEGATIVE_TEXT, regions=2), "harmful"),
    "rumor_or_crisis_spreading": (
        facts(replace(RUMOR, signals={"crisis": ("挤兑",)}), story_items=4),
        "dangerous",
    ),
    "severe_illegal_content": (
        facts(analysis(harms=[Harm("terrorism", ("恐怖袭击",))]), about=False),
        "dangerous",
    ),
}


def test_every_bundled_rule_has_a_case() -> None:
    special = {"special_period_negative"}  # tested on its own below
    assert {rule.id for rule in STANDARD.grading.rules} == set(RULE_CASES) | special


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_rule_fires_with_evidence(rule: str) -> None:
    f, grade = RULE_CASES[rule]
    result = GRADER.grade(f)
    assert rule in fired(f)
    assert result.code == grade


def test_special_period_hook_raises_sensitivity() -> None:
    quiet = facts(NEGATIVE_TEXT)
    special = replace(quiet, special_period=True)
    assert GRADER.grade(quiet).code == "attention"
    assert GRADER.grade(special).code == "harmful"
    assert "special_period_negative" in fired(special)


def test_evidence_names_terms_metrics_and_tier() -> None:
    evidence = fired(facts(NEGATIVE_TEXT, views=12_000, media_tier="portal"))
    assert evidence["negative_many_views"]["views"] == 12_000
    assert evidence["negative_many_views"]["at_least"] == 10_000
    assert evidence["negative_wide_media"]["media_tier"] == "portal"
    crisis = fired(facts(analysis(sentiment="negative", signals={"crisis": ("挤兑", "排队取钱")})))
    assert crisis["crisis_about_subject"]["crisis"] == ["挤兑", "排队取钱"]


def test_reasons_are_most_severe_first_and_grade_is_the_worst() -> None:
    result = GRADER.grade(facts(replace(RUMOR, harms=[Harm("rumor", ("速转",))]), views=50_000))
    assert result.code == "dangerous"
    ranks = [RANK[r.grade] for r in result.reasons if r.grade in NEGATIVE]
    assert ranks == sorted(ranks, reverse=True)
    assert result.reasons[0].grade == "dangerous"


def test_negative_text_not_about_subject_stays_general() -> None:
    assert GRADER.grade(facts(NEGATIVE_TEXT, about=False, views=99_999)).code == "general"


def test_positive_beats_default_but_not_negative() -> None:
    praise = analysis(sentiment="positive", sentiment_score=0.9)
    assert GRADER.grade(facts(praise)).code == "positive"
    mixed = replace(praise, harms=[Harm("rumor", ("据知情人士透露",))])
    assert GRADER.grade(facts(mixed)).code == "harmful"
    # The rumour model alone does not make praise negative: it needs negative wording.
    assert GRADER.grade(facts(replace(praise, rumor=True, rumor_score=0.95))).code == "positive"


def test_subject_context_counts_institutions_and_regions() -> None:
    context = SubjectContext(
        names={1: "云岭农商银行", 2: "曲靖分行", 3: "大理分行"},
        units={1: (10, "云南省"), 2: (11, "曲靖市"), 3: (11, "曲靖市")},
    )
    f = context.facts(NEGATIVE_TEXT, [1, 2, 3], Spread(), ["大理州"])
    assert f.spread.institutions == 2
    assert f.spread.regions == 3
    assert f.about_subject
    assert not context.facts(NEGATIVE_TEXT, [], Spread()).about_subject
    assert SubjectContext().facts(NEGATIVE_TEXT, [], Spread()).about_subject


def test_the_grade_stage_counts_the_item_s_own_region() -> None:
    context = SubjectContext(names={1: "曲靖分行"}, units={1: (11, "曲靖市")})
    batch = Normalize(ZoneInfo("Asia/Shanghai"), 10_000).process(
        Batch(raw=[RawItem(content="曲靖分行门口排长队", region="大理州")])
    )
    [item] = batch.items
    item.subjects = [SubjectMatch(1, [])]
    item.analysis = NEGATIVE_TEXT
    Grade(GRADER, context).process(batch)
    assert item.grading is not None
    fired = {r.rule: r.evidence for r in item.grading.reasons}
    assert fired["negative_cross_region"]["regions"] == 2


# Monotonicity (SPEC 2.1) -----------------------------------------------------------------

TIERS = [t.code.value for t in STANDARD.media_tiers]
REACH = {t.code.value: t.reach for t in STANDARD.media_tiers}

analyses = st.builds(
    Analysis,
    sentiment=st.sampled_from(["negative", "neutral", "positive"]),
    sentiment_score=st.floats(-1, 1),
    rumor_score=st.floats(0, 1),
    rumor=st.booleans(),
    offensive_score=st.floats(0, 1),
    offensive=st.booleans(),
    harms=st.lists(
        st.builds(
            Harm,
            type=st.sampled_from([h.code for h in STANDARD.harm_types]),
            terms=st.just(("词",)),
        ),
        max_size=2,
    ),
    category=st.sampled_from(["000", "300", "801", "903"]),
    signals=st.dictionaries(st.sampled_from(["crisis", "attack"]), st.just(("词",)), max_size=2),
)
counts = st.integers(0, 200_000)
spreads = st.builds(
    Spread,
    views=counts,
    reposts=counts,
    comments=counts,
    likes=counts,
    sites=st.integers(1, 50),
    story_items=st.integers(1, 500),
    institutions=st.integers(0, 5),
    regions=st.integers(0, 5),
    media_tier=st.sampled_from(TIERS),
    platform=st.sampled_from([p.code.value for p in STANDARD.platforms]),
)


@st.composite
def wider(draw: st.DrawFn, spread: Spread) -> Spread:
    """The same spread or more of it on every measure, and a tier of at least the same reach."""
    grow = st.integers(0, 100_000)
    tier = draw(st.sampled_from([t for t in TIERS if REACH[t] >= REACH[spread.media_tier]]))
    return replace(
        spread,
        views=spread.views + draw(grow),
        reposts=spread.reposts + draw(grow),
        comments=spread.comments + draw(grow),
        likes=spread.likes + draw(grow),
        sites=spread.sites + draw(st.integers(0, 20)),
        story_items=spread.story_items + draw(st.integers(0, 100)),
        institutions=spread.institutions + draw(st.integers(0, 3)),
        regions=spread.regions + draw(st.integers(0, 3)),
        media_tier=tier,
    )


@settings(max_examples=400, deadline=None)
@given(a=analyses, about=st.booleans(), spread=spreads, data=st.data())
def test_more_spread_never_lowers_a_negative_grade(
    a: Analysis, about: bool, spread: Spread, data: st.DataObject
) -> None:
    before = GRADER.grade(GradeFacts(a, spread, about_subject=about)).code
    after = GRADER.grade(GradeFacts(a, data.draw(wider(spread)), about_subject=about)).code
    if before in NEGATIVE:
        assert after in NEGATIVE and RANK[after] >= RANK[before]


@settings(max_examples=400, deadline=None)
@given(about=st.booleans(), spread=spreads, score=st.floats(0.01, 1))
def test_spread_never_turns_a_positive_item_negative(
    about: bool, spread: Spread, score: float
) -> None:
    praise = Analysis("positive", score, 0.01, False, 0.01, False)
    assert GRADER.grade(GradeFacts(praise, spread, about_subject=about)).code not in NEGATIVE


@settings(max_examples=400, deadline=None)
@given(a=analyses, about=st.booleans(), spread=spreads, special=st.booleans())
def test_skipping_negative_rules_for_calm_content_changes_no_grade(
    a: Analysis, about: bool, spread: Spread, special: bool
) -> None:
    """The shortcut for content with no negative signal gives what every rule would give."""
    facts = GradeFacts(a, spread, about_subject=about, special_period=special)
    every_rule = [
        (rule.id, evidence)
        for rule in GRADER._compiled
        if (evidence := GRADER._fires(rule, facts)) is not None
    ]
    assert sorted((r.rule, r.evidence) for r in GRADER.grade(facts).reasons) == sorted(every_rule)


# The rules file is checked at load -------------------------------------------------------


def _override(tmp_path: Path, text: str) -> Path:
    (tmp_path / "grading.yaml").write_text(text, encoding="utf-8")
    clear_standard_cache()
    return tmp_path


def test_negative_rule_on_spread_alone_is_refused(tmp_path: Path) -> None:
    text = (BUNDLED_DIR / "grading.yaml").read_text(encoding="utf-8")
    text += (
        "\n  - id: viral\n    grade: harmful\n    text: 传播广\n    when: [{views_at_least: 100}]\n"
    )
    with pytest.raises(ConfigError, match=r"viral.*负面内容条件"):
        load_standard(_override(tmp_path, text))


def test_unknown_codes_and_signals_are_refused(tmp_path: Path) -> None:
    base = (BUNDLED_DIR / "grading.yaml").read_text(encoding="utf-8")
    bad_harm = base + "\n  - id: x\n    grade: harmful\n    text: x\n    when: [{harm: [nope]}]\n"
    with pytest.raises(ConfigError, match="未知代码 nope"):
        load_standard(_override(tmp_path, bad_harm))
    bad_signal = (
        base + "\n  - id: y\n    grade: harmful\n    text: y\n    when: [{signal: panic}]\n"
    )
    with pytest.raises(ConfigError, match="未定义的词表 'panic'"):
        load_standard(_override(tmp_path, bad_signal))
    two_keys = (
        base
        + "\n  - id: z\n    grade: general\n    text: z\n"
        + "    when: [{rumor: true, offensive: true}]\n"
    )
    with pytest.raises(ConfigError, match="只能写一个键"):
        load_standard(_override(tmp_path, two_keys))
    non_spread = (
        base + "\n  - id: w\n    grade: general\n    text: w\n    spread: [{rumor: true}]\n"
    )
    with pytest.raises(ConfigError, match="spread 只能写传播条件"):
        load_standard(_override(tmp_path, non_spread))
    clear_standard_cache()


def test_an_edited_threshold_takes_effect(tmp_path: Path) -> None:
    text = (BUNDLED_DIR / "grading.yaml").read_text(encoding="utf-8")
    text = text.replace("{views_at_least: 10000}]", "{views_at_least: 500}]", 1)
    grader = Grader(load_standard(_override(tmp_path, text)))
    assert grader.grade(facts(NEGATIVE_TEXT, views=600)).code == "harmful"
    assert GRADER.grade(facts(NEGATIVE_TEXT, views=600)).code == "attention"
    clear_standard_cache()


def test_a_unit_and_the_units_above_it_are_one_institution_in_one_place() -> None:
    # 总行 (云南省) → 大理分行 (大理州) → 宾川支行 (宾川县); 曲靖分行 (曲靖市) beside 大理.
    parents = {10: None, 20: 10, 21: 20, 30: 10}
    regions = {10: "云南省", 20: "大理州", 21: "宾川县", 30: "曲靖市"}
    context = SubjectContext(
        names={1: "云岭农商银行", 2: "大理分行", 3: "宾川支行", 4: "曲靖分行"},
        units={1: (10, "云南省"), 2: (20, "大理州"), 3: (21, "宾川县"), 4: (30, "曲靖市")},
        parents=parents,
        regions=regions,
    )
    # The bank and its 宾川 branch, posted from 大理: one institution, one place.
    assert context.reach([1, 3], ["大理州"]) == (1, 1)
    # A post from 曲靖 about the bank: 曲靖 is inside the bank's territory.
    assert context.reach([1], ["曲靖市"]) == (1, 1)
    # Two branches side by side are two institutions in two regions.
    assert context.reach([2, 4], []) == (2, 2)
    # A place outside every matched unit's territory is another region.
    assert context.reach([3], ["成都市"]) == (1, 2)


def test_rumor_score_at_least_is_a_stricter_floor_than_the_rumor_label() -> None:
    rule = Rule.model_validate(
        {
            "id": "strict_rumor",
            "grade": "harmful",
            "text": "x",
            "when": [{"sentiment": "negative"}],
            "any": [{"rumor_score_at_least": 0.7}],
        }
    )
    rules = (*STANDARD.grading.rules, rule)
    grader = Grader(replace(STANDARD, grading=STANDARD.grading.model_copy(update={"rules": rules})))
    unsure = replace(NEGATIVE_TEXT, rumor=True, rumor_score=0.55)
    sure = replace(NEGATIVE_TEXT, rumor=True, rumor_score=0.85)
    assert "strict_rumor" not in {r.rule for r in grader.grade(facts(unsure)).reasons}
    fired = {r.rule: r.evidence for r in grader.grade(facts(sure)).reasons}
    assert fired["strict_rumor"]["rumor_score"] == 0.85
    assert fired["strict_rumor"]["at_least"] == 0.7
