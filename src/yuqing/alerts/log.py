"""The delivery log as JSON (`yuqing alerts log`, `GET /api/alerts/deliveries`), and the
test message a channel is tried with."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from yuqing.alerts.channels import AlertMeta, SendResult, build_channel
from yuqing.alerts.messages import channel_test_message
from yuqing.errors import ConfigError, InputError
from yuqing.settings import Settings
from yuqing.store import alerts as store
from yuqing.store.tables import AlertChannel

MAX_LOG = 500


def describe_delivery(logged: store.LoggedDelivery) -> dict[str, Any]:
    delivery, alert = logged.delivery, logged.alert
    return {
        "id": delivery.id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "sent_at": delivery.sent_at,
        "error": delivery.error,
        "created_at": delivery.created_at,
        "channel": {
            "id": delivery.channel_id,
            "name": logged.channel_name,
            "kind": logged.channel_kind,
        },
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "grade": alert.grade,
            "title": alert.title,
            "item_id": alert.item_id,
            "event_id": alert.event_id,
            "case_id": alert.case_id,
            "rule": logged.rule_name,
            "created_at": alert.created_at,
        },
        "log": [
            {
                "at": a.at,
                "ok": a.ok,
                "status_code": a.status_code,
                "error": a.error,
                "parts": a.parts,
                "seconds": a.seconds,
            }
            for a in logged.attempts
        ],
    }


def delivery_log(
    session: Session,
    *,
    limit: int = 50,
    status: str | None = None,
    alert_id: int | None = None,
    unit_ids: Collection[int] | None = None,
) -> list[dict[str, Any]]:
    """The newest deliveries with every attempt; InputError for a bad status or limit."""
    if status is not None and status not in store.STATUSES:
        raise InputError("status", f"状态 {status[:20]!r} 无效，可选：{'、'.join(store.STATUSES)}")
    if not 1 <= limit <= MAX_LOG:
        raise InputError("limit", f"条数应在 1 到 {MAX_LOG} 之间")
    rows = store.recent_deliveries(
        session, limit=limit, status=status, alert_id=alert_id, unit_ids=unit_ids
    )
    return [describe_delivery(row) for row in rows]


async def send_test(
    row: AlertChannel, settings: Settings, now: datetime | None = None
) -> SendResult:
    """Send a test message through a stored channel now (even a disabled one)."""
    try:
        channel = build_channel(
            row.name, row.kind, row.config or {}, timeout=settings.alert_timeout_seconds
        )
    except ConfigError as exc:
        return SendResult(False, error=str(exc), parts=0)
    title, body = channel_test_message(
        row.name, settings.public_url, now or datetime.now(UTC), settings.timezone
    )
    async with httpx.AsyncClient(
        timeout=settings.alert_timeout_seconds, headers={"User-Agent": settings.collect_user_agent}
    ) as client:
        return await channel.send(client, title, body, meta=AlertMeta(kind="test"))
