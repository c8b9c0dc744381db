"""The scheduler inside `yuqing serve`: runs every due source, never two runs of one at once.

Each tick asks the database which enabled sources are due (`next_run_at`), starts each of them
that is not already running, at most `max_parallel` at a time; every run sets its own next
time (interval or cron, jitter, a day's wait for a failing source). A run's failure is
recorded on its source and the loop goes on; only cancellation stops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from yuqing.collect.runner import Collector, RunReport
from yuqing.sources.registry import SOURCE_KINDS
from yuqing.store import sources as source_store

log = logging.getLogger(__name__)


class Scheduler:
    """Polls for due sources every `tick_seconds` and runs them through one `Collector`."""

    def __init__(
        self,
        collector: Collector,
        *,
        tick_seconds: float = 5.0,
        max_parallel: int = 4,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.collector = collector
        self.tick_seconds = tick_seconds
        self._now = now or (lambda: datetime.now(UTC))
        self._slots = asyncio.Semaphore(max_parallel)
        self._tasks: dict[int, asyncio.Task[RunReport]] = {}

    async def tick(self) -> list[asyncio.Task[RunReport]]:
        """Start every due source that is not running; returns the runs started."""
        with self.collector.db.session() as session:
            due = [s.id for s in source_store.due_sources(session, list(SOURCE_KINDS), self._now())]
        started = []
        for source_id in due:
            if source_id in self._tasks or self.collector.is_running(source_id):
                continue
            task = asyncio.create_task(self._run(source_id), name=f"source-{source_id}")
            self._tasks[source_id] = task
            started.append(task)
        return started

    async def run_forever(self) -> None:
        """Tick until cancelled; runs in flight are cancelled with it."""
        try:
            while True:
                try:
                    await self.tick()
                except Exception:  # the database may be briefly unavailable: try next tick
                    log.exception("scheduler tick failed")
                await asyncio.sleep(self.tick_seconds)
        finally:
            for task in list(self._tasks.values()):
                task.cancel()

    async def _run(self, source_id: int) -> RunReport:
        try:
            async with self._slots:
                return await self.collector.run(source_id, trigger="schedule")
        finally:
            self._tasks.pop(source_id, None)
