"""A case as people see it: its clock and steps, the printed form, the API JSON, the list
filter and the overdue count — over the demo organization in a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from demo_items import uncased_item
from yuqing.accounts.actor import Actor
from yuqing.accounts.manage import actor_for
from yuqing.cases.listing import case_filter, overdue_summary
from yuqing.cases.present import (
    action_name,
    case_clock,
    case_form,
    case_json,
    case_steps_now,
    measures_json,
    next_step,
    steps_of,
)
from yuqing.cases.service import CaseService
from yuqing.demo import install_demo
from yuqing.errors import ConfigError, InputError
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database, open_database
from yuqing.store.tables import Case, CaseAction
from yuqing.store.units import unit_by_code
from yuqing.store.users import find_user

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 in Beijing
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Settings]]:
    root: Path = tmp_path_factory.mktemp("present")
    settings = Settings(data_dir=root / "data", database_url=f"sqlite:///{root / 'y.db'}")
    db = open_database(settings.resolved_database_url)
    install_demo(db, settings, NOW)
    yield db, settings
    db.dispose()


@pytest.fixture
def session(demo: tuple[Database, Settings]) -> Iterator[Session]:
    """A session whose changes are rolled back after the test."""
    db, _settings = demo
    with db.sessions() as session:
        yield session
        session.rollback()


@pytest.fixture
def service(demo: tuple[Database, Settings]) -> CaseService:
    _db, settings = demo
    return CaseService(load_standard(settings.standard_dir, settings.taxonomy), settings)


def actor(session: Session, username: str) -> Actor:
    user = find_user(session, username)
    assert user is not None
    return actor_for(session, user)


def open_case(
    session: Session, service: CaseService, username: str = "monitor", found: datetime = NOW
) -> Case:
    """A draft from a harmful demo item the user sees, discovered at `found`."""
    who = actor(session, username)
    item = uncased_item(session, who)
    case = service.open(session, who, NOW, item_id=item.id)
    case.discovered_at = found
    return case


def act(
    session: Session,
    service: CaseService,
    case: Case,
    who: str,
    action: str,
    at: datetime,
    **f: object,
) -> None:
    service.act(session, actor(session, who), case, action, f, at)


def test_clock_takes_the_units_level_and_the_last_follow_up(
    session: Session, service: CaseService
) -> None:
    hq = open_case(session, service)
    qj = open_case(session, service, "qj_office")
    assert case_clock(session, hq, service.workflow).unit_level == "province"
    assert case_clock(session, qj, service.workflow).unit_level == "city"
    act(session, service, hq, "office", "report", NOW, reporting_opinion="报请阅示")
    act(session, service, hq, "monitor", "follow_up", NOW + timedelta(hours=1), note="续报一")
    act(session, service, hq, "office", "follow_up", NOW + timedelta(hours=5), note="续报二")
    clock = case_clock(session, hq, service.workflow)
    assert clock.follow_up_at == NOW + timedelta(hours=5)
    assert clock.reported_at == NOW and not clock.withdrawn
    act(session, service, hq, "office", "withdraw", NOW, note="重复上报")
    assert case_clock(session, hq, service.workflow).withdrawn


def test_steps_of_a_harmful_case_past_an_hour(session: Session, service: CaseService) -> None:
    case = open_case(session, service, found=NOW - timedelta(minutes=90))
    steps = {s.code: s for s in case_steps_now(session, service, case, NOW)}
    assert steps["phone_report"].state == "overdue"
    assert steps["phone_report"].remaining_text() == "已超时 30 分"
    assert steps["written_report"].state == "due_soon"  # 30 min left, reminders at 30
    assert steps["report_form"].state == "open"  # next working day, Monday
    assert next_step(steps.values()) is steps["phone_report"]
    act(session, service, case, "monitor", "phone_report", NOW, note="已电话报告")
    after = {s.code: s for s in case_steps_now(session, service, case, NOW)}
    assert after["phone_report"].state == "late" and after["phone_report"].met_at == NOW
    assert next_step(after.values()) is after["written_report"]


def test_steps_stop_counting_once_the_case_is_closed(
    session: Session, service: CaseService
) -> None:
    case = open_case(session, service, found=NOW - timedelta(minutes=30))
    act(session, service, case, "office", "report", NOW, reporting_opinion="报请阅示")
    act(session, service, case, "leader", "instruct", NOW, instruction="请处置")
    act(session, service, case, "office", "handle", NOW, handling_opinion="口径")
    act(session, service, case, "office", "close", NOW, result="no_action", implementation="已办")
    steps = {s.code: s for s in case_steps_now(session, service, case, NOW + timedelta(days=9))}
    assert steps["written_report"].state == "met"
    assert steps["phone_report"].state == "untimed"  # never phoned; no longer counted
    assert steps["disposal_report"].state == "met"
    assert next_step(steps.values()) is None


def test_many_cases_at_once_agree_with_one_at_a_time(
    session: Session, service: CaseService
) -> None:
    cases = [
        open_case(session, service, found=NOW - timedelta(hours=3)),
        open_case(session, service, "qj_office", found=NOW - timedelta(minutes=10)),
    ]
    act(session, service, cases[0], "office", "report", NOW, reporting_opinion="报请阅示")
    act(session, service, cases[0], "monitor", "follow_up", NOW, note="续报")
    batch = steps_of(session, service, cases, NOW)
    for case in cases:
        assert batch[case.id] == case_steps_now(session, service, case, NOW)
    assert {s.code: s.state for s in batch[cases[0].id]}["follow_up_report"] == "met"


def test_the_printed_form(session: Session, service: CaseService) -> None:
    case = open_case(session, service)
    act(session, service, case, "office", "report", NOW, reporting_opinion="建议报请领导阅示")
    act(session, service, case, "leader", "instruct", NOW, instruction="请迅速核实")
    act(
        session,
        service,
        case,
        "office",
        "handle",
        NOW,
        handling_opinion="拟定口径",
        measures=["response_line", "reply_post"],
    )
    service.add_file(session, actor(session, "office"), case, "截图.png", PNG, NOW)
    form = case_form(session, service, case, NOW)
    assert form.number == case.number and form.unit_name == "云岭农商银行总行"
    assert form.state_name == "处置中" and form.grade_name == "有害"
    assert form.captured_by == "李若溪" and form.copies == "1" and form.url == case.url
    assert form.reporting_opinion == "建议报请领导阅示"
    assert form.instruction == "请迅速核实" and form.instruction_by == "周明远（leader）"
    assert form.instruction_at == "2026-11-20 10:00" and form.reported_at == "2026-11-20 10:00"
    assert form.measures == ["拟定应对口径", "跟帖回帖"]
    assert form.attachments == ["截图.png"]
    assert form.printed_at == "2026-11-20 10:00"
    assert [row[2] for row in form.timeline] == [
        "新建报告处理单",
        "上报领导",
        "领导批示",
        "开始处置",
        "添加附件",
    ]
    assert ("电话报告", "2026-11-20 11:00", "剩余 1 小时") in form.steps


def test_case_json_has_every_field_and_the_callers_actions(
    session: Session, service: CaseService
) -> None:
    case = open_case(session, service)
    monitor, office, leader = (actor(session, n) for n in ("monitor", "office", "leader"))
    body = case_json(session, service, case, NOW, monitor)
    for field in (
        "number",
        "source_name",
        "captured_by",
        "captured_at",
        "copies",
        "url",
        "topic",
        "reporting_opinion",
        "instruction",
        "instruction_by",
        "instruction_at",
        "handling_opinion",
        "implementation",
        "measures",
        "result",
        "grade",
        "category",
        "files",
        "timeline",
        "steps",
        "escalated_to",
    ):
        assert field in body, field
    assert body["state_name"] == "草稿" and body["unit"]["code"] == "HQ"
    assert [a["code"] for a in body["allowed_actions"]] == [
        "edit",
        "regrade",
        "phone_report",
        "attach",
    ]
    office_actions = {
        a["code"]: a for a in case_json(session, service, case, NOW, office)["allowed_actions"]
    }
    assert office_actions["report"]["fields"] == [
        {"name": "reporting_opinion", "label": "上报意见", "required": True},
        {"name": "note", "label": "说明", "required": False},
    ]
    assert case_json(session, service, case, NOW, leader)["allowed_actions"] == []
    assert case_json(session, service, case, NOW, None)["allowed_actions"] == []
    assert body["timeline"][0]["action_name"] == "新建报告处理单"
    assert body["timeline"][0]["role_name"] == "舆情监测员"
    case.actions.append(
        CaseAction(
            at=NOW, actor="旧系统", role=None, action="legacy_step", to_state="draft", detail={}
        )
    )
    session.flush()
    last = case_json(session, service, case, NOW, monitor)["timeline"][-1]
    assert last["action_name"] == "legacy_step" and last["role_name"] is None
    assert action_name(service.workflow, "close") == "办结"


def test_measures_offered_per_grade(service: CaseService) -> None:
    harmful = {m["code"]: m for m in measures_json(service.standard, "harmful", False)}
    assert "authority_coordination" not in harmful and "for_information" not in harmful
    assert harmful["response_line"]["allowed"] and not harmful["request_deletion"]["allowed"]
    assert harmful["request_deletion"]["illegal_or_false_only"]
    flagged = {m["code"]: m for m in measures_json(service.standard, "harmful", True)}
    assert flagged["request_deletion"]["allowed"]
    dangerous = [m["code"] for m in measures_json(service.standard, "dangerous", False)]
    assert "press_conference" in dangerous
    with pytest.raises(ConfigError):
        measures_json(service.standard, "catastrophic", False)


def test_list_filter_from_request_words(session: Session, service: CaseService) -> None:
    flt = case_filter(session, service, state="draft", grade="harmful", unit="QJ", q="  征信 ")
    qj = unit_by_code(session, "QJ")
    assert qj is not None
    assert (flt.state, flt.grade, flt.unit_id, flt.q) == ("draft", "harmful", qj.id, "征信")
    assert case_filter(session, service, unit=str(qj.id)).unit_id == qj.id
    days = case_filter(session, service, since="2026-11-20", until="2026-11-20")
    assert days.since == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)  # 00:00 in Beijing
    assert days.until == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # the whole day counts
    bad = [
        ({"state": "open"}, "state", "状态 'open' 无效"),
        ({"grade": "bad"}, "grade", "等级 'bad' 无效"),
        ({"unit": "NOWHERE"}, "unit", "单位 'NOWHERE' 不存在"),
        ({"unit": "99999"}, "unit", "不存在"),
        ({"since": "20.11.2026"}, "since", "起始日期须为日期"),
        ({"until": "明天"}, "until", "截止日期须为日期"),
    ]
    for params, where, words in bad:
        with pytest.raises(InputError, match=words) as caught:
            case_filter(session, service, **params)  # type: ignore[arg-type]
        assert caught.value.where == where


def test_overdue_summary_counts_open_cases_the_actor_sees(
    session: Session, service: CaseService
) -> None:
    before_hq = overdue_summary(session, service, actor(session, "office"), NOW)
    before_qj = overdue_summary(session, service, actor(session, "qj_office"), NOW)
    late = open_case(session, service, found=NOW - timedelta(hours=3))  # phone and written late
    open_case(session, service, found=NOW)  # nothing due yet
    qj_late = open_case(session, service, "qj_office", found=NOW - timedelta(hours=2))
    assert overdue_summary(session, service, actor(session, "office"), NOW) == (
        before_hq[0] + 2,
        before_hq[1] + 1,
    )
    assert overdue_summary(session, service, actor(session, "qj_office"), NOW) == (
        before_qj[0] + 2,
        before_qj[1] + 1,
    )
    act(session, service, late, "office", "withdraw", NOW, note="误报")
    act(session, service, qj_late, "qj_monitor", "phone_report", NOW, note="已电话报告")
    assert overdue_summary(session, service, actor(session, "office"), NOW) == before_hq
    assert overdue_summary(session, service, actor(session, "qj_office"), NOW) == (
        before_qj[0] + 1,
        before_qj[1] + 1,
    )
