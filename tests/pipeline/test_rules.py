"""Boolean subject rules: parsing, errors, evaluation and the canonical text form."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from yuqing.domain.text import to_match_text
from yuqing.errors import ConfigError, RuleSyntaxError
from yuqing.pipeline.rules import (
    MAX_DEPTH,
    MAX_RULE_LENGTH,
    And,
    Near,
    Node,
    Not,
    Or,
    Term,
    evaluate,
    format_rule,
    parse_rule,
    positive_terms,
    requirements,
    terms,
)

a, b, c, d = Term("a"), Term("b"), Term("c"), Term("d")


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("a", a),
        ("  a  ", a),
        ("a | b & c", Or((a, And((b, c))))),
        ("a & b | c", Or((And((a, b)), c))),
        ("(a | b) & c", And((Or((a, b)), c))),
        ("a & b & c", And((a, b, c))),
        ("a | b | c", Or((a, b, c))),
        ("!a", Not(a)),
        ("!a & b", And((Not(a), b))),
        ("!(a & b)", Not(And((a, b)))),
        ("!!a", Not(Not(a))),
        ("((a))", a),
        ("((a | b) & (c | !d))", And((Or((a, b)), Or((c, Not(d)))))),
        ("(a & b) & c", And((And((a, b)), c))),
        ("a&b|c", Or((And((a, b)), c))),
        ("near(a, b, 20)", Near("a", "b", 20)),
        ("NEAR ( a , b , 5 )", Near("a", "b", 5)),
        ("!near(a, b, 3) & c", And((Not(Near("a", "b", 3)), c))),
        ("near & a", And((Term("near"), a))),
        ("near(near, b, 1)", Near("near", "b", 1)),
    ],
)
def test_parse_structure(rule: str, expected: Node) -> None:
    assert parse_rule(rule) == expected


def test_spec_example() -> None:
    rule = parse_rule("(农商行 | 农信社) & (挤兑 | 取不出) & !招聘")
    assert rule == And(
        (
            Or((Term("农商行"), Term("农信社"))),
            Or((Term("挤兑"), Term("取不出"))),
            Not(Term("招聘")),
        )
    )


def test_full_width_operators_and_chinese_comma() -> None:
    assert parse_rule("（农商行 ｜ 农信社）＆ ！招聘") == parse_rule("(农商行 | 农信社) & !招聘")
    assert parse_rule("near（银行，挤兑，２０）") == Near("银行", "挤兑", 20)


def test_terms_are_put_in_match_form() -> None:
    assert parse_rule("雲嶺農商銀行 & ＡＴＭ") == And((Term("云岭农商银行"), Term("atm")))
    assert parse_rule('"ABC Bank"') == Term("abc bank")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('"a b"', Term("a b")),
        ('"a & (b)"', Term("a & (b)")),
        ('"say \\"hi\\""', Term('say "hi"')),
        ('"back\\\\slash"', Term("back\\slash")),
        ('"a\\b"', Term("a\\b")),
        ('"x"&"y"', And((Term("x"), Term("y")))),
        ('near("a b", c, 4)', Near("a b", "c", 4)),
    ],
)
def test_quoted_terms(rule: str, expected: Node) -> None:
    assert parse_rule(rule) == expected


@pytest.mark.parametrize(
    ("rule", "position", "reason"),
    [
        ("", 0, "空规则"),
        ("   ", 0, "空规则"),
        ("(a & b", 0, "缺少右括号"),
        ("a & (b | (c)", 4, "缺少右括号"),
        ("(", 0, "缺少右括号"),
        ("a)", 1, "未预期的字符 ')'"),
        ("a）", 1, "未预期的字符 '）'"),
        ("a &", 2, "运算符 & 后缺少词语"),
        ("a & | b", 2, "运算符 & 后缺少词语"),
        ("a |", 2, "运算符 | 后缺少词语"),
        ("(a | ) & b", 3, "运算符 | 后缺少词语"),
        ("!", 0, "运算符 ! 后缺少词语"),
        ("& a", 0, "运算符 & 前缺少词语"),
        ("()", 0, "括号中缺少词语"),
        ("a, b", 1, "未预期的字符 ','"),
        ("near(a, b, 0)", 11, "near() 的距离必须是正整数"),
        ("near(a, b, -3)", 11, "near() 的距离必须是正整数"),
        ("near(a, b, x)", 11, "near() 的距离必须是正整数"),
        ('near(a, b, "3")', 11, "near() 的距离必须是正整数"),
        ("near(a, b, )", 11, "near() 的距离必须是正整数"),
        ("near(a, b, 3", 4, "缺少右括号"),
        ('"abc', 0, '引号未闭合，缺少右引号 "'),
        ('a & ""', 4, "引号中的词语为空"),
    ],
)
def test_syntax_errors(rule: str, position: int, reason: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(rule)
    assert caught.value.position == position
    assert caught.value.reason == reason
    assert caught.value.rule == rule
    assert isinstance(caught.value, ConfigError)
    assert f"第 {position + 1} 个字符" in str(caught.value)


def test_missing_operator_suggests_and_or() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule("农商行 挤兑")
    assert caught.value.position == 4
    assert "缺少运算符" in caught.value.reason
    assert "&" in caught.value.reason and "|" in caught.value.reason


@pytest.mark.parametrize(
    ("rule", "position"),
    [("near(, b, 3)", 5), ("near(a b, 3)", 7), ("near(a, b, 3, 4)", 12), ("near(a, (b), 3)", 8)],
)
def test_near_errors(rule: str, position: int) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(rule)
    assert caught.value.position == position
    assert caught.value.reason.startswith("near()")


def test_length_limit() -> None:
    longest = ("x" + " | x" * 499).ljust(MAX_RULE_LENGTH)
    assert len(longest) == MAX_RULE_LENGTH
    assert isinstance(parse_rule(longest), Or)
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule("a" * (MAX_RULE_LENGTH + 1))
    assert caught.value.position == MAX_RULE_LENGTH
    assert "2000" in caught.value.reason


def test_depth_limit_is_an_error_not_a_recursion_error() -> None:
    ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse_rule(ok) == a
    assert parse_rule("!" * MAX_DEPTH + "a") is not None
    for deep in ("(" * 900 + "a" + ")" * 900, "!" * 1999 + "a", "(!" * 600 + "a"):
        with pytest.raises(RuleSyntaxError) as caught:
            parse_rule(deep)
        assert "嵌套" in caught.value.reason
        assert caught.value.position == MAX_DEPTH


# --- terms -----------------------------------------------------------------------------------


def test_terms_and_positive_terms() -> None:
    rule = parse_rule("(农商行 | 农信社) & near(挤兑, 银行, 9) & !招聘 & !(演习 | !培训)")
    assert terms(rule) == {"农商行", "农信社", "挤兑", "银行", "招聘", "演习", "培训"}
    assert positive_terms(rule) == {"农商行", "农信社", "挤兑", "银行"}


@pytest.mark.parametrize(
    ("rule", "clauses"),
    [
        ("a", [{"a"}]),
        ("(农商行 | 农信社) & 挤兑 & !招聘", [{"农商行", "农信社"}, {"挤兑"}]),
        ("near(a, b, 3)", [{"a"}, {"b"}]),
        ("a & b | c", [{"a", "c"}]),
        ("(a | b) & c | d & near(e, f, 2)", [{"c", "d"}]),
        ("!!a", [{"a"}]),
        ("!a", []),
        ("a | !b", []),
        ("!(!a | !b)", []),
    ],
)
def test_requirements(rule: str, clauses: list[set[str]]) -> None:
    assert requirements(parse_rule(rule)) == [frozenset(clause) for clause in clauses]


# --- evaluation ------------------------------------------------------------------------------


def _present(*words: str) -> dict[str, list[int]]:
    return {word: [0] for word in words}


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        ((), False),
        (("农商行",), False),
        (("农商行", "挤兑"), True),
        (("农信社", "取不出"), True),
        (("农商行", "农信社", "挤兑", "取不出"), True),
        (("农商行", "挤兑", "招聘"), False),
        (("挤兑", "取不出"), False),
    ],
)
def test_evaluate_spec_example(present: tuple[str, ...], expected: bool) -> None:
    rule = parse_rule("(农商行 | 农信社) & (挤兑 | 取不出) & !招聘")
    assert evaluate(rule, _present(*present)) is expected


@pytest.mark.parametrize(
    ("rule", "truth"),
    [
        # truth[i] is the value for (a, b) = (i & 2 != 0, i & 1 != 0), rows 00 01 10 11.
        ("a & b", (False, False, False, True)),
        ("a | b", (False, True, True, True)),
        ("!a", (True, True, False, False)),
        ("!a & b", (False, True, False, False)),
        ("!(a & b)", (True, True, True, False)),
        ("!(a | b)", (True, False, False, False)),
        ("a & !b", (False, False, True, False)),
    ],
)
def test_truth_tables(rule: str, truth: tuple[bool, bool, bool, bool]) -> None:
    node = parse_rule(rule)
    for row, (has_a, has_b) in enumerate(itertools.product((False, True), repeat=2)):
        positions = {"a": [1] if has_a else [], "b": [5] if has_b else []}
        assert evaluate(node, positions) is truth[row], (rule, has_a, has_b)


def test_precedence_in_evaluation() -> None:
    node = parse_rule("a | b & c")
    assert evaluate(node, _present("a")) is True
    assert evaluate(node, _present("b")) is False
    assert evaluate(node, _present("b", "c")) is True


def test_missing_terms_do_not_occur() -> None:
    assert evaluate(parse_rule("!a"), {}) is True
    assert evaluate(parse_rule("a"), {"a": []}) is False


@pytest.mark.parametrize(
    ("a_at", "b_at", "distance", "expected"),
    [
        ([10], [30], 20, True),
        ([10], [31], 20, False),
        ([31], [10], 20, False),
        ([30], [10], 20, True),
        ([0, 100, 200], [150, 400], 50, True),
        ([0, 100, 200], [149, 400], 40, False),
        ([], [1], 5, False),
        ([5], [5], 1, True),
    ],
)
def test_near(a_at: list[int], b_at: list[int], distance: int, expected: bool) -> None:
    assert evaluate(Near("a", "b", distance), {"a": a_at, "b": b_at}) is expected


def test_near_same_term_needs_two_occurrences() -> None:
    node = parse_rule("near(挤兑, 挤兑, 10)")
    assert evaluate(node, {"挤兑": [3]}) is False
    assert evaluate(node, {"挤兑": [3, 40]}) is False
    assert evaluate(node, {"挤兑": [3, 40, 48]}) is True


@given(
    st.lists(st.integers(0, 300), max_size=12, unique=True).map(sorted),
    st.lists(st.integers(0, 300), max_size=12, unique=True).map(sorted),
    st.integers(1, 100),
)
def test_near_agrees_with_a_double_loop(xs: list[int], ys: list[int], distance: int) -> None:
    expected = any(abs(x - y) <= distance for x in xs for y in ys)
    assert evaluate(Near("a", "b", distance), {"a": xs, "b": ys}) is expected


def test_ast_rejects_degenerate_nodes() -> None:
    with pytest.raises(ValueError):
        And((a,))
    with pytest.raises(ValueError):
        Or(())
    with pytest.raises(ValueError):
        Near("a", "b", 0)


# --- format ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "text"),
    [
        (Or((a, And((b, c)))), "a | b & c"),
        (And((Or((a, b)), c)), "(a | b) & c"),
        (Or((Or((a, b)), c)), "(a | b) | c"),
        (Not(And((a, b))), "!(a & b)"),
        (Not(Not(a)), "!!a"),
        (Near("a b", "c", 3), 'near("a b", c, 3)'),
        (Term('q"x\\'), '"q\\"x\\\\"'),
        (Term("near"), '"near"'),
    ],
)
def test_format(node: Node, text: str) -> None:
    assert format_rule(node) == text
    assert parse_rule(text) == node


_CHARS = st.one_of(
    st.sampled_from(list('ab银行挤兑農雲ＡＢ &|!(),"\\＆｜！（），\n\t　')),
    st.characters(codec="utf-8"),
)
_TERM_TEXT = (
    st.one_of(
        st.text(_CHARS, min_size=1, max_size=6), st.sampled_from(["near", "NEAR", "ｎｅａｒ"])
    )
    .map(to_match_text)
    .filter(lambda text: bool(text.strip()) and to_match_text(text) == text)
)
_LEAVES: st.SearchStrategy[Node] = st.one_of(
    _TERM_TEXT.map(Term),
    st.builds(Near, _TERM_TEXT, _TERM_TEXT, st.integers(1, 10**6)),
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    operands = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(children.map(Not), operands.map(And), operands.map(Or))


_NODES = st.recursive(_LEAVES, _extend, max_leaves=16)


def _depth(node: Node) -> int:
    """Nesting the parser counts: one level per `!` and per parenthesised group."""
    if isinstance(node, Not):
        return 1 + _depth(node.node)
    if isinstance(node, And | Or):
        return max(_depth(child) for child in node.nodes) + 1
    return 0


@given(_NODES)
def test_format_then_parse_round_trips(node: Node) -> None:
    assume(_depth(node) <= MAX_DEPTH)
    text = format_rule(node)
    assert parse_rule(text) == node
    assert format_rule(parse_rule(text)) == text


_SMALL_NODES = st.recursive(
    st.one_of(
        st.sampled_from("abc").map(Term),
        st.builds(Near, st.sampled_from("abc"), st.sampled_from("abc"), st.integers(1, 20)),
    ),
    _extend,
    max_leaves=8,
)
_POSITIONS: st.SearchStrategy[Mapping[str, Sequence[int]]] = st.dictionaries(
    st.sampled_from("abc"), st.lists(st.integers(0, 60), max_size=5, unique=True).map(sorted)
)


@given(_SMALL_NODES, _POSITIONS)
def test_not_negates(node: Node, positions: Mapping[str, Sequence[int]]) -> None:
    assert evaluate(Not(node), positions) is (not evaluate(node, positions))


@given(_SMALL_NODES, _POSITIONS)
def test_terms_outside_the_rule_do_not_matter(
    node: Node, positions: Mapping[str, Sequence[int]]
) -> None:
    noisy = {**positions, "unrelated": [1, 2, 3]}
    assert evaluate(node, noisy) is evaluate(node, positions)
    assert positive_terms(node) <= terms(node)


@given(_SMALL_NODES, _POSITIONS)
def test_a_rule_that_holds_meets_its_requirements(
    node: Node, positions: Mapping[str, Sequence[int]]
) -> None:
    present = {term for term, starts in positions.items() if starts}
    if evaluate(node, positions):
        assert all(clause & present for clause in requirements(node))
    if requirements(node):
        assert evaluate(node, {}) is False
