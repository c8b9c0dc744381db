"""Term lists searched a batch at a time: per-text results equal text-by-text search."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.errors import ConfigError
from yuqing.pipeline.analyze.terms import BatchAutomaton, TermIndex

LISTS = {"crisis": ["挤兑", "取不出钱"], "bank": ["银行", "农商银行"], "en": ["ATM"]}


def test_terms_are_found_per_text_without_straddling_two_texts() -> None:
    index = TermIndex(LISTS)
    # "挤" ends the first text and "兑" starts the next: no 挤兑 may be found across them.
    found = index.find_many(["农商银行门口排队挤", "兑", "", "atm 取不出钱，挤兑"])
    assert found[0] == {"bank": ("银行", "农商银行")} or found[0] == {"bank": ("农商银行", "银行")}
    assert found[1] == {} and found[2] == {}
    assert found[3] == {"en": ("atm",), "crisis": ("取不出钱", "挤兑")}


_TEXT = st.text(st.sampled_from(list("农商银行挤兑取不出钱atm😀é\n ")), max_size=30)


@given(st.lists(_TEXT, max_size=8))
def test_batch_search_finds_exactly_the_substrings_of_each_text(texts: list[str]) -> None:
    index = TermIndex(LISTS)
    found = index.find_many(texts)
    assert found == [index.find(t) for t in texts]
    for text, named in zip(texts, found, strict=True):
        expected = {
            name: {t.lower() for t in terms if t.lower() in text} for name, terms in LISTS.items()
        }
        assert {name: set(terms) for name, terms in named.items()} == {
            name: terms for name, terms in expected.items() if terms
        }


def test_a_term_with_a_line_break_is_refused() -> None:
    with pytest.raises(ConfigError, match="换行"):
        BatchAutomaton(["挤\n兑"])


def test_a_term_inside_a_benign_phrase_does_not_count() -> None:
    index = TermIndex({"crisis": ["跑路", "挤兑"]}, {"crisis": ["少跑路"]})
    assert index.find_many(
        ["让群众少跑路", "老板跑路了", "少跑路，但有人挤兑", "少跑路，又跑路了"]
    ) == [
        {},
        {"crisis": ("跑路",)},
        {"crisis": ("挤兑",)},
        {"crisis": ("跑路",)},
    ]
    # The phrase masks only its own list.
    both = TermIndex({"crisis": ["跑路"], "other": ["跑路"]}, {"crisis": ["少跑路"]})
    assert both.find("少跑路") == {"other": ("跑路",)}


def test_an_exclusion_that_contains_no_term_is_refused() -> None:
    from pydantic import ValidationError

    from yuqing.standard.grading import Signal

    with pytest.raises(ValidationError, match="不含本词表的任何词条"):
        Signal(name="危机词", terms=("挤兑",), exclude=("少跑路",))
