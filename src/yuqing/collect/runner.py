"""One run of one source: fetch with its kind, feed the pipeline, revisit, record health.

Every failure ends as words on the source (`last_error`) and a failed run row, never as an
exception out of `Collector.run`: the scheduler and `yuqing collect --all` go on with the
next source. Pipeline runs are serialized (one writer, one similarity index).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from yuqing.collect.schedule import next_run_at
from yuqing.domain import RawItem, SubjectSpec
from yuqing.domain.enums import MediaTier, Platform
from yuqing.errors import ConfigError, SourceError, StorageError
from yuqing.pipeline.base import ItemError
from yuqing.pipeline.run import IngestReport, Pipeline
from yuqing.settings import Settings
from yuqing.sources.base import CollectContext, Collected, SourceInfo
from yuqing.sources.fetch import Fetcher
from yuqing.sources.registry import build_collector
from yuqing.store import sources as source_store
from yuqing.store.db import Database
from yuqing.store.subjects import subject_specs
from yuqing.store.tables import Source as SourceRow

log = logging.getLogger(__name__)
_E = TypeVar("_E", Platform, MediaTier)

DEFAULT_MAX_ITEMS = 500
"""Entries one run takes at most when the source sets no `max_items`."""
REVISIT_LIMIT = 100
"""Items one run fetches again for fresh metrics at most."""


@dataclass(slots=True, kw_only=True)
class RunReport(source_store.RunCounts):
    """What `yuqing collect --json` prints per source."""

    source: str
    source_id: int
    ok: bool
    error: str | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_id": self.source_id,
            "ok": self.ok,
            "error": self.error,
            **self.counts(),
            "seconds": round(self.seconds, 3),
            "problems": self.problems,
        }


def source_info(row: SourceRow) -> SourceInfo:
    """What items of this source inherit; unknown stored codes fall back to `other`."""
    return SourceInfo(
        name=row.name,
        kind=row.kind,
        id=row.id,
        platform=_enum(Platform, row.platform, Platform.OTHER),
        media_tier=_enum(MediaTier, row.media_tier, MediaTier.OTHER),
        region=row.region,
        unit_id=row.unit_id,
    )


class Collector:
    """Runs sources against one database; shared by the scheduler, the API and the CLI."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] | None = None,
        interval_factor: Callable[[datetime], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self._transport = transport
        self._now = now or (lambda: datetime.now(UTC))
        # Special periods (#8) shorten intervals by returning a factor below 1.
        self._interval_factor = interval_factor or (lambda _moment: 1.0)
        self._rng = rng or random.Random()
        self._pipeline: Pipeline | None = None
        self._subjects: list[SubjectSpec] | None = None
        self._pipeline_lock = asyncio.Lock()
        self._running: set[int] = set()

    def is_running(self, source_id: int) -> bool:
        return source_id in self._running

    async def run(self, source_id: int, trigger: str = "manual") -> RunReport:
        """Collect one source into the database; a run already in progress is not doubled."""
        with self.db.session() as session:
            row = session.get(SourceRow, source_id)
            if row is None:
                raise ConfigError(f"源编号 {source_id} 不存在")
            info, kind, config = source_info(row), row.kind, dict(row.config or {})
            state = _copy(row.state or {})
            max_items, robots = row.max_items or DEFAULT_MAX_ITEMS, row.robots
        if source_id in self._running:
            return RunReport(
                source=info.name,
                source_id=source_id,
                ok=False,
                error="上一次抓取尚未结束，本次跳过",
            )
        self._running.add(source_id)
        started = self._now()
        report = RunReport(source=info.name, source_id=source_id, ok=True)
        requests, latency = 0, None
        try:
            collector = build_collector(kind, config)
            async with self._fetcher() as fetcher:
                ctx = CollectContext(info, fetcher, started, state, max_items, robots)
                collected = await collector.collect(ctx)
                _count(report, collected)
                ingest = await self._ingest(collected.records)
                _add_ingest(report, ingest)
                revisited = await self._revisit(collector, ctx, info, collected)
                requests = fetcher.stats.requests
                if requests:
                    latency = fetcher.stats.seconds * 1000 / requests
            report.revisited = revisited.records
            report.snapshots = revisited.snapshots + ingest.counts.snapshots
        except (SourceError, ConfigError, StorageError) as exc:
            report.ok, report.error = False, str(exc)
        except Exception as exc:  # a bug in a kind must not stop the scheduler; say it
            log.exception("source %s failed unexpectedly", info.name)
            report.ok, report.error = False, f"内部错误（{type(exc).__name__}）：{exc}"
        finally:
            self._running.discard(source_id)
        finished = self._now()
        report.seconds = (finished - started).total_seconds()
        self._record(source_id, trigger, report, started, finished, state, requests, latency)
        return report

    async def preview(self, source_id: int) -> tuple[Collected, list[RawItem]]:
        """Fetch once and return what would be ingested, storing nothing (`sources test`)."""
        with self.db.session() as session:
            row = session.get(SourceRow, source_id)
            if row is None:
                raise ConfigError(f"源编号 {source_id} 不存在")
            info, kind, config = source_info(row), row.kind, dict(row.config or {})
            max_items, robots = row.max_items or DEFAULT_MAX_ITEMS, row.robots
        collector = build_collector(kind, config)
        async with self._fetcher() as fetcher:
            ctx = CollectContext(info, fetcher, self._now(), {}, max_items, robots)
            collected = await collector.collect(ctx)
        return collected, [r for r in collected.records if isinstance(r, RawItem)]

    def _fetcher(self) -> Fetcher:
        return Fetcher(self.settings, transport=self._transport)

    async def ingest(
        self, records: Sequence[RawItem | ItemError], *, outcomes: bool = False
    ) -> IngestReport:
        """Run records through the pipeline (one run at a time across the app), storing them;
        `outcomes` as in `Pipeline.run`."""
        return await self._ingest(records, outcomes=outcomes)

    async def _ingest(
        self, records: Sequence[RawItem | ItemError], *, outcomes: bool = False
    ) -> IngestReport:
        if not records:
            return IngestReport()
        async with self._pipeline_lock:
            pipeline = self._current_pipeline()
            return await asyncio.to_thread(pipeline.run, records, outcomes=outcomes)

    def _current_pipeline(self) -> Pipeline:
        """The pipeline, built again only when the monitored subjects changed."""
        with self.db.session() as session:
            specs = subject_specs(session)
        if self._pipeline is None or specs != self._subjects:
            self._pipeline = Pipeline(self.db, self.settings, specs, now=self._now)
            self._subjects = specs
        return self._pipeline

    async def _revisit(
        self, collector: object, ctx: CollectContext, info: SourceInfo, collected: Collected
    ) -> _Revisited:
        revisit = getattr(collector, "revisit", None)
        days = self.settings.revisit_days
        if revisit is None or days <= 0 or info.id is None:
            return _Revisited()
        fresh = [r.url for r in collected.records if isinstance(r, RawItem) and r.url]
        with self.db.session() as session:
            urls = source_store.revisit_urls(
                session, info.id, ctx.now - timedelta(days=days), REVISIT_LIMIT, fresh
            )
        if not urls:
            return _Revisited()
        again: Collected = await revisit(ctx, urls)
        ingest = await self._ingest(again.records)
        return _Revisited(
            ingest.counts.duplicates + ingest.counts.imported, ingest.counts.snapshots
        )

    def _record(
        self,
        source_id: int,
        trigger: str,
        report: RunReport,
        started: datetime,
        finished: datetime,
        state: dict[str, Any],
        requests: int,
        latency: float | None,
    ) -> None:
        with self.db.session() as session:
            row = session.get(SourceRow, source_id)
            if row is None:  # removed while it ran
                return
            failing_after = row.consecutive_failures + (0 if report.ok else 1)
            upcoming = next_run_at(
                cron=row.cron,
                interval_minutes=row.interval_minutes or self.settings.collect_interval_minutes,
                failing=not report.ok and failing_after >= self.settings.collect_failure_limit,
                now=finished,
                timezone=self.settings.timezone,
                jitter_seconds=self.settings.collect_jitter_seconds,
                factor=self._interval_factor(finished),
                rng=self._rng,
            )
            source_store.record_run(
                session,
                row,
                source_store.RunRecord(
                    trigger=trigger,
                    started_at=started,
                    finished_at=finished,
                    ok=report.ok,
                    error=report.error,
                    **report.counts(),
                    requests=requests,
                    latency_ms=latency,
                    problems=report.problems,
                ),
                state=state if report.ok else None,
                next_run_at=upcoming,
                failure_limit=self.settings.collect_failure_limit,
            )


@dataclass(slots=True)
class _Revisited:
    records: int = 0
    snapshots: int = 0


def _count(report: RunReport, collected: Collected) -> None:
    report.pages = collected.pages
    report.not_modified = collected.not_modified
    report.records = sum(isinstance(r, RawItem) for r in collected.records)
    report.problems = list(collected.problems)


def _add_ingest(report: RunReport, ingest: IngestReport) -> None:
    report.imported = ingest.counts.imported
    report.duplicates = ingest.counts.duplicates
    # Entries the kind could not read and records the pipeline refused, alike.
    report.rejected = len(ingest.errors)
    report.problems.extend(f"{e.where}：{e.error}" for e in ingest.errors)


def _copy(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy through JSON types, so a failed run cannot half-change the stored state."""
    copied: dict[str, Any] = json.loads(json.dumps(state))
    return copied


def _enum(kind: type[_E], value: str, default: _E) -> _E:
    try:
        return kind(value)
    except ValueError:
        return default


__all__ = ["Collector", "RunReport", "source_info"]
