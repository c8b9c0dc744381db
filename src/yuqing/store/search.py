"""Chinese full-text search that finds 1- and 2-character terms, on SQLite and PostgreSQL.

Text is indexed as overlapping character bigrams: each CJK run "银行业" becomes the tokens
"银行 行业 业" (every position starts a token, the last one a single character). A query term of
two or more characters is then the phrase of its bigrams, and a single character is a prefix
query, so every occurrence of every term is found — FTS5's trigram tokenizer cannot find terms
shorter than three characters (PERF_NOTES). Latin words and numbers are whole tokens.

SQLite keeps the tokens in a contentless FTS5 table `items_fts` (rowid = item id); PostgreSQL
keeps them as a `tsvector` ('simple' configuration) in `item_search` with a GIN index, queried
with the phrase operator `<->` and prefix `:*`, so both databases answer the same searches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, column, select, table, text
from sqlalchemy.orm import Session

from yuqing.domain.text import to_match_text
from yuqing.errors import InputError

_RUNS = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+)|([0-9a-z]+)")
_QUERY_TERMS = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
MAX_QUERY_CHARS = 200


def search_tokens(match_text: str) -> str:
    """The space-separated token string indexed for `match_text` (already match-normalized)."""
    out: list[str] = []
    for cjk, word in _RUNS.findall(match_text):
        if cjk:
            out.extend(cjk[i : i + 2] for i in range(len(cjk)))
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


def _term_parts(term: str) -> list[tuple[list[str], bool]]:
    """A term as (tokens, is_prefix) phrases; all must hold for the term to match."""
    parts: list[tuple[list[str], bool]] = []
    for cjk, word in _RUNS.findall(term):
        if cjk and len(cjk) == 1:
            parts.append(([cjk], True))
        elif cjk:
            parts.append(([cjk[i : i + 2] for i in range(len(cjk) - 1)], False))
        else:
            parts.append(([word], True))
    return parts


def _fts5_term(term: str) -> str:
    phrases = [
        '"' + " ".join(tokens) + '"' + ("*" if prefix else "")
        for tokens, prefix in _term_parts(term)
    ]
    return "(" + " AND ".join(phrases) + ")"


def _tsquery_term(term: str) -> str:
    phrases = []
    for tokens, prefix in _term_parts(term):
        quoted = [t.replace("'", "") for t in tokens]
        phrase = " <-> ".join(f"'{t}'" for t in quoted)
        phrases.append(phrase + (":*" if prefix else ""))
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
    params = [{"id": i, "title": search_tokens(t), "content": search_tokens(c)} for i, t, c in rows]
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text("INSERT INTO items_fts(rowid, title, content) VALUES (:id, :title, :content)"),
            params,
        )
    else:
        session.execute(
            text(
                "INSERT INTO item_search(item_id, document) VALUES "
                "(:id, setweight(to_tsvector('simple', :title), 'A') || "
                "to_tsvector('simple', :content))"
            ),
            params,
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
            [{"id": i, "title": search_tokens(t), "content": search_tokens(c)} for i, t, c in rows],
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
