"""Monitored-subject matching over items in match form."""

from __future__ import annotations

from datetime import UTC, datetime

import ahocorasick_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.domain import Item, MatchSpan, Metrics, RawItem, SubjectMatch, SubjectSpec
from yuqing.domain.enums import MediaTier, Platform
from yuqing.domain.text import to_match_text
from yuqing.errors import ConfigError, RuleSyntaxError
from yuqing.pipeline.base import Batch
from yuqing.pipeline.match import Match, SubjectMatcher
from yuqing.pipeline.rules import Node, evaluate, parse_rule, terms

SPEC_RULE = "(农商行 | 农信社) & (挤兑 | 取不出) & !招聘"


def run(subjects: list[SubjectSpec], title: str, content: str = "") -> list[SubjectMatch]:
    """Match raw title and content, put in match form first as the normalize stage does."""
    return SubjectMatcher(subjects).match(to_match_text(title), to_match_text(content))


def ids(matches: list[SubjectMatch]) -> list[int]:
    return [m.subject_id for m in matches]


def make_item(title: str, content: str) -> Item:
    return Item(
        raw=RawItem(content=content, title=title),
        title=title,
        content=content,
        url=None,
        canonical_url=None,
        host=None,
        author=None,
        platform=Platform.OTHER,
        media_tier=MediaTier.OTHER,
        region=None,
        published_at=None,
        discovered_at=datetime(2026, 1, 5, tzinfo=UTC),
        metrics=Metrics(),
        match_title=to_match_text(title),
        match_content=to_match_text(content),
        content_hash="",
    )


# --- the automaton library -------------------------------------------------------------------


def test_ahocorasick_offsets_are_str_indices() -> None:
    automaton = ahocorasick_rs.AhoCorasick(
        ["农商", "农商行", "😀a"],
        matchkind=ahocorasick_rs.MatchKind.Standard,
        implementation=ahocorasick_rs.Implementation.ContiguousNFA,
    )
    text = "😀a𠀀农商行é农商"
    found = automaton.find_matches_as_indexes(text, overlapping=True)
    assert found == [(2, 0, 2), (0, 3, 5), (1, 3, 6), (0, 7, 9)]
    assert all(text[start:end] == ["农商", "农商行", "😀a"][p] for p, start, end in found)


# --- subjects without a rule -----------------------------------------------------------------


def test_name_and_alias_match() -> None:
    subjects = [SubjectSpec(7, "云岭农商银行", aliases=("云岭农商行",)), SubjectSpec(8, "滇中银行")]
    assert ids(run(subjects, "云岭农商银行发布年报")) == [7]
    assert ids(run(subjects, "", "据悉，云岭农商行今日……")) == [7]
    assert ids(run(subjects, "无关新闻", "天气晴")) == []


def test_traditional_script_and_full_width_match() -> None:
    subjects = [SubjectSpec(1, "云岭农商银行"), SubjectSpec(2, "ATM", aliases=("ＡＢＣ銀行",))]
    assert ids(run(subjects, "「雲嶺農商銀行」回應")) == [1]
    assert ids(run(subjects, "", "ＡＴＭ机吞卡")) == [2]
    assert ids(run(subjects, "atm 故障")) == [2]
    assert ids(run(subjects, "abc银行")) == [2]


def test_exclusion_vetoes_anywhere() -> None:
    subjects = [SubjectSpec(1, "云岭", aliases=("云岭农商",), exclude=("云岭山脉", "旅游"))]
    assert ids(run(subjects, "云岭农商行")) == [1]
    assert ids(run(subjects, "云岭农商行", "组织员工旅游")) == []
    assert ids(run(subjects, "云岭山脉风光", "")) == []


def test_blank_terms_are_ignored() -> None:
    subjects = [SubjectSpec(1, "云岭农商", aliases=("", "  "), exclude=(" ",))]
    matcher = SubjectMatcher(subjects)
    assert matcher.term_count == 1
    assert ids(matcher.match("云岭农商", "")) == [1]


