"""The one text form used for matching, hashing and search: NFKC, case-folded, simplified.

Pure functions, no I/O: every layer (pipeline, store search, web highlighting) uses them.

Every term a user types (subject names, rules, search queries) and every item text passes
through `to_match_text`, so 「臺灣銀行」, 「台湾银行」 and full-width 「ＡＴＭ」 meet.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s.json")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s, phrase-aware)."""
    if text.isascii():
        return text
    result: str = _converter().convert(text)
    return result


def to_match_text(text: str) -> str:
    """Fold width, case and script so that equal words compare equal."""
    return to_simplified(unicodedata.normalize("NFKC", text).casefold())
