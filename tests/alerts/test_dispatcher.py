"""The dispatcher on a real database, with items fed through the real pipeline and alerts
delivered to the local receiver: one alert per event and grade, escalation, quiet hours,
retries, the delivery log, and two dispatchers that never send twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from alert_receiver import Receiver
from alert_world import COMPLAINT, WEATHER, build_world, channel, feed, raw, rule
from sqlalchemy import select

from yuqing.alerts.dispatcher import AlertDispatcher
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database
from yuqing.store.grades import review
from yuqing.store.tables import Alert, AlertDelivery


def _alerts(db: Database) -> list[Alert]:
    with db.session() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def _deliveries(db: Database) -> list[AlertDelivery]:
    with db.session() as session:
        return list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


def _tick(dispatcher: AlertDispatcher, now: datetime | None = None) -> dict[str, int | bool]:
    return asyncio.run(dispatcher.tick(now)).as_dict()


@pytest.fixture
def quick(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"alert_backoff_seconds": 60.0, "alert_retries": 2, "alert_timeout_seconds": 5.0}
    )


def test_one_alert_per_event_and_grade_and_again_on_escalation(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    rule(db, quick, "全部负面", ["值班群"])
    dispatcher = AlertDispatcher(db, quick)
    feed(
        db,
        quick,
        raw(COMPLAINT, "https://bbs.example/t/1", views=300),
        raw(WEATHER, "https://w.example/1"),
    )
    report = _tick(dispatcher)
    assert (report["alerts"], report["sent"]) == (1, 1)
    [message] = receiver.ok("webhook")
    assert message.data["grade"] == "attention" and message.data["kind"] == "new"
    assert message.data["title"].startswith("【关注】舆情预警：云岭农商银行柜员态度冷淡")

    # The same post seen again, unchanged: the grade repeats, nothing is sent.
    feed(db, quick, raw(COMPLAINT, "https://bbs.example/t/1", views=300))
    assert _tick(dispatcher)["alerts"] == 0

    # Its views grow past 10,000: harmful, an escalation of the same item.
    feed(db, quick, raw(COMPLAINT, "https://bbs.example/t/1", views=52_000))
    report = _tick(dispatcher)
    assert (report["alerts"], report["sent"]) == (1, 1)
    escalation = receiver.ok("webhook")[-1]
    assert escalation.data["kind"] == "escalation" and escalation.data["grade"] == "harmful"
    assert escalation.data["title"].startswith("【升级】【有害】舆情预警")
    assert "等级：有害（由关注升级）" in escalation.data["body"]
    assert "负面信息总点击量达到一万以上" in escalation.data["body"]

    # A monitor grades it down to attention: lower than alerted, nothing is sent.
    standard = load_standard(quick.standard_dir, quick.taxonomy)
    item_id = escalation.data["item_id"]
    with db.session() as session:
        review(
            session,
            standard,
            item_id,
            actor="张三",
            note="已澄清",
            now=datetime.now(UTC),
            grade="attention",
        )
    assert _tick(dispatcher)["alerts"] == 0
    keys = [a.key for a in _alerts(db)]
    assert len(keys) == 2 and keys[0].endswith(":attention") and keys[1].endswith(":harmful")
    assert len(receiver.messages) == 2