def test_subject_with_nothing_to_match_is_a_config_error() -> None:
    # A blank name leaves the id to name the subject by.
    with pytest.raises(ConfigError, match="「#2」"):
        SubjectMatcher([SubjectSpec(1, "云岭"), SubjectSpec(2, "　", aliases=("", " "))])
    with pytest.raises(ConfigError, match="「#3」"):
        SubjectMatcher([SubjectSpec(3, " ", exclude=("招聘",))])
    # A rule is enough.
    assert len(SubjectMatcher([SubjectSpec(4, "", rule="挤兑")])) == 1


# --- subjects with a rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "content", "matches"),
    [
        ("某农商行发生挤兑", "", True),
        ("农信社", "储户反映钱取不出来", True),
        ("農信社", "儲戶反映錢取不出", True),
        ("农商行挤兑", "农商行招聘柜员", False),
        ("农商行", "服务升级", False),
        ("挤兑", "取不出", False),
    ],
)
def test_spec_rule(title: str, content: str, matches: bool) -> None:
    subjects = [SubjectSpec(1, "农商系统", rule=SPEC_RULE)]
    assert ids(run(subjects, title, content)) == ([1] if matches else [])


def test_name_alone_does_not_match_a_rule_subject_but_is_highlighted() -> None:
    subjects = [SubjectSpec(1, "云岭农商银行", rule="挤兑 | 取不出")]
    assert run(subjects, "云岭农商银行", "一切正常") == []
    [match] = run(subjects, "云岭农商银行", "出现挤兑")
    assert match.spans == [
        MatchSpan("title", 0, 6, "云岭农商银行"),
        MatchSpan("content", 2, 4, "挤兑"),
    ]


def test_rule_subject_is_vetoed_by_exclusion() -> None:
    subjects = [SubjectSpec(1, "农商", rule="农商行 & 挤兑", exclude=("演练",))]
    assert ids(run(subjects, "农商行挤兑")) == [1]
    assert ids(run(subjects, "农商行挤兑", "应急演练")) == []


def test_negated_terms_are_not_highlighted() -> None:
    [match] = run([SubjectSpec(1, "x", rule="挤兑 & !(招聘 & 柜员)")], "挤兑与招聘")
    assert [span.term for span in match.spans] == ["挤兑"]


def test_rule_true_without_any_term_is_checked_on_every_text() -> None:
    subjects = [SubjectSpec(1, "非招聘", rule="!招聘"), SubjectSpec(2, "云岭")]
    assert ids(run(subjects, "天气晴")) == [1]
    assert ids(run(subjects, "云岭")) == [1, 2]
    assert ids(run(subjects, "招聘")) == []
    [match] = run(subjects[:1], "天气晴")
    assert match.spans == []


@pytest.mark.parametrize(
    ("content", "matches"),
    [
        ("银行发生挤兑", True),  # starts 0 and 4
        ("银行一二三四五六挤兑", True),  # starts 0 and 8
        ("银行一二三四五六七挤兑", False),  # starts 0 and 9
        ("挤兑一二三四五六银行", True),  # order does not matter
        ("银行" + "。" * 30 + "挤兑" + "。" * 3 + "银行", True),  # a later pair is near
    ],
)
def test_near_distance(content: str, matches: bool) -> None:
    subjects = [SubjectSpec(1, "x", rule="near(银行, 挤兑, 8)")]
    assert ids(run(subjects, "", content)) == ([1] if matches else [])


def test_near_may_pair_title_and_content() -> None:
    subjects = [SubjectSpec(1, "x", rule="near(银行, 挤兑, 5)")]
    # 银行 at 0 in "银行\n挤兑…": 挤兑 starts at 3 in the combined text.
    assert ids(run(subjects, "银行", "挤兑")) == [1]


