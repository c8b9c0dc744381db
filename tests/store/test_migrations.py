"""The migrations build exactly the schema the ORM declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from yuqing.store.db import Database, alembic_config, current_revision, head_revision
from yuqing.store.tables import Base

# Search tables are created by the migrations per dialect and are not ORM classes.
_SEARCH_TABLES = {"items_fts", "item_search"}


def _is_search_object(diff: tuple[object, ...]) -> bool:
    obj = diff[1]
    table = getattr(obj, "table", obj)
    return getattr(table, "name", None) in _SEARCH_TABLES or str(
        getattr(obj, "name", "")
    ).startswith("items_fts")


def test_migrated_schema_matches_orm(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = [d for d in compare_metadata(context, Base.metadata) if not _is_search_object(d)]
    assert diffs == []


def test_each_migration_downgrades_and_upgrades_again(db: Database) -> None:
    config = alembic_config(db.engine)
    script = ScriptDirectory.from_config(config)
    revisions = [r.revision for r in script.walk_revisions("base", "heads")]  # newest first
    for revision in revisions:
        assert current_revision(db.engine) == revision
        command.downgrade(config, "-1")
        command.upgrade(config, "+1")
        assert current_revision(db.engine) == revision
        command.downgrade(config, "-1")
    assert current_revision(db.engine) is None
    command.upgrade(config, "head")
    assert current_revision(db.engine) == head_revision(db.engine)
