"""Migration 0003 re-indexes stored items for SQLite's character index, and 0002 gets bigrams
back on the way down."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from yuqing.domain.text import to_match_text
from yuqing.store import search
from yuqing.store.browse import ItemFilter, list_items
from yuqing.store.db import Database, alembic_config
from yuqing.store.tables import Item, utcnow

DOCS = [("网传某农商行发生挤兑", "储户排队取款，银行称资金充足。"), ("通知", "資金，充足率達標。")]


def _found(db: Database, q: str) -> list[str]:
    with db.session() as session:
        return sorted(i.title for i in list_items(session, ItemFilter(q=q), per_page=100).items)


def _bigram_match(db: Database, expression: str) -> int:
    with db.engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM items_fts WHERE items_fts MATCH :q"), {"q": expression}
        ).scalar_one()
    return int(count)


def test_upgrade_reindexes_items_stored_with_bigrams(sqlite_db: Database) -> None:
    config = alembic_config(sqlite_db.engine)
    command.downgrade(config, "0002")
    with sqlite_db.session() as session:
        for n, (title, content) in enumerate(DOCS):
            row = Item(
                title=title,
                content=content,
                platform="news",
                media_tier="local",
                discovered_at=utcnow(),
                content_hash=str(n),
            )
            session.add(row)
            session.flush()
            # What revision 0002 indexed: bigram tokens, the form PostgreSQL still uses.
            session.execute(
                text("INSERT INTO items_fts(rowid, title, content) VALUES (:id, :t, :c)"),
                {
                    "id": row.id,
                    "t": search.tsvector_tokens(to_match_text(title)),
                    "c": search.tsvector_tokens(to_match_text(content)),
                },
            )
    assert _bigram_match(sqlite_db, '"挤兑"') == 1

    command.upgrade(config, "head")
    assert _found(sqlite_db, "挤兑") == ["网传某农商行发生挤兑"]
    assert _found(sqlite_db, "兑") == ["网传某农商行发生挤兑"]
    assert _found(sqlite_db, "资金") == ["网传某农商行发生挤兑", "通知"]
    assert _found(sqlite_db, "资金充足") == ["网传某农商行发生挤兑"]

    command.downgrade(config, "0002")
    assert _bigram_match(sqlite_db, '"资金 金充 充足"') == 1
    assert _bigram_match(sqlite_db, '"兑"*') == 1
    command.upgrade(config, "head")
    assert _found(sqlite_db, "充足") == ["网传某农商行发生挤兑", "通知"]
