"""The match-text fold: its fast path must give exactly what NFKC + casefold + t2s gives."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from yuqing.domain.text import to_match_text, to_simplified


def reference(text: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", text).casefold())


# Chinese text with the punctuation and width variants that posts carry, plus combining marks
# (which could compose with a replaced neighbour if the fast path were wrong).
_ALPHABET = st.sampled_from(
    [*"银行挤兑臺灣，！？：；（）％～…．①ＡＢｃ１２ \u3000\n", "\u0301", "\u0308", "e", "A", "ß"]
)


@given(st.text(_ALPHABET, max_size=40))
def test_fast_path_equals_the_definition(text: str) -> None:
    assert to_match_text(text) == reference(text)


@given(st.text(max_size=30))
def test_any_text_folds_like_the_definition(text: str) -> None:
    assert to_match_text(text) == reference(text)


def test_examples() -> None:
    assert to_match_text("臺灣銀行！ＡＴＭ…") == "台湾银行!atm..."
    assert to_match_text("（１００％）") == "(100%)"
