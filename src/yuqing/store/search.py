"""Chinese full-text search that finds 1- and 2-character terms, on SQLite and PostgreSQL.

Search is by characters, never by words (Chinese has no spaces to split on), and each database
gets the token form that suits its index; both answer the same queries with the same results:

- **SQLite** (FTS5, contentless table `items_fts`, rowid = item id): one token per CJK
  character, so a term is the phrase of its characters and a single character is one token.
  Building this index costs a quarter of an index of overlapping bigrams with a prefix index
  for 1-character terms (a few thousand distinct tokens instead of hundreds of thousands, see
  benchmarks/README.md); the positions FTS5 keeps make the phrase exact. Between two runs (a
  CJK run, a Latin word, a number) stands `RUN_BREAK`, a token no query contains, so a
  phrase never spans punctuation or a space: "资金，充足" does not match "资金充足".
- **PostgreSQL** (`tsvector` in `item_search`, 'simple' configuration, GIN index): overlapping
  character bigrams ("银行业" → "银行 行业 业"), a term being the phrase of its bigrams (`<->`)
  and a single character a prefix (`:*`). GIN keeps no positions, so a phrase of common
  single characters would recheck most rows; bigrams keep phrases selective. Runs are
  separate because no bigram spans two of them.

Latin words and numbers are whole tokens, searched as prefixes on both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import ColumnElement, Integer, column, select, table, text
from sqlalchemy.orm import Session

from yuqing.domain.text import to_match_text
from yuqing.errors import InputError

_RUNS = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+)|([0-9a-z]+)")
_QUERY_TERMS = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
MAX_QUERY_CHARS = 200


RUN_BREAK = "\ue000"
"""The SQLite token between two runs: a private-use character, which no query can contain."""


def fts5_tokens(match_text: str) -> str:
    """The SQLite FTS5 token string of `match_text` (already match-normalized).

    "银行业，ATM" → "银 行 业 \ue000 atm": every CJK character a token, a Latin word or a
    number one token, `RUN_BREAK` between runs.
    """
    return f" {RUN_BREAK} ".join(
        " ".join(cjk) if cjk else word for cjk, word in _RUNS.findall(match_text)
    )


def tsvector_tokens(match_text: str) -> str:
    """The PostgreSQL token string of `match_text`: overlapping bigrams of each CJK run.

    "银行业，ATM" → "银行 行业 业 atm": every position of a run starts a token, the last one a
    single character, so a 1-character prefix query finds every occurrence.
    """
    out: list[str] = []
    for cjk, word in _RUNS.findall(match_text):
        if cjk:
            out.extend(a + b for a, b in pairwise(cjk))
            out.append(cjk[-1])
        else:
            out.append(word)
    return " ".join(out)


@dataclass(slots=True, frozen=True)
class SearchQuery:
    """A parsed query: every `include` term must occur, no `exclude` term may.

    Syntax: terms separated by spaces are all required; `-词` excludes; `"两个 词"` keeps
    spaces inside one term.
    """

    include: tuple[str, ...]
    exclude: tuple[str, ...]

    @property
    def highlight_terms(self) -> tuple[str, ...]:
        return self.include


def parse_query(raw: str) -> SearchQuery | None:
    """Parse a user query; None for a blank one; InputError for one that cannot run."""
    raw = raw.strip()
    if not raw:
        return None
    if len(raw) > MAX_QUERY_CHARS:
        raise InputError("搜索", f"搜索词过长（{len(raw)} 个字符，最多 {MAX_QUERY_CHARS}）")
    include: list[str] = []
    exclude: list[str] = []
    for neg_q, quoted, neg, bare in _QUERY_TERMS.findall(raw):
        term = to_match_text(quoted if quoted or neg_q else bare).strip()
        if not _RUNS.search(term):
            continue
        (exclude if (neg_q or neg) else include).append(term)
    if not include:
        if exclude:
            raise InputError("搜索", "搜索词不能只有排除词（以 - 开头的词），请加上要查找的词")
        raise InputError("搜索", f"搜索词 {raw!r} 中没有可检索的文字或数字")
    return SearchQuery(tuple(include), tuple(exclude))


def _fts5_term(term: str) -> str:
    """One query term as FTS5 phrases, all required: a CJK run is the phrase of its characters,
    a Latin word or number a prefix."""
    phrases = [f'"{" ".join(cjk)}"' if cjk else f'"{word}"*' for cjk, word in _RUNS.findall(term)]
    return "(" + " AND ".join(phrases) + ")"


def _tsquery_term(term: str) -> str:
    """One query term as tsquery phrases, all required: a CJK run of two or more characters is
    the phrase of its bigrams, one character or a Latin word a prefix."""
    phrases = []
    for cjk, word in _RUNS.findall(term):
        if len(cjk) > 1:
            phrases.append(" <-> ".join(f"'{a}{b}'" for a, b in pairwise(cjk)))
        else:
            phrases.append(f"'{cjk or word}':*")
    return "(" + " & ".join(phrases) + ")"


def fts5_expression(query: SearchQuery) -> str:
    """The FTS5 MATCH expression for `query`."""
    expr = " AND ".join(_fts5_term(t) for t in query.include)
    for term in query.exclude:
        expr = f"({expr}) NOT {_fts5_term(term)}"
    return expr


def tsquery_expression(query: SearchQuery) -> str:
    """The PostgreSQL to_tsquery('simple', ...) expression for `query`."""
    expr = " & ".join(_tsquery_term(t) for t in query.include)
    for term in query.exclude:
        expr = f"({expr}) & !{_tsquery_term(term)}"
    return expr


def matching_item_ids(session: Session, query: SearchQuery) -> ColumnElement[bool]:
    """A WHERE clause on items.id selecting the items that match `query`."""
    item_id = column("id", Integer)
    if session.get_bind().dialect.name == "sqlite":
        fts = table("items_fts", column("rowid", Integer))
        sub = select(fts.c.rowid).where(
            text("items_fts MATCH :fts_query").bindparams(fts_query=fts5_expression(query))
        )
    else:
        idx = table("item_search", column("item_id", Integer))
        sub = select(idx.c.item_id).where(
            text("document @@ to_tsquery('simple', :ts_query)").bindparams(
                ts_query=tsquery_expression(query)
            )
        )
    return item_id.in_(sub.scalar_subquery())


def index_items(session: Session, rows: Sequence[tuple[int, str, str]]) -> None:
    """Index (item id, match title, match content) rows for search, in the current transaction."""
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite":
        # Plain values straight to the driver: SQLAlchemy's per-row parameter handling has
        # nothing to do here and costs several µs per row.
        session.connection().exec_driver_sql(
            "INSERT INTO items_fts(rowid, title, content) VALUES (?, ?, ?)",
            [(i, fts5_tokens(t), fts5_tokens(c)) for i, t, c in rows],
        )
    else:
        session.connection().execute(
            text(
                "INSERT INTO item_search(item_id, document) VALUES "
                "(:id, setweight(to_tsvector('simple', :title), 'A') || "
                "to_tsvector('simple', :content))"
            ),
            [
                {"id": i, "title": tsvector_tokens(t), "content": tsvector_tokens(c)}
                for i, t, c in rows
            ],
        )


def unindex_items(session: Session, rows: Iterable[tuple[int, str, str]]) -> None:
    """Remove rows indexed with `index_items` (FTS5 contentless tables need the old tokens)."""
    rows = list(rows)
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(
                "INSERT INTO items_fts(items_fts, rowid, title, content) "
                "VALUES ('delete', :id, :title, :content)"
            ),
            [{"id": i, "title": fts5_tokens(t), "content": fts5_tokens(c)} for i, t, c in rows],
        )
    else:
        session.execute(
            text("DELETE FROM item_search WHERE item_id = ANY(:ids)"), {"ids": [r[0] for r in rows]}
        )


def _fold_aligned(text_: str) -> str:
    """The match form of `text_` with one character per original character.

    Folding a whole string can change its length (NFKC turns "…" into "..."); then each
    character is folded alone, and one that does not fold to one character becomes a gap.
    """
    folded = to_match_text(text_)
    if len(folded) == len(text_):
        return folded
    out = []
    for char in text_:
        one = to_match_text(char)
        out.append(one if len(one) == 1 else "\x00")
    return "".join(out)


def highlight(text_: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """Split `text_` into (segment, is_hit) pieces for the terms, comparing in match form."""
    if not text_:
        return []
    if not terms:
        return [(text_, False)]
    folded = _fold_aligned(text_)
    marks = [False] * len(text_)
    for term in terms:
        if not term:
            continue
        start = folded.find(term)
        while start >= 0:
            for i in range(start, start + len(term)):
                marks[i] = True
            start = folded.find(term, start + 1)
    pieces: list[tuple[str, bool]] = []
    begin = 0
    for i in range(1, len(text_) + 1):
        if i == len(text_) or marks[i] != marks[begin]:
            pieces.append((text_[begin:i], marks[begin]))
            begin = i
    return pieces