def test_terms_do_not_match_across_title_and_content() -> None:
    subjects = [SubjectSpec(1, "x", rule='"银行\n挤兑"'), SubjectSpec(2, "银行挤兑")]
    assert run(subjects, "银行", "挤兑") == []
    assert ids(run(subjects, "", "银行\n挤兑")) == [1]


def test_invalid_rule_names_the_subject() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        SubjectMatcher([SubjectSpec(1, "云岭农商", rule="(农商行 & 挤兑")])
    assert caught.value.position == 0
    assert caught.value.reason == "主题「云岭农商」：缺少右括号"
    assert "云岭农商" in str(caught.value)


def test_blank_rule_means_no_rule() -> None:
    assert ids(run([SubjectSpec(1, "云岭", rule="  ")], "云岭")) == [1]


def test_rules_found_through_any_clause() -> None:
    # Looked up by one clause (the longer words), evaluated only when every clause is met.
    subjects = [
        SubjectSpec(1, "甲", rule="(农商行 | 农信社) & 挤兑"),
        SubjectSpec(2, "乙", rule="!(!银行 | !挤兑)"),  # no clause to look it up by
        SubjectSpec(3, "丙", rule="银行 & near(储户, 挤兑, 4) | 取不出钱"),
    ]
    assert ids(run(subjects, "农信社", "挤兑")) == [1]
    assert ids(run(subjects, "挤兑", "")) == []
    assert ids(run(subjects, "银行挤兑")) == [2]
    assert ids(run(subjects, "银行", "储户挤兑")) == [2, 3]
    assert ids(run(subjects, "", "取不出钱")) == [3]


# --- spans -----------------------------------------------------------------------------------


def test_span_offsets_are_per_field() -> None:
    title = to_match_text("😀云岭农商银行：农商行回应")
    content = to_match_text("昨日，雲嶺農商銀行表示；云岭农商银行一切正常")
    subject = SubjectSpec(1, "云岭农商银行", aliases=("农商行",))
    [match] = SubjectMatcher([subject]).match(title, content)
    fields = {"title": title, "content": content}
    assert match.spans == [
        MatchSpan("title", 1, 7, "云岭农商银行"),
        MatchSpan("title", 8, 11, "农商行"),
        MatchSpan("content", 3, 9, "云岭农商银行"),
        MatchSpan("content", 12, 18, "云岭农商银行"),
    ]
    for span in match.spans:
        assert fields[span.field][span.start : span.end] == span.term


def test_overlapping_terms_are_all_found() -> None:
    subjects = [SubjectSpec(1, "农商", aliases=("农商行", "商行"))]
    [match] = run(subjects, "", "某农商行")
    assert [(s.start, s.end, s.term) for s in match.spans] == [
        (1, 3, "农商"),
        (1, 4, "农商行"),
        (2, 4, "商行"),
    ]


def test_spans_are_deduplicated() -> None:
    # 挤兑 is both an alias and a rule term: one span per occurrence.
    subjects = [SubjectSpec(1, "挤兑", rule="挤兑 | 挤提")]
    [match] = run(subjects, "挤兑", "又见挤兑")
    assert match.spans == [MatchSpan("title", 0, 2, "挤兑"), MatchSpan("content", 2, 4, "挤兑")]


# --- many subjects ---------------------------------------------------------------------------


def test_many_subjects_sharing_a_term() -> None:
    subjects = [
        SubjectSpec(
            100 + i, f"第{i}号网点", aliases=("农商行",), exclude=("招聘",) if i % 2 else ()
        )
        for i in range(50)
    ]
    subjects.append(SubjectSpec(999, "农信", rule="农商行 & 挤兑"))
    matcher = SubjectMatcher(subjects)
    assert matcher.term_count == 50 + 4  # 50 names; 农商行, 招聘, 农信 and 挤兑 once each
    assert ids(matcher.match("农商行", "")) == [100 + i for i in range(50)]
    assert ids(matcher.match("农商行招聘", "")) == [100 + i for i in range(0, 50, 2)]
    assert ids(matcher.match("农商行", "挤兑")) == [*range(100, 150), 999]
    assert ids(matcher.match("第7号网点", "")) == [107]


