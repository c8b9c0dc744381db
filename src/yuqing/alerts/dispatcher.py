"""The alert worker: each tick detects new grades (and deadline reminders), then delivers
what is due. `yuqing serve` runs `run_forever` inside the app; `wake()` makes it tick at once
(the push API calls it after accepting items, so alerts need not wait for the next poll).

    dispatcher = AlertDispatcher(db, settings)
    report = await dispatcher.tick()        # one pass, e.g. in tests or `yuqing alerts run --once`
    await dispatcher.run_forever()          # every settings.alert_poll_seconds, until cancelled
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy.orm import Session

from yuqing.alerts.deliver import Deliverer, Job, Outcome
from yuqing.alerts.detect import Detector, GradeFeed
from yuqing.alerts.rules import Reminder
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database

log = logging.getLogger("yuqing.alerts")

ReminderSource = Callable[[Session, datetime], list[Reminder]]
MAX_DETECT_BATCHES = 20
"""Detection batches per tick before deliveries get their turn."""


@dataclass(slots=True)
class TickReport:
    """What one tick did."""

    grade_changes: int = 0
    alerts: int = 0
    reminders: int = 0
    deliveries: int = 0  # created
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    more: bool = False  # work was left for the next tick

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


class AlertDispatcher:
    """Detects alerts and delivers them; safe to run in several processes at once."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        reminders: ReminderSource | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.reminders = reminders
        self.standard = load_standard(settings.standard_dir, settings.taxonomy)
        self.detector = Detector(settings, self.standard, GradeFeed())
        self.deliverer = Deliverer(settings)
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._lock = asyncio.Lock()  # one tick at a time: the grade feed is not shared

    async def tick(self, now: datetime | None = None) -> TickReport:
        """One pass: detect, then deliver what is due at `now` (default: the current time)."""
        async with self._lock:
            return await self._tick(now or datetime.now(UTC))

    async def _tick(self, now: datetime) -> TickReport:
        report = TickReport()
        await asyncio.to_thread(self._detect, now, report)
        jobs, more = await asyncio.to_thread(self._claim, now)
        report.more = report.more or more
        if jobs:
            if self._client is not None:
                outcomes = await self.deliverer.send_all(self._client, jobs)
            else:
                async with self._new_client() as client:
                    outcomes = await self.deliverer.send_all(client, jobs)
            await asyncio.to_thread(self._record, outcomes, now, report)
        return report

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.settings.alert_timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": self.settings.collect_user_agent},
        )

    def _detect(self, now: datetime, report: TickReport) -> None:
        for _ in range(MAX_DETECT_BATCHES):
            try:
                with self.db.session() as session:
                    done = self.detector.batch(session, now)
            except BaseException:
                self.detector.feed.reset()  # what was read is read again from the cursor
                raise
            report.grade_changes += done.changes
            report.alerts += done.alerts
            report.deliveries += done.deliveries
            if not done.more:
                break
        else:
            report.more = True
        if self.reminders is not None:
            try:
                with self.db.session() as session:
                    due = self.reminders(session, now)
                    done = self.detector.remind(session, due, now)
            except Exception:  # reminders must not hold up alerts already raised
                log.exception("deadline reminders failed; alerts are delivered regardless")
                return
            report.reminders += done.alerts
            report.deliveries += done.deliveries

    def _claim(self, now: datetime) -> tuple[list[Job], bool]:
        with self.db.session() as session:
            return self.deliverer.claim_due(session, now)

    def _record(self, outcomes: list[Outcome], now: datetime, report: TickReport) -> None:
        with self.db.session() as session:
            done = self.deliverer.record(session, outcomes, now)
        report.sent += done.sent
        report.retrying += done.retrying
        report.failed += done.failed

    async def run_forever(self) -> None:
        """Tick every `alert_poll_seconds` (at once after `wake()` or when work is left);
        errors are logged and the loop goes on. Ends only when cancelled."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        try:
            async with self._new_client() as client:
                self._client = client
                while True:
                    self._event.clear()
                    more = False
                    try:
                        more = (await self.tick()).more
                    except Exception:
                        log.exception(
                            "alert tick failed; trying again in %ss",
                            self.settings.alert_poll_seconds,
                        )
                    if more:
                        continue
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._event.wait(), self.settings.alert_poll_seconds)
        finally:
            self._client = None
            self._loop = None
            self._event = None

    def wake(self) -> None:
        """Make `run_forever` tick now; callable from any thread, a no-op when not running."""
        loop, event = self._loop, self._event
        if loop is None or event is None:
            return
        with suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(event.set)
