"""Deadline reminders: due soon, then overdue, once each per alert rule; a met step stops."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from yuqing.accounts.actor import SYSTEM
from yuqing.accounts.manage import actor_for
from yuqing.alerts.dispatcher import AlertDispatcher
from yuqing.alerts.manage import ChannelInput, RuleInput, add_channel, add_rule
from yuqing.cases.reminders import deadline_reminders
from yuqing.cases.service import CaseService
from yuqing.demo import install_demo
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database, open_database
from yuqing.store.tables import Alert, Case, Item
from yuqing.store.users import find_user

DISCOVERED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 in Beijing


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Database, Settings]]:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'y.db'}")
    db = open_database(settings.resolved_database_url)
    install_demo(db, settings, DISCOVERED)
    yield db, settings
    db.dispose()


def open_harmful_case(db: Database, settings: Settings) -> int:
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    service = CaseService(standard, settings)
    with db.session() as session:
        user = find_user(session, "monitor")
        assert user is not None
        item = session.scalars(select(Item).where(Item.grade == "harmful")).first()
        assert item is not None
        case = service.open(session, actor_for(session, user), DISCOVERED, item_id=item.id)
        case.discovered_at = DISCOVERED  # the demo item's own time varies; fix the clock
        return case.id


def keys(db: Database, settings: Settings, at: datetime) -> set[str]:
    source = deadline_reminders(load_standard(settings.standard_dir, settings.taxonomy), settings)
    with db.session() as session:
        return {r.key for r in source(session, at)}


def test_reminders_come_before_and_after_each_deadline(
    demo: tuple[Database, Settings],
) -> None:
    db, settings = demo
    case_id = open_harmful_case(db, settings)
    # 40 minutes in: the 1-hour phone report is 20 minutes away (reminders 30 minutes ahead).
    assert keys(db, settings, DISCOVERED + timedelta(minutes=40)) == {
        f"case:{case_id}:phone_report:soon"
    }
    assert keys(db, settings, DISCOVERED + timedelta(minutes=10)) == set()
    late = keys(db, settings, DISCOVERED + timedelta(hours=2, minutes=5))
    assert {
        f"case:{case_id}:phone_report:overdue",
        f"case:{case_id}:written_report:overdue",
    } <= late
    # The phone report made: its reminders stop.
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    with db.session() as session:
        user = find_user(session, "monitor")
        assert user is not None
        case = session.get(Case, case_id)
        assert case is not None
        CaseService(standard, settings).act(
            session,
            actor_for(session, user),
            case,
            "phone_report",
            {"note": "已电话报告"},
            DISCOVERED + timedelta(minutes=45),
        )
    after = keys(db, settings, DISCOVERED + timedelta(hours=2, minutes=5))
    assert not any("phone_report" in key for key in after)


def test_no_reminders_when_turned_off(demo: tuple[Database, Settings]) -> None:
    db, settings = demo
    open_harmful_case(db, settings)
    quiet = settings.model_copy(update={"deadline_reminder_minutes": 0})
    assert keys(db, quiet, DISCOVERED + timedelta(hours=3)) == set()


def test_the_dispatcher_raises_each_reminder_once_per_rule(
    demo: tuple[Database, Settings],
) -> None:
    db, settings = demo
    case_id = open_harmful_case(db, settings)
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    with db.session() as session:
        add_channel(
            session,
            SYSTEM,
            ChannelInput("办公室", "webhook", {"url": "http://127.0.0.1:9/hook"}),
            DISCOVERED,
        )
        add_rule(
            session, standard, SYSTEM, RuleInput("时限提醒", ["办公室"], unit="HQ"), DISCOVERED
        )
    dispatcher = AlertDispatcher(db, settings, reminders=deadline_reminders(standard, settings))
    at = DISCOVERED + timedelta(minutes=40)

    async def twice() -> None:
        await dispatcher.tick(at)
        await dispatcher.tick(at + timedelta(seconds=30))

    asyncio.run(twice())
    with db.session() as session:
        reminders = session.scalars(select(Alert).where(Alert.kind == "reminder")).all()
        assert [(a.key, a.case_id) for a in reminders] == [
            (f"reminder:case:{case_id}:phone_report:soon", case_id)
        ]
        assert "电话报告" in reminders[0].title and f"/cases/{case_id}" in reminders[0].body
