"""SQLite search index over single characters instead of bigrams

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 16:00:00

`items_fts` becomes an FTS5 table of one token per CJK character with a break token between
runs (see `yuqing.store.search`), the ASCII tokenizer (the token strings are already folded),
no prefix index, and merge settings for batch inserts; every stored item is indexed again.
PostgreSQL keeps its bigram `tsvector` index unchanged. The tokenizers are copied here, as
they were at this revision, so that later changes to `search.py` cannot change this step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

import sqlalchemy as sa
from alembic import op

from yuqing.domain.text import to_match_text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_RUNS = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+)|([0-9a-z]+)")
_RUN_BREAK = "\ue000"
_CHUNK = 2000

_CHARACTER_TABLE = (
    "CREATE VIRTUAL TABLE items_fts USING fts5(title, content, content='', tokenize='ascii')"
)
# One segment per batch transaction (the default 1 MB hash flushes several times per
# 1,000 items), merged 8 at a time instead of 4: a third less work per insert.
_CHARACTER_CONFIG = (
    "INSERT INTO items_fts(items_fts, rank) VALUES ('hashsize', 16777216)",
    "INSERT INTO items_fts(items_fts, rank) VALUES ('automerge', 8)",
)
_BIGRAM_TABLE = (
    "CREATE VIRTUAL TABLE items_fts USING fts5(title, content, content='', "
    "tokenize='unicode61 remove_diacritics 0', prefix='1')"
)


def _characters(match_text: str) -> str:
    return f" {_RUN_BREAK} ".join(
        " ".join(cjk) if cjk else word for cjk, word in _RUNS.findall(match_text)
    )


def _bigrams(match_text: str) -> str:
    out: list[str] = []
    for cjk, word in _RUNS.findall(match_text):
        if cjk:
            out.extend(a + b for a, b in pairwise(cjk))
            out.append(cjk[-1])
        else:
            out.append(word)
    return " ".join(out)


def _rebuild(create: str, config: tuple[str, ...], tokens: Callable[[str], str]) -> None:
    """Drop and create `items_fts`, then index every item with `tokens`."""
    bind = op.get_bind()
    op.execute("DROP TABLE items_fts")
    op.execute(create)
    for statement in config:
        op.execute(statement)
    insert = sa.text("INSERT INTO items_fts(rowid, title, content) VALUES (:id, :title, :content)")
    page = sa.text("SELECT id, title, content FROM items WHERE id > :last ORDER BY id LIMIT :n")
    last = 0
    while rows := bind.execute(page, {"last": last, "n": _CHUNK}).all():
        bind.execute(
            insert,
            [
                {
                    "id": item_id,
                    "title": tokens(to_match_text(title or "")),
                    "content": tokens(to_match_text(content)),
                }
                for item_id, title, content in rows
            ],
        )
        last = rows[-1][0]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(_CHARACTER_TABLE, _CHARACTER_CONFIG, _characters)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(_BIGRAM_TABLE, (), _bigrams)
