"""`yuqing audit verify` over the hash chain, on SQLite and PostgreSQL: a changed, a deleted
and a reordered row are each caught at the first broken link; a cut-off tail only by the
head hash recorded earlier; simultaneous appends keep one unbroken chain."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from yuqing.cli import app
from yuqing.settings import Settings
from yuqing.store import audit
from yuqing.store.db import Database
from yuqing.store.tables import AuditEntry

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def fill(db: Database, rows: int = 5) -> None:
    with db.session() as session:
        for n in range(1, rows + 1):
            audit.record(
                session,
                actor=f"监测员{n}（m{n}）",
                action="item.override",
                target_type="item",
                target_id=n,
                detail={"note": f"第 {n} 次改判", "new": {"grade": "attention"}},
                at=START + timedelta(minutes=n),
            )


def verify_cli(settings: Settings) -> tuple[int, dict[str, object], str]:
    """`yuqing audit verify --json`: exit code, its JSON and all it printed.

    On PostgreSQL the same walk runs in process: the CLI leaves its engine's connection for
    the garbage collector, which pytest (warnings are errors) would report.
    """
    if not settings.resolved_database_url.startswith("sqlite"):
        from yuqing.store.db import open_database

        database = open_database(settings.resolved_database_url)
        with database.session() as session:
            result = audit.verify(session)
        database.dispose()
        output = "" if result.ok else f"审计日志校验失败：{result.problem}"
        return (0 if result.ok else 1), result.as_dict(), output
    env = {
        "YUQING_DATA_DIR": str(settings.data_dir),
        "YUQING_DATABASE_URL": settings.resolved_database_url,
    }
    result = CliRunner(env=env).invoke(app, ["audit", "verify", "--json"])
    first_line = result.stdout.splitlines()[0] if result.stdout else "{}"
    return result.exit_code, orjson.loads(first_line), result.output


def _swap_contents(db: Database, a: int, b: int) -> None:
    """Exchange two rows' contents (hashes included), keeping their ids: a reordering."""
    columns = ("at", "actor", "action", "target_type", "target_id", "detail", "prev_hash", "hash")
    with db.session() as session:
        first, second = (session.get(AuditEntry, i) for i in (a, b))
        assert first is not None and second is not None
        values = [{c: getattr(row, c) for c in columns} for row in (first, second)]
        # hash and prev_hash are unique: park one row's on placeholders first.
        session.execute(
            update(AuditEntry).where(AuditEntry.id == a).values(prev_hash="p", hash="h")
        )
        session.execute(update(AuditEntry).where(AuditEntry.id == b).values(**values[0]))
        session.execute(update(AuditEntry).where(AuditEntry.id == a).values(**values[1]))


def test_an_untouched_chain_verifies_and_names_its_head(db: Database, settings: Settings) -> None:
    fill(db)
    code, result, _output = verify_cli(settings)
    assert code == 0
    assert result["ok"] is True and result["rows"] == 5
    with db.session() as session:
        last = session.scalars(select(AuditEntry.hash).order_by(AuditEntry.id.desc())).first()
    assert result["head"] == last


@pytest.mark.parametrize(
    ("tamper", "broken_at", "words"),
    [
        ("changed", 3, "第 3 条的内容与其哈希不符"),
        ("deleted", 4, "第 4 条的前序哈希与上一条不符"),
        ("reordered", 2, "第 2 条的前序哈希与上一条不符"),
        ("rehashed", 4, "第 4 条的前序哈希与上一条不符"),
    ],
)
def test_tampering_is_caught_at_the_first_broken_link(
    db: Database, settings: Settings, tamper: str, broken_at: int, words: str
) -> None:
    fill(db)
    with db.session() as session:
        if tamper == "changed":
            session.execute(
                update(AuditEntry).where(AuditEntry.id == 3).values(actor="别人（other）")
            )
        elif tamper == "deleted":
            session.execute(delete(AuditEntry).where(AuditEntry.id == 3))
    if tamper == "reordered":
        _swap_contents(db, 2, 3)
    if tamper == "rehashed":
        # A forger who also recomputes the changed row's own hash still breaks the next link.
        with db.session() as session:
            row = session.get(AuditEntry, 3)
            assert row is not None
            row.detail = {"note": "改过"}
            row.hash = audit.entry_hash(
                row.prev_hash,
                row.at,
                row.actor,
                row.action,
                row.target_type,
                row.target_id,
                row.detail,
            )
    code, result, output = verify_cli(settings)
    assert code == 1
    assert result["ok"] is False and result["broken_at"] == broken_at
    assert words in str(result["problem"])
    assert "审计日志校验失败" in output and words in output


def test_a_cut_off_tail_shows_only_against_the_recorded_head(
    db: Database, settings: Settings
) -> None:
    fill(db)
    _code, before, _output = verify_cli(settings)
    with db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id == 5))
    code, after, _output = verify_cli(settings)
    assert code == 0 and after["ok"] is True and after["rows"] == 4
    assert after["head"] != before["head"]  # the head recorded elsewhere no longer matches


def test_simultaneous_appends_keep_one_chain(db: Database) -> None:
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(8):
                with db.session() as session:
                    audit.record(session, actor=f"w{worker}", action="test.append", detail={"n": n})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session() as session:
        result = audit.verify(session)
    assert result.ok and result.rows == 32
