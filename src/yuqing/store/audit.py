"""The audit log: append-only, each row's hash covering the previous row's hash.

A row's hash is SHA-256 over a canonical JSON of its content and the previous hash, so
changing, deleting or reordering any row breaks every link after it; `verify` finds the
first broken one. `prev_hash` is unique, so the database itself refuses a fork.

Appends are serialized: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by
the write lock that the placeholder insert takes before the previous row is read.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from yuqing.store.tables import AuditEntry

GENESIS = "0" * 64
_LOCK_KEY = 0x59510001  # pg_advisory_xact_lock key of the audit chain ("YQ" + 1)
_MAX_TEXT = 100


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    target_type: str | None,
    target_id: str | None,
    detail: dict[str, Any],
) -> str:
    """The hash of one row; `at` is taken in UTC to the microsecond."""
    canonical = orjson.dumps(
        {
            "prev": prev_hash,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "detail": detail,
        },
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: object = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one row to the chain within the caller's transaction.

    `action` is a dotted code (`login.ok`, `case.report`, `item.override`, `source.add`);
    `detail` must be JSON (it is stored and hashed as given, after a JSON round trip).
    """
    at = (at or datetime.now(UTC)).astimezone(UTC)
    detail = orjson.loads(orjson.dumps(detail or {}, option=orjson.OPT_NON_STR_KEYS))
    target = None if target_id is None else str(target_id)[:64]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    placeholder = f"pending-{uuid.uuid4().hex}"
    row = AuditEntry(
        at=at,
        actor=actor[:_MAX_TEXT],
        action=action[:64],
        target_type=target_type,
        target_id=target,
        detail=detail,
        prev_hash=placeholder,
        hash=placeholder,
    )
    session.add(row)
    session.flush()  # takes the write lock (SQLite) and gives the row its id
    previous = session.scalars(
        select(AuditEntry.hash)
        .where(AuditEntry.id < row.id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    row.prev_hash = previous or GENESIS
    row.hash = entry_hash(
        row.prev_hash, at, row.actor, row.action, row.target_type, row.target_id, detail
    )
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of walking the chain: `broken_at` is the first row whose link fails."""

    rows: int
    broken_at: int | None = None
    problem: str | None = None
    head: str | None = None  # the newest hash: record it elsewhere to detect a cut-off tail

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "broken_at": self.broken_at,
            "problem": self.problem,
            "head": self.head,
        }


def _rows(session: Session, batch: int = 5000) -> Iterator[Any]:
    columns = (
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.target_type,
        AuditEntry.target_id,
        AuditEntry.detail,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    )
    last = 0
    while True:
        rows = session.execute(
            select(*columns).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify(session: Session) -> Verification:
    """Walk the chain in id order and report the first row that does not link or hash."""
    expected_prev = GENESIS
    count = 0
    for row in _rows(session):
        count += 1
        if row.prev_hash != expected_prev:
            return Verification(
                count, row.id, f"第 {row.id} 条的前序哈希与上一条不符（上一条被改动、删除或插入）"
            )
        actual = entry_hash(
            row.prev_hash,
            row.at,
            row.actor,
            row.action,
            row.target_type,
            row.target_id,
            row.detail,
        )
        if actual != row.hash:
            return Verification(count, row.id, f"第 {row.id} 条的内容与其哈希不符（该条被改动）")
        expected_prev = row.hash
    return Verification(count, head=expected_prev)


def recent(
    session: Session,
    *,
    limit: int = 100,
    target_type: str | None = None,
    target_id: object = None,
) -> list[AuditEntry]:
    """The newest rows, optionally about one target."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target_type is not None:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == str(target_id))
    return list(session.scalars(query))
