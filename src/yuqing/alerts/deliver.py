"""Delivery: send what is due, log every attempt, retry with doubling waits, then give up.

A due delivery is claimed (status "sending" until a lease runs out) before it is sent, so a
second dispatcher skips it and a dispatcher that dies mid-send leaves it to be tried again.
A channel that is disabled, deleted or misconfigured fails the delivery at once, in words;
anything else that fails is retried after `alert_backoff_seconds`, doubling, up to
`alert_retries` times, and then marked failed with the last error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from yuqing.alerts.channels import AlertMeta, SendResult, build_channel
from yuqing.errors import ConfigError
from yuqing.settings import Settings
from yuqing.store import alerts as store
from yuqing.store.tables import Alert, AlertChannel, AlertDelivery

log = logging.getLogger("yuqing.alerts")

DUE_LIMIT = 200
"""Deliveries claimed per tick; more wait for the next tick (which comes at once)."""
CONCURRENCY = 32
"""Deliveries sent at the same time."""


@dataclass(slots=True)
class Job:
    """One claimed delivery and everything needed to send it without the database."""

    delivery_id: int
    attempts: int
    channel_id: int
    channel: dict[str, Any] | None  # name, kind, config, enabled; None when deleted
    title: str
    body: str
    meta: AlertMeta


@dataclass(slots=True)
class Outcome:
    job: Job
    result: SendResult
    seconds: float
    final: bool  # no retry can help (channel disabled, deleted or misconfigured)


@dataclass(slots=True)
class Delivered:
    """What one delivery round did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    more: bool = False


def page_url(public_url: str, alert: Alert) -> str | None:
    base = public_url.rstrip("/")
    if alert.event_id is not None:
        return f"{base}/events/{alert.event_id}"
    if alert.item_id is not None:
        return f"{base}/items/{alert.item_id}"
    if alert.case_id is not None:
        return f"{base}/cases/{alert.case_id}"
    return None


class Deliverer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # A claim outlives any honest send: every part may take the full timeout.
        self.lease = timedelta(seconds=max(120.0, settings.alert_timeout_seconds * 12))

    def claim_due(self, session: Session, now: datetime) -> tuple[list[Job], bool]:
        """Claim the deliveries whose time has come; (jobs, whether more are due)."""
        due = store.due_deliveries(session, now, DUE_LIMIT)
        jobs = []
        for delivery in due:
            if not store.claim(session, delivery, now + self.lease):
                continue
            alert = session.get(Alert, delivery.alert_id)
            if alert is None:
                continue
            channel = session.get(AlertChannel, delivery.channel_id)
            jobs.append(
                Job(
                    delivery_id=delivery.id,
                    attempts=delivery.attempts,
                    channel_id=delivery.channel_id,
                    channel=None
                    if channel is None
                    else {
                        "name": channel.name,
                        "kind": channel.kind,
                        "config": dict(channel.config or {}),
                        "enabled": channel.enabled,
                    },
                    title=alert.title,
                    body=alert.body,
                    meta=AlertMeta(
                        grade=alert.grade,
                        kind=alert.kind,
                        item_id=alert.item_id,
                        event_id=alert.event_id,
                        case_id=alert.case_id,
                        url=page_url(self.settings.public_url, alert),
                    ),
                )
            )
        return jobs, len(due) >= DUE_LIMIT

    async def send_all(self, client: httpx.AsyncClient, jobs: list[Job]) -> list[Outcome]:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(job: Job) -> Outcome:
            async with gate:
                return await self.send(client, job)

        return list(await asyncio.gather(*(one(job) for job in jobs)))

    async def send(self, client: httpx.AsyncClient, job: Job) -> Outcome:
        started = time.perf_counter()
        spec = job.channel
        if spec is None:
            return Outcome(
                job, SendResult(False, error=f"通道 #{job.channel_id} 已删除，未发送"), 0.0, True
            )
        if not spec["enabled"]:
            words = f"通道「{spec['name']}」已停用，未发送；启用后新的预警才会发往该通道"
            return Outcome(job, SendResult(False, error=words), 0.0, True)
        try:
            channel = build_channel(
                spec["name"],
                spec["kind"],
                spec["config"],
                timeout=self.settings.alert_timeout_seconds,
            )
        except ConfigError as exc:
            return Outcome(job, SendResult(False, error=str(exc)), 0.0, True)
        try:
            result = await channel.send(client, job.title, job.body, meta=job.meta)
        except Exception as exc:  # a bug in a channel must not stop the other deliveries
            log.exception("alert delivery %s through %s crashed", job.delivery_id, spec["name"])
            result = SendResult(False, error=f"发送时出错：{type(exc).__name__} {exc}")
        return Outcome(job, result, time.perf_counter() - started, False)

    def record(self, session: Session, outcomes: list[Outcome], now: datetime) -> Delivered:
        """Log each attempt and move each delivery on: sent, retried later, or failed."""
        done = Delivered()
        retries = self.settings.alert_retries
        for outcome in outcomes:
            delivery = session.get(AlertDelivery, outcome.job.delivery_id)
            if delivery is None:  # its channel or alert was removed meanwhile
                continue
            result = outcome.result
            store.add_attempt(
                session,
                {
                    "delivery_id": delivery.id,
                    "at": now,
                    "ok": result.ok,
                    "parts": result.parts,
                    "status_code": result.status_code,
                    "error": result.error,
                    "seconds": round(outcome.seconds, 3),
                },
            )
            delivery.attempts += 1
            if result.ok:
                delivery.status, delivery.sent_at = store.SENT, now
                delivery.next_attempt_at, delivery.error = None, None
                done.sent += 1
            elif outcome.final or delivery.attempts > retries:
                delivery.status, delivery.error = store.FAILED, result.error
                delivery.next_attempt_at = None
                done.failed += 1
            else:
                wait = self.settings.alert_backoff_seconds * 2 ** (delivery.attempts - 1)
                delivery.status, delivery.error = store.PENDING, result.error
                delivery.next_attempt_at = now + timedelta(seconds=wait)
                done.retrying += 1
        return done
