"""Full-text search finds 1-, 2- and longer Chinese terms on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.domain.text import to_match_text
from yuqing.errors import InputError
from yuqing.store import search
from yuqing.store.browse import ItemFilter, list_items
from yuqing.store.db import Database
from yuqing.store.tables import Item, utcnow

DOCS = {
    "run": ("网传某农商行发生挤兑", "储户排队取款，银行称资金充足，系统运行正常。"),
    "atm": ("ATM机故障吞卡", "客户投诉自助取款机吞卡，12345热线已受理。"),
    "trad": ("臺灣銀行擠兌傳聞", "當地居民稱銀行門口排起長隊。"),
    "job": ("农商行2026年招聘公告", "本行招聘柜员若干名，欢迎报名。"),
    "split": ("通知", "资金，充足率达标。"),  # 资金 and 充足, but not the phrase 资金充足
}


def _store(db: Database) -> dict[str, int]:
    ids: dict[str, int] = {}
    with db.session() as session:
        for key, (title, content) in DOCS.items():
            row = Item(
                title=title,
                content=content,
                platform="news",
                media_tier="local",
                discovered_at=utcnow(),
                content_hash=key,
            )
            session.add(row)
            session.flush()
            ids[key] = row.id
        search.index_items(
            session,
            [(ids[k], to_match_text(t), to_match_text(c)) for k, (t, c) in DOCS.items()],
        )
    return ids


def _found(db: Database, q: str) -> set[int]:
    with db.session() as session:
        return {i.id for i in list_items(session, ItemFilter(q=q), per_page=100).items}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("挤兑", {"run", "trad"}),  # 2 characters, and found in traditional script too
        ("兑", {"run", "trad"}),  # 1 character
        ("银行", {"run", "trad"}),
        ("资金充足", {"run"}),  # a phrase of 4 characters, never across punctuation
        ("充足资金", set()),  # the same characters out of order do not match
        ("资金", {"run", "split"}),
        ("资金充足率", set()),  # "资金，充足率" has the characters, split by punctuation
        ("农商行 -招聘", {"run"}),  # exclusion
        ("atm", {"atm"}),  # latin, case-insensitive
        ("12345", {"atm"}),
        ("吞卡 投诉", {"atm"}),  # two terms, both required
        ('"吞卡 投诉"', {"atm"}),
        ("擠兌", {"run", "trad"}),  # a traditional query finds both scripts
        ("行", {"run", "trad", "job"}),  # last character of a run
    ],
)
def test_search_finds_short_and_long_terms(db: Database, query: str, expected: set[str]) -> None:
    ids = _store(db)
    assert _found(db, query) == {ids[k] for k in expected}


def test_unindex_removes_rows(db: Database) -> None:
    ids = _store(db)
    title, content = DOCS["atm"]
    with db.session() as session:
        search.unindex_items(session, [(ids["atm"], to_match_text(title), to_match_text(content))])
    assert _found(db, "吞卡") == set()
    assert _found(db, "挤兑") == {ids["run"], ids["trad"]}


@pytest.mark.parametrize(
    ("query", "message"),
    [("-招聘", "只有排除词"), ("!!! ...", "没有可检索"), ("银" * 201, "过长")],
)
def test_bad_queries_are_refused_in_words(query: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        search.parse_query(query)


def test_blank_query_is_no_query() -> None:
    assert search.parse_query("   ") is None


def test_fts_syntax_in_user_input_is_inert() -> None:
    q = search.parse_query('银行" OR * NEAR( )')
    assert q is not None
    expr = search.fts5_expression(q)
    assert expr.count('"') % 2 == 0


def _has_phrase(tokens: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


@given(
    st.text(alphabet="银行挤兑，a1 ", max_size=30),
    st.text(alphabet="银行挤兑", min_size=1, max_size=4),
)
def test_both_token_forms_find_a_term_exactly_where_a_run_contains_it(text: str, term: str) -> None:
    """SQLite's characters and PostgreSQL's bigrams match the same texts for a CJK term: those
    with a run of CJK characters that contains the term."""
    expected = any(term in run for run in re.findall("[银行挤兑]+", text))
    characters = search.fts5_tokens(text).split(" ")
    assert _has_phrase(characters, list(term)) == expected
    bigrams = search.tsvector_tokens(text).split()
    if len(term) == 1:  # a prefix query
        assert any(t.startswith(term) for t in bigrams) == expected
    else:
        assert _has_phrase(bigrams, [a + b for a, b in pairwise(term)]) == expected


def test_token_forms() -> None:
    text = to_match_text("銀行業，ATM機 12345")
    assert search.fts5_tokens(text) == "银 行 业 \ue000 atm \ue000 机 \ue000 12345"
    assert search.tsvector_tokens(text) == "银行 行业 业 atm 机 12345"
    assert search.fts5_tokens("，。") == search.tsvector_tokens("") == ""


def test_highlight_marks_terms_in_original_script() -> None:
    pieces = search.highlight("臺灣銀行擠兌", ["银行"])
    assert pieces == [("臺灣", False), ("銀行", True), ("擠兌", False)]
    assert "".join(p for p, _ in search.highlight("abc银行", ["银行", "b"])) == "abc银行"


def test_highlight_survives_characters_that_fold_to_several() -> None:
    pieces = search.highlight("…陆良擠兌、ＡＴＭ", ["挤兑", "atm"])
    assert [p for p, hit in pieces if hit] == ["擠兌", "ＡＴＭ"]
