"""The case workflow applied by CaseService: who may do what, in which state, with which
fields and measures; stamps, timeline and audit rows; numbering; visibility."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo_items import uncased_item
from yuqing.accounts.actor import SYSTEM, Actor
from yuqing.accounts.manage import actor_for
from yuqing.cases.service import CaseService
from yuqing.cases.workflow import load_workflow
from yuqing.demo import install_demo
from yuqing.errors import AccessError, InputError, WorkflowError
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store import audit
from yuqing.store import cases as case_store
from yuqing.store.db import Database, open_database
from yuqing.store.tables import AuditEntry, Case, Event, Item
from yuqing.store.users import find_user

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Beijing
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Settings]]:
    root: Path = tmp_path_factory.mktemp("cases")
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


def harmful_item(session: Session, seen_by: Actor | None = None) -> Item:
    """A negative demo item in an event that has no case yet (and that `seen_by` sees)."""
    if seen_by is None:
        return uncased_item(session, None, ("harmful", "dangerous"))
    return uncased_item(session, seen_by, ("attention", "harmful", "dangerous"))


def walk_to(service: CaseService, session: Session, case: Case, state: str) -> None:
    steps = {
        "reported": [("office", "report", {"reporting_opinion": "建议报请领导阅示"})],
        "instructed": [("leader", "instruct", {"instruction": "请迅速核实"})],
        "handling": [("office", "handle", {"handling_opinion": "拟定应对口径"})],
    }
    order = ["reported", "instructed", "handling"]
    for target in order[: order.index(state) + 1]:
        for who, action, inputs in steps[target]:
            service.act(session, actor(session, who), case, action, inputs, NOW)


def test_a_case_walks_from_discovery_to_closure(session: Session, service: CaseService) -> None:
    item = harmful_item(session)
    case = service.open(session, actor(session, "monitor"), NOW, item_id=item.id)
    assert case.state == "draft"
    assert case.number == f"QS-HQ-2026-{case.seq:04d}"
    assert case.grade == "harmful" and case.item_id == item.id and case.event_id == item.event_id
    assert case.url == item.url and case.captured_by == "李若溪"
    service.act(
        session, actor(session, "monitor"), case, "phone_report", {"note": "已电话报告"}, NOW
    )
    assert case.phone_reported_at == NOW and case.phone_reported_by == "李若溪（monitor）"
    walk_to(service, session, case, "handling")
    assert case.reported_at == NOW and case.instruction_by == "周明远（leader）"
    office = actor(session, "office")
    service.act(session, office, case, "set_measures", {"measures": ["response_line"]}, NOW)
    service.act(session, office, case, "record_handling", {"implementation": "已回应"}, NOW)
    later = NOW + timedelta(hours=3)
    service.act(
        session, office, case, "close", {"result": "clarified", "implementation": "已澄清"}, later
    )
    assert case.state == "closed" and case.closed_at == later and case.result == "clarified"
    assert [a.action for a in case.actions] == [
        "create",
        "phone_report",
        "report",
        "instruct",
        "handle",
        "set_measures",
        "record_handling",
        "close",
    ]
    assert [a.to_state for a in case.actions][-1] == "closed"
    logged = session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.target_type == "case", AuditEntry.target_id == str(case.id)
        )
    ).all()
    assert logged == [f"case.{a.action}" for a in case.actions]
    assert audit.verify(session).ok
    assert service.allowed_actions(session, office, case) == []


@pytest.mark.parametrize(
    ("who", "action", "inputs", "words"),
    [
        ("viewer", "edit", {"topic": "x"}, "须由舆情监测员、责任部门进行"),
        ("monitor", "report", {"reporting_opinion": "x"}, "须由责任部门进行"),
        ("leader", "report", {"reporting_opinion": "x"}, "当前角色是领导"),
        ("office", "instruct", {"instruction": "x"}, "不能「领导批示」"),
        ("office", "close", {"result": "no_action"}, "处于「草稿」状态"),
        ("admin", "edit", {"topic": "x"}, "当前角色是管理员"),
    ],
)
def test_the_table_refuses_what_it_does_not_list(
    session: Session,
    service: CaseService,
    who: str,
    action: str,
    inputs: dict[str, str],
    words: str,
) -> None:
    case = service.open(session, actor(session, "monitor"), NOW, item_id=harmful_item(session).id)
    with pytest.raises(WorkflowError, match=words):
        service.act(session, actor(session, who), case, action, inputs, NOW)
    assert case.state == "draft"


def test_every_cell_of_the_table_is_enforced(session: Session, service: CaseService) -> None:
    """For every state, action and role: check() allows exactly what the YAML lists."""
    workflow = load_workflow()
    for state in workflow.states:
        for action in workflow.actions:
            for role in ("admin", "monitor", "office", "leader", "viewer"):
                listed = state.code in action.from_states and role in action.roles
                try:
                    workflow.check(state.code, action, role, own_unit=True, upper=False)
                    allowed = True
                except WorkflowError:
                    allowed = False
                assert allowed == listed, (state.code, action.code, role)


def test_required_fields_and_unknown_fields(session: Session, service: CaseService) -> None:
    case = service.open(session, actor(session, "monitor"), NOW, item_id=harmful_item(session).id)
    office = actor(session, "office")
    with pytest.raises(InputError, match="须填写：上报意见"):
        service.act(session, office, case, "report", {}, NOW)
    with pytest.raises(InputError, match="不能填写这些字段：instruction"):
        service.act(
            session, office, case, "report", {"reporting_opinion": "x", "instruction": "y"}, NOW
        )
    with pytest.raises(InputError, match="份数"):
        service.act(session, office, case, "edit", {"copies": "many"}, NOW)
    with pytest.raises(InputError, match="http"):
        service.act(session, office, case, "edit", {"url": "javascript:alert(1)"}, NOW)


def test_measures_follow_the_grade(session: Session, service: CaseService) -> None:
    case = service.open(session, actor(session, "monitor"), NOW, item_id=harmful_item(session).id)
    walk_to(service, session, case, "instructed")
    office = actor(session, "office")
    with pytest.raises(WorkflowError, match="「有害」等级不能采取以下措施：召开新闻发布会"):
        service.act(session, office, case, "set_measures", {"measures": ["press_conference"]}, NOW)
    with pytest.raises(WorkflowError, match="须先在报告处理单上注明内容违法或虚假"):
        service.act(session, office, case, "set_measures", {"measures": ["report_to_police"]}, NOW)
    service.act(session, office, case, "edit", {"illegal_or_false": "on"}, NOW)
    service.act(
        session,
        office,
        case,
        "set_measures",
        {"measures": ["report_to_police", "response_line", "reply_post"]},
        NOW,
    )
    # Down to attention: the response line is no longer allowed and is dropped, with a record.
    service.act(session, office, case, "regrade", {"grade": "attention", "note": "影响有限"}, NOW)
    assert case.measures == ["report_to_police", "reply_post"]
    assert case.actions[-1].detail["removed_measures"] == ["response_line"]
    # Not illegal after all: the police report goes too.
    service.act(session, office, case, "edit", {"illegal_or_false": False}, NOW)
    assert case.measures == ["reply_post"]


def test_one_event_one_case(session: Session, service: CaseService) -> None:
    item = harmful_item(session)
    assert item.event_id is not None
    first = service.open(session, actor(session, "monitor"), NOW, item_id=item.id)
    with pytest.raises(WorkflowError, match=f"已有报告处理单 {first.number}"):
        service.open(session, actor(session, "office"), NOW, event_id=item.event_id)
    event = session.get(Event, item.event_id)
    assert event is not None and first.topic == event.title


def test_numbers_run_per_unit_and_year(session: Session, service: CaseService) -> None:
    monitor = actor(session, "monitor")
    qj = actor(session, "qj_monitor")
    a = service.open(session, monitor, NOW, item_id=harmful_item(session).id)
    b = service.open(session, qj, NOW, item_id=harmful_item(session, qj).id)
    c = service.open(session, monitor, NOW, item_id=harmful_item(session).id)
    assert (a.unit_id, c.seq) == (monitor.unit_id, a.seq + 1)
    assert b.number.startswith("QS-QJ-2026-") and b.seq == 1
    next_year = service.open(
        session, monitor, NOW + timedelta(days=60), item_id=harmful_item(session).id
    )
    assert next_year.number == "QS-HQ-2027-0001"


def test_escalation_makes_the_case_visible_above_and_lets_it_instruct(
    session: Session, service: CaseService
) -> None:
    qj_office = actor(session, "qj_office")
    hq_leader = actor(session, "leader")
    qj_monitor = actor(session, "qj_monitor")
    case = service.open(session, qj_monitor, NOW, item_id=harmful_item(session, qj_monitor).id)
    service.act(session, qj_office, case, "report", {"reporting_opinion": "报分行领导"}, NOW)
    session.flush()
    assert case_store.visible_case(session, hq_leader, case.id) is None
    with pytest.raises(WorkflowError, match="只能由本单位进行"):
        service.act(session, hq_leader, case, "instruct", {"instruction": "x"}, NOW)
    service.act(session, qj_office, case, "escalate", {}, NOW)
    assert case.escalated_to_id == hq_leader.unit_id  # 曲靖 → 总行
    assert case_store.visible_case(session, hq_leader, case.id) is case
    service.act(session, hq_leader, case, "comment", {"note": "请续报进展"}, NOW)
    service.act(session, hq_leader, case, "instruct", {"instruction": "请妥善处置"}, NOW)
    assert case.state == "instructed" and case.instruction_by == "周明远（leader）"
    # The upper unit may not do the subordinate unit's own steps.
    with pytest.raises(WorkflowError, match="只能由本单位进行"):
        service.act(
            session, actor(session, "office"), case, "handle", {"handling_opinion": "x"}, NOW
        )
    service.act(session, qj_office, case, "follow_up", {"note": "续报：已联系发帖人"}, NOW)
    with pytest.raises(WorkflowError, match="最上级单位"):
        service.act(session, qj_office, case, "escalate", {}, NOW)
    # Visible to the monitor of 曲靖 (own unit) and HQ; not to a unit beside it.
    page = case_store.list_cases(
        session, hq_leader, case_store.CaseFilter(), final_states=["closed", "withdrawn"]
    )
    assert case.id in [row.id for row in page.rows]


def test_withdraw_needs_a_reason_and_ends_the_case(session: Session, service: CaseService) -> None:
    case = service.open(session, actor(session, "monitor"), NOW, item_id=harmful_item(session).id)
    office = actor(session, "office")
    with pytest.raises(InputError, match="说明"):
        service.act(session, office, case, "withdraw", {}, NOW)
    service.act(session, office, case, "withdraw", {"note": "重复填报"}, NOW)
    assert case.state == "withdrawn" and case.actions[-1].note == "重复填报"
    assert case.withdraw_reason == "重复填报"
    with pytest.raises(WorkflowError, match="已撤回"):
        service.act(session, office, case, "edit", {"topic": "x"}, NOW)


def test_files_are_checked_stored_and_on_the_timeline(
    session: Session, service: CaseService
) -> None:
    case = service.open(session, actor(session, "monitor"), NOW, item_id=harmful_item(session).id)
    monitor = actor(session, "monitor")
    row = service.add_file(session, monitor, case, "截图.png", PNG, NOW)
    assert row.media_type == "image/png" and case.actions[-1].detail["file"] == "截图.png"
    with pytest.raises(InputError, match="须为图片"):
        service.add_file(session, monitor, case, "x.exe", b"MZ\x90\x00", NOW)
    with pytest.raises(WorkflowError):
        service.add_file(session, actor(session, "leader"), case, "y.png", PNG, NOW)


def test_who_may_open_a_case(session: Session, service: CaseService) -> None:
    item = harmful_item(session)
    with pytest.raises(AccessError):
        service.open(session, actor(session, "leader"), NOW, item_id=item.id)
    with pytest.raises(WorkflowError, match="系统账号"):
        service.open(session, SYSTEM, NOW, item_id=item.id)
    with pytest.raises(InputError, match="不存在"):
        service.open(session, actor(session, "monitor"), NOW, item_id=10**9)