def test_results_follow_subject_order_and_ids() -> None:
    subjects = [SubjectSpec(30, "乙"), SubjectSpec(10, "甲"), SubjectSpec(20, "甲乙")]
    assert ids(run(subjects, "甲乙")) == [30, 10, 20]


# --- no subjects and the stage ---------------------------------------------------------------


def test_no_subjects() -> None:
    matcher = SubjectMatcher([])
    assert len(matcher) == 0 and not matcher
    assert matcher.term_count == 0
    assert matcher.match("云岭农商银行", "挤兑") == []


def test_stage_sets_subjects() -> None:
    stage = Match(SubjectMatcher([SubjectSpec(5, "云岭农商银行", exclude=("招聘",))]))
    assert stage.name == "match"
    items = [
        make_item("雲嶺農商銀行", "回應"),
        make_item("无关", "内容"),
        make_item("云岭农商银行招聘", ""),
    ]
    batch = stage.process(Batch(items=items))
    assert batch.items is items
    assert [ids(item.subjects) for item in items] == [[5], [], []]
    assert items[0].subjects[0].spans == [MatchSpan("title", 0, 6, "云岭农商银行")]


def test_stage_without_subjects_is_a_no_op() -> None:
    item = make_item("云岭农商银行", "")
    item.subjects = [SubjectMatch(1, [])]
    batch = Match(SubjectMatcher([])).process(Batch(items=[item]))
    assert batch.items[0].subjects == [SubjectMatch(1, [])]


# --- against a plain reference ---------------------------------------------------------------

_WORDS = st.text(st.sampled_from("abc"), min_size=1, max_size=2)
_TEXTS = st.text(st.sampled_from("abcd\n"), max_size=24)
_RULES = st.sampled_from(
    [
        None,
        "a",
        "!a",
        "a & b",
        "ab | !c",
        "near(a, b, 3)",
        "near(a, a, 2) & !bc",
        "!(!a | !b)",
        "(a | b) & (c | !ab)",
        "a & b & c & !ca",
        '"b\na" | cc',
    ]
)


def _occurrences(term: str, title: str, content: str) -> list[int]:
    """Start offsets in title + "\n" + content, leaving out those spanning the separator."""
    text = f"{title}\n{content}"
    return [
        i
        for i in range(len(text))
        if text.startswith(term, i) and not i <= len(title) < i + len(term)
    ]


def _reference(subject: SubjectSpec, title: str, content: str) -> bool:
    if any(_occurrences(term, title, content) for term in subject.exclude):
        return False
    if subject.rule is None:
        return any(_occurrences(t, title, content) for t in (subject.name, *subject.aliases))
    rule: Node = parse_rule(subject.rule)
    return evaluate(rule, {t: _occurrences(t, title, content) for t in terms(rule)})


@given(
    st.lists(
        st.tuples(_WORDS, st.lists(_WORDS, max_size=2), st.lists(_WORDS, max_size=1), _RULES),
        min_size=1,
        max_size=6,
    ),
    _TEXTS,
    _TEXTS,
)
def test_agrees_with_a_plain_reference(
    raw: list[tuple[str, list[str], list[str], str | None]], title: str, content: str
) -> None:
    subjects = [
        SubjectSpec(i, name, tuple(aliases), tuple(exclude), rule)
        for i, (name, aliases, exclude, rule) in enumerate(raw)
    ]
    matches = SubjectMatcher(subjects).match(title, content)
    assert ids(matches) == [s.id for s in subjects if _reference(s, title, content)]
    for match in matches:
        for span in match.spans:
            field = title if span.field == "title" else content
            assert field[span.start : span.end] == span.term
