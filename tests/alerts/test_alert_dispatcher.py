"""The dispatcher on a real database, with items fed through the real pipeline and alerts
delivered to the local receiver: one alert per event and grade, escalation, quiet hours,
retries, the delivery log, and two dispatchers that never send twice."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alert_receiver import Received, Receiver
from alert_world import (
    BRANCH_RUN,
    BRANCH_RUN_FOLLOW,
    COMPLAINT,
    LULIANG,
    QILIN,
    RUN,
    WEATHER,
    build_world,
    channel,
    feed,
    raw,
    rule,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.alerts import Reminder
from yuqing.alerts.dispatcher import AlertDispatcher
from yuqing.domain import Platform
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.alerts import recent_deliveries
from yuqing.store.db import Database, open_database
from yuqing.store.grades import review
from yuqing.store.sources import add_source
from yuqing.store.tables import Alert, AlertDelivery, AlertRule, Cursor, GradeChange, Item
from yuqing.store.tables import Source as SourceRow


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


def test_items_of_one_event_alert_once_per_grade(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    rule(db, quick, "全部负面", ["值班群"])
    dispatcher = AlertDispatcher(db, quick)
    items = feed(
        db,
        quick,
        raw(BRANCH_RUN, "https://news.example/run/1", views=30_000),
        raw("转发：" + BRANCH_RUN + "网友：太吓人了。", "https://bbs.example/run/2", views=30_000),
    )
    first, copy = items["https://news.example/run/1"], items["https://bbs.example/run/2"]
    assert first.event_id is not None and first.event_id == copy.event_id
    assert (first.grade, copy.grade) == ("harmful", "harmful")
    assert _tick(dispatcher)["alerts"] == 1  # two harmful items, one event: one alert
    # A follow-up in the same event is dangerous: the event escalates, once.
    later = feed(db, quick, raw(BRANCH_RUN_FOLLOW, "https://bbs.example/run/3", views=30_000))
    assert later["https://bbs.example/run/3"].event_id == first.event_id
    assert later["https://bbs.example/run/3"].grade == "dangerous"
    assert _tick(dispatcher)["alerts"] == 1
    assert [(a.key, a.kind) for a in _alerts(db)] == [
        (f"event:{first.event_id}:harmful", "new"),
        (f"event:{first.event_id}:dangerous", "escalation"),
    ]
    assert [m.data["event_id"] for m in receiver.ok("webhook")] == [first.event_id] * 2
    assert receiver.ok("webhook")[0].data["url"].endswith(f"/events/{first.event_id}")


def test_a_monitor_raising_the_grade_re_alerts_with_the_reason(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    rule(db, quick, "全部负面", ["值班群"])
    dispatcher = AlertDispatcher(db, quick)
    items = feed(db, quick, raw(COMPLAINT, "https://bbs.example/t/9", views=100))
    _tick(dispatcher)
    standard = load_standard(quick.standard_dir, quick.taxonomy)
    with db.session() as session:
        review(
            session,
            standard,
            items["https://bbs.example/t/9"].id,
            actor="李四（监测员）",
            note="涉及储户资金安全，已在多个群传播",
            now=datetime.now(UTC),
            grade="dangerous",
        )
    assert _tick(dispatcher)["alerts"] == 1
    message = receiver.ok("webhook")[-1]
    assert message.data["kind"] == "escalation" and message.data["grade"] == "dangerous"
    assert "人工研判：李四（监测员）：涉及储户资金安全，已在多个群传播" in message.data["body"]
    assert "等级：危害（由关注升级）" in message.data["body"]


# 23:30 in Shanghai, inside quiet hours 22:00–07:00 (which end at 23:00 UTC).
NIGHT = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
MORNING = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)


def test_quiet_hours_defer_attention_but_not_harmful(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    rule(db, quick, "夜间免打扰", ["值班群"], quiet_start="22:00", quiet_end="07:00")
    dispatcher = AlertDispatcher(db, quick)
    feed(
        db,
        quick,
        raw(COMPLAINT, "https://bbs.example/t/1", views=100),
        raw(RUN, "https://weibo.example/t/2", views=52_000),
    )
    report = _tick(dispatcher, NIGHT)
    assert (report["alerts"], report["sent"]) == (2, 1)
    assert [m.data["grade"] for m in receiver.ok("webhook")] == ["dangerous"]
    deferred = [d for d in _deliveries(db) if d.status == "deferred"]
    assert len(deferred) == 1 and deferred[0].next_attempt_at == MORNING
    assert _tick(dispatcher, MORNING - timedelta(seconds=1))["sent"] == 0
    assert _tick(dispatcher, MORNING)["sent"] == 1
    assert [m.data["grade"] for m in receiver.ok("webhook")] == ["dangerous", "attention"]


def _log(db: Database) -> list[tuple[str, int, list[tuple[bool, int | None]]]]:
    with db.session() as session:
        return [
            (d.delivery.status, d.delivery.attempts, [(a.ok, a.status_code) for a in d.attempts])
            for d in recent_deliveries(session)
        ]


def test_retries_wait_doubling_then_succeed(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    rule(db, quick, "全部负面", ["值班群"])
    feed(db, quick, raw(COMPLAINT, "https://bbs.example/t/1", views=100))
    receiver.fail("/webhook", 2, status=503)
    dispatcher = AlertDispatcher(db, quick)
    start = datetime.now(UTC)
    assert _tick(dispatcher, start)["retrying"] == 1
    assert _tick(dispatcher, start + timedelta(seconds=59))["retrying"] == 0  # not due yet
    assert _tick(dispatcher, start + timedelta(seconds=60))["retrying"] == 1
    [delivery] = _deliveries(db)
    assert delivery.next_attempt_at == start + timedelta(seconds=60 + 120)  # the wait doubled
    assert _tick(dispatcher, start + timedelta(seconds=179))["sent"] == 0
    assert _tick(dispatcher, start + timedelta(seconds=180))["sent"] == 1
    assert _log(db) == [("sent", 3, [(False, 503), (False, 503), (True, 200)])]


def test_a_delivery_fails_after_the_last_retry_with_the_last_error(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    rule(db, quick, "全部负面", ["值班群"])
    feed(db, quick, raw(COMPLAINT, "https://bbs.example/t/1", views=100))
    receiver.fail("/webhook", 10, status=500)
    dispatcher = AlertDispatcher(db, quick)
    start = datetime.now(UTC)
    for offset in (0, 60, 180):
        _tick(dispatcher, start + timedelta(seconds=offset))
    [delivery] = _deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert delivery.error is not None and delivery.error.startswith("对方返回 HTTP 500")
    assert _tick(dispatcher, start + timedelta(days=1))["sent"] == 0
    assert len(receiver.messages) == 3  # 1 try + alert_retries (2)


def test_a_disabled_channel_fails_the_delivery_in_words(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "备用群", "webhook", {"url": f"{receiver.base}/webhook/spare"}, enabled=False)
    rule(db, quick, "全部负面", ["备用群"])
    feed(db, quick, raw(COMPLAINT, "https://bbs.example/t/1", views=100))
    assert _tick(AlertDispatcher(db, quick))["failed"] == 1
    [delivery] = _deliveries(db)
    assert delivery.status == "failed" and delivery.attempts == 1
    assert delivery.error == "通道「备用群」已停用，未发送；启用后新的预警才会发往该通道"
    assert receiver.messages == []


def test_rule_filters_unit_subtree_subject_category_and_platform(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    world = build_world(db)
    channel(db, "群", "webhook", {"url": f"{receiver.base}/webhook/all"})
    with db.session() as session:
        source = add_source(
            session,
            SourceRow(name="陆良论坛", kind="manual", unit_id=world.county),
            datetime.now(UTC),
        )
        source_id = source.id
    rule(db, quick, "曲靖市及下级", ["群"], unit="QJ")
    rule(db, quick, "仅曲靖市本级", ["群"], unit="QJ", include_subtree=False)
    rule(db, quick, "陆良县联社", ["群"], unit="LL")
    rule(db, quick, "陆良支行主题", ["群"], subjects=["陆良支行"])
    rule(db, quick, "银行卡类", ["群"], categories=["8"])
    rule(db, quick, "风险类", ["群"], categories=["30"])
    rule(db, quick, "微博", ["群"], platforms=["weibo"])
    rule(db, quick, "只要有害", ["群"], grades=["harmful", "dangerous"])
    from_source = raw(COMPLAINT, "https://bbs.example/src")
    from_source.source_id = source_id
    feed(
        db,
        quick,
        raw(LULIANG, "https://bbs.example/ll"),
        raw(QILIN, "https://weibo.example/ql", platform=Platform.WEIBO),
        from_source,
    )
    _tick(AlertDispatcher(db, quick))
    with db.session() as session:
        rows = session.execute(
            select(AlertRule.name, Item.url)
            .join(Alert, Alert.rule_id == AlertRule.id)
            .join(Item, Item.id == Alert.item_id)
        ).all()
    matched: dict[str, set[str]] = {}
    for name, url in rows:
        matched.setdefault(name, set()).add(url.rsplit("/", 1)[1])
    assert matched == {
        "曲靖市及下级": {"ql"},
        "陆良县联社": {"ll", "src"},  # its subject's unit, and its source's unit
        "陆良支行主题": {"ll"},
        "银行卡类": {"ll", "ql", "src"},
        "微博": {"ql"},
    }


def test_two_dispatchers_never_raise_or_send_twice(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    channel(db, "短信", "sms", {"url": f"{receiver.base}/sms", "phones": ["13800000000"]})
    rule(db, quick, "全部负面", ["值班群", "短信"])
    feed(
        db,
        quick,
        raw(COMPLAINT, "https://bbs.example/t/1", views=100),
        raw(LULIANG, "https://bbs.example/t/2"),
    )
    one, two = AlertDispatcher(db, quick), AlertDispatcher(db, quick)

    async def both() -> None:
        await asyncio.gather(one.tick(), two.tick(), one.tick(), two.tick())

    asyncio.run(both())
    assert len(_alerts(db)) == 2
    assert [d.status for d in _deliveries(db)] == ["sent"] * 4
    assert len(receiver.messages) == 4


def test_deadline_reminders_go_once_to_rules_covering_the_unit(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    world = build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    rule(db, quick, "省联社", ["值班群"], unit="YN")
    rule(db, quick, "曲靖市", ["值班群"], unit="QJ")
    rule(db, quick, "不提醒", ["值班群"], remind_deadlines=False)
    due = datetime.now(UTC) + timedelta(minutes=30)

    def reminders(session: Session, now: datetime) -> list[Reminder]:
        return [
            Reminder(
                key="case:1:phone_report",
                unit_id=world.county,
                case_id=None,
                title="【提醒】电话报告将于 30 分钟后到期",
                body="截止时间：今天 10:30\n案件详情：http://127.0.0.1:8000/cases/1",
                due_at=due,
                grade="harmful",
            )
        ]

    dispatcher = AlertDispatcher(db, quick, reminders=reminders)
    report = _tick(dispatcher)
    assert (report["reminders"], report["sent"]) == (1, 1)
    [message] = receiver.ok("webhook")
    assert message.data["kind"] == "reminder" and message.data["title"].startswith("【提醒】")
    assert _tick(dispatcher)["reminders"] == 0  # once per key and rule


def test_wake_makes_the_running_worker_tick_at_once(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    rule(db, quick, "全部负面", ["值班群"])
    # Polling every 5 minutes: only a wake can bring the alert within the test's wait.
    dispatcher = AlertDispatcher(db, quick.model_copy(update={"alert_poll_seconds": 300.0}))

    def first_tick_done() -> bool:
        with db.session() as session:
            return session.get(Cursor, "alerts.grades") is not None

    async def scenario() -> list[Received]:
        worker = asyncio.create_task(dispatcher.run_forever())
        while not first_tick_done():
            await asyncio.sleep(0.01)
        await asyncio.to_thread(feed, db, quick, raw(COMPLAINT, "https://bbs.example/w", views=100))
        threading.Thread(target=dispatcher.wake).start()  # as the push API does, from a thread
        arrived = await asyncio.to_thread(receiver.wait_for, 1, 60.0)
        worker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await worker
        return arrived

    assert [m.data["grade"] for m in asyncio.run(scenario())] == ["attention"]


def test_the_worker_logs_failed_ticks_and_goes_on(
    tmp_path: Path, quick: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # A database without tables: every tick fails.
    broken = open_database(f"sqlite:///{tmp_path / 'empty.db'}", migrate=False)
    dispatcher = AlertDispatcher(broken, quick.model_copy(update={"alert_poll_seconds": 0.01}))

    def failures() -> int:
        return sum("alert tick failed" in r.getMessage() for r in caplog.records)

    async def scenario() -> bool:
        worker = asyncio.create_task(dispatcher.run_forever())
        while failures() < 3:
            await asyncio.sleep(0.01)
        running = not worker.done()
        worker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await worker
        return running

    with caplog.at_level(logging.ERROR, logger="yuqing.alerts"):
        assert asyncio.run(scenario()) is True
    broken.dispose()


def test_a_grade_the_standard_does_not_know_is_skipped_not_a_blockage(
    db: Database, quick: Settings, receiver: Receiver
) -> None:
    build_world(db)
    channel(db, "值班群", "webhook", {"url": f"{receiver.base}/webhook/duty"})
    rule(db, quick, "全部负面", ["值班群"])
    first = feed(db, quick, raw(WEATHER, "https://w.example/old"))["https://w.example/old"]
    with db.session() as session:  # a row written under an earlier standard
        session.add(
            GradeChange(
                item_id=first.id, at=datetime.now(UTC), by="machine", cause="ingest", grade="severe"
            )
        )
    feed(db, quick, raw(COMPLAINT, "https://bbs.example/new", views=100))
    report = _tick(AlertDispatcher(db, quick))
    assert (report["alerts"], report["sent"]) == (1, 1)
