"""Sources as rows: add, find, remove; their runs and the health those runs add up to.

Configuration is validated by the kind (`yuqing.sources.registry`) before it reaches here.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from yuqing.errors import InputError
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import Source as SourceRow
from yuqing.store.tables import SourceRun

MAX_PROBLEMS_KEPT = 20
"""Per-entry problems kept with a run (the first ones; the count is kept whole)."""


def token_hash(token: str) -> str:
    """What is stored of a push token: its SHA-256; the token itself is shown once."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def list_sources(session: Session, *, enabled_only: bool = False) -> list[SourceRow]:
    stmt = select(SourceRow).order_by(SourceRow.id)
    if enabled_only:
        stmt = stmt.where(SourceRow.enabled.is_(True))
    return list(session.scalars(stmt))


def find_source(session: Session, ref: str | int) -> SourceRow:
    """A source by id or by name; InputError naming the reference when there is none."""
    row: SourceRow | None = None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        row = session.get(SourceRow, int(ref))
    if row is None and isinstance(ref, str):
        row = session.scalars(select(SourceRow).where(SourceRow.name == ref)).first()
    if row is None:
        raise InputError("source", f"没有名为或编号为 {str(ref)[:100]!r} 的源")
    return row


def source_by_token(session: Session, token: str) -> SourceRow | None:
    """The enabled push source a bearer token belongs to."""
    return session.scalars(
        select(SourceRow).where(
            SourceRow.token_hash == token_hash(token), SourceRow.enabled.is_(True)
        )
    ).first()


def add_source(session: Session, row: SourceRow, now: datetime) -> SourceRow:
    """Insert a source (already validated); InputError when the name is taken. It starts with
    empty state and clean health, and its first run is due at once."""
    if session.scalars(select(SourceRow.id).where(SourceRow.name == row.name)).first():
        raise InputError("name", f"已有名为「{row.name}」的源")
    row.state = {}
    row.next_run_at = now
    row.consecutive_failures = 0
    row.failing = False
    row.created_at = now
    row.updated_at = now
    session.add(row)
    session.flush()
    return row


def remove_source(session: Session, source: SourceRow) -> None:
    """Delete a source and its runs; the items it brought stay, without a source."""
    session.execute(update(ItemRow).where(ItemRow.source_id == source.id).values(source_id=None))
    session.execute(delete(SourceRun).where(SourceRun.source_id == source.id))
    session.delete(source)
    session.flush()


def due_sources(session: Session, kinds: Sequence[str], now: datetime) -> list[SourceRow]:
    """Enabled sources of the given kinds whose next run is due."""
    return list(
        session.scalars(
            select(SourceRow)
            .where(
                SourceRow.enabled.is_(True),
                SourceRow.kind.in_(list(kinds)),
                or_(SourceRow.next_run_at.is_(None), SourceRow.next_run_at <= now),
            )
            .order_by(SourceRow.next_run_at, SourceRow.id)
        )
    )


@dataclass(slots=True)
class RunCounts:
    """What one run fetched and what became of it: the counters a run row keeps."""

    pages: int = 0
    not_modified: int = 0
    records: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    revisited: int = 0
    snapshots: int = 0

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(RunCounts)}


@dataclass(slots=True, kw_only=True)
class RunRecord(RunCounts):
    """One finished run, as the runner measured it."""

    trigger: str
    started_at: datetime
    finished_at: datetime
    ok: bool
    error: str | None = None
    requests: int = 0
    latency_ms: float | None = None
    problems: list[str] = field(default_factory=list)


def record_run(
    session: Session,
    source: SourceRow,
    run: RunRecord,
    *,
    state: dict[str, Any] | None,
    next_run_at: datetime | None,
    failure_limit: int,
) -> SourceRun:
    """Store a run and bring the source's health up to date.

    A successful run saves the kind's new state and clears the failure count; a failed one
    keeps the old state (so nothing is skipped next time), counts the failure, and flags the
    source as failing once `failure_limit` runs in a row failed.
    """
    row = SourceRun(
        source_id=source.id,
        trigger=run.trigger,
        started_at=run.started_at,
        finished_at=run.finished_at,
        ok=run.ok,
        error=run.error,
        **run.counts(),
        requests=run.requests,
        latency_ms=run.latency_ms,
        seconds=(run.finished_at - run.started_at).total_seconds(),
        problems=run.problems[:MAX_PROBLEMS_KEPT],
    )
    session.add(row)
    source.last_run_at = run.finished_at
    if run.ok:
        source.last_success_at = run.finished_at
        source.consecutive_failures = 0
        source.failing = False
        if state is not None:
            source.state = state
    else:
        source.last_error = run.error
        source.last_error_at = run.finished_at
        source.consecutive_failures = (source.consecutive_failures or 0) + 1
        source.failing = source.consecutive_failures >= failure_limit
    if next_run_at is not None:
        source.next_run_at = next_run_at
    source.updated_at = run.finished_at
    session.flush()
    return row


def recent_runs(session: Session, source_id: int, limit: int = 20) -> list[SourceRun]:
    return list(
        session.scalars(
            select(SourceRun)
            .where(SourceRun.source_id == source_id)
            .order_by(SourceRun.started_at.desc(), SourceRun.id.desc())
            .limit(limit)
        )
    )


def health(session: Session, source: SourceRow, window: int = 10) -> dict[str, Any]:
    """What the sources list and page show: last success, last error in words, items per
    run, new vs duplicate, average latency, over the last `window` runs."""
    runs = recent_runs(session, source.id, window)
    ok_runs = [r for r in runs if r.ok]
    latencies = [r.latency_ms for r in ok_runs if r.latency_ms is not None]
    last = runs[0] if runs else None
    total = session.scalar(select(func.count()).where(ItemRow.source_id == source.id)) or 0
    return {
        "last_run_at": source.last_run_at,
        "last_success_at": source.last_success_at,
        "last_error": source.last_error,
        "last_error_at": source.last_error_at,
        "consecutive_failures": source.consecutive_failures,
        "failing": source.failing,
        "next_run_at": source.next_run_at,
        "runs": len(runs),
        "items_per_run": (sum(r.records for r in ok_runs) / len(ok_runs)) if ok_runs else None,
        "last_new": last.imported if last else None,
        "last_duplicates": last.duplicates if last else None,
        "avg_latency_ms": (sum(latencies) / len(latencies)) if latencies else None,
        "items_total": total,
    }


def revisit_urls(
    session: Session, source_id: int, since: datetime, limit: int, skip: Sequence[str] = ()
) -> list[str]:
    """URLs of this source's items first seen since `since`, newest first, for fresh metrics."""
    rows = session.scalars(
        select(ItemRow.url)
        .where(
            ItemRow.source_id == source_id,
            ItemRow.url.is_not(None),
            ItemRow.discovered_at >= since,
        )
        .order_by(ItemRow.discovered_at.desc())
        .limit(limit + len(skip))
    )
    skipped = set(skip)
    return [url for url in rows if url and url not in skipped][:limit]
