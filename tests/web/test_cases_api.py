"""/api/cases over the demo organization: the walk from discovery to closure by each role,
refusals in words, escalation to the upper unit, deadlines, files and the DOCX form."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import docx
import pytest
from case_helpers import PNG, SignIn, found_ago, negative_item, with_token
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from yuqing.store.db import Database
from yuqing.store.tables import AuditEntry, Item
from yuqing.web.api.cases import content_disposition


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(response: Any, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]["message"]
    for word in words:
        assert word in message, message
    return message


def codes(case: dict[str, Any]) -> list[str]:
    return [a["code"] for a in case["allowed_actions"]]


def test_the_whole_walk_by_monitor_office_and_leader(
    demo_app: FastAPI, sqlite_db: Database, signed_in: SignIn
) -> None:
    monitor = signed_in("monitor")
    office = with_token(demo_app, sqlite_db, "office")
    leader = signed_in("leader")
    item_id = negative_item(sqlite_db, "monitor")

    case = ok(monitor.post("/api/cases", json={"item_id": item_id}), 201)
    cid = case["id"]
    assert case["state"] == "draft" and case["state_name"] == "草稿"
    assert case["number"].startswith("QS-HQ-") and case["grade"] == "harmful"
    assert case["item_id"] == item_id and case["captured_by"] == "李若溪"
    assert codes(case) == ["edit", "regrade", "phone_report", "attach"]
    assert {s["code"] for s in case["steps"]} >= {"phone_report", "written_report", "report_form"}

    case = ok(monitor.post(f"/api/cases/{cid}/actions/phone_report", json={"note": "已电话报告"}))
    assert case["phone_reported_by"] == "李若溪（monitor）" and case["phone_reported_at"]
    phone = next(s for s in case["steps"] if s["code"] == "phone_report")
    assert phone["met_at"] == case["phone_reported_at"] and phone["state"] in ("met", "late")

    assert "report" in codes(ok(office.get(f"/api/cases/{cid}")))
    case = ok(
        office.post(
            f"/api/cases/{cid}/actions/report",
            json={"reporting_opinion": "该信息涉及我行征信查询，建议报请领导阅示。"},
        )
    )
    assert case["state"] == "reported" and case["reported_at"]
    assert "该信息涉及我行征信查询" in case["reporting_opinion"]

    assert codes(ok(leader.get(f"/api/cases/{cid}"))) == ["instruct", "comment"]
    case = ok(
        leader.post(f"/api/cases/{cid}/actions/instruct", json={"instruction": "请办公室核实处置"})
    )
    assert case["state"] == "instructed" and case["instruction_by"] == "周明远（leader）"
    assert case["instruction"] == "请办公室核实处置" and case["instruction_at"]

    case = ok(
        office.post(
            f"/api/cases/{cid}/actions/handle",
            json={
                "handling_opinion": "拟定应对口径并跟帖说明",
                "measures": ["response_line", "reply_post"],
            },
        )
    )
    assert case["state"] == "handling"
    assert case["measures"] == [
        {"code": "response_line", "name": "拟定应对口径"},
        {"code": "reply_post", "name": "跟帖回帖"},
    ]
    case = ok(
        office.post(
            f"/api/cases/{cid}/actions/record_handling", json={"implementation": "已在原帖下回复"}
        )
    )
    assert case["implementation"] == "已在原帖下回复"
    case = ok(
        office.post(
            f"/api/cases/{cid}/actions/close",
            json={"result": "clarified", "result_note": "当事人已认可", "note": "办结"},
        )
    )
    assert case["state"] == "closed" and case["final"] and case["closed_at"]
    assert case["result"] == "clarified" and case["result_name"] == "已澄清"
    assert codes(case) == []
    assert [e["action"] for e in case["timeline"]] == [
        "create",
        "phone_report",
        "report",
        "instruct",
        "handle",
        "record_handling",
        "close",
    ]
    assert [e["to_state_name"] for e in case["timeline"]][-1] == "已办结"
    assert case["timeline"][3]["actor"] == "周明远（leader）"
    assert case["timeline"][3]["role_name"] == "领导"

    listed = ok(monitor.get("/api/cases", params={"state": "closed"}))
    assert [c["number"] for c in listed["cases"]] == [case["number"]]
    assert ok(monitor.get("/api/cases", params={"open": "true"}))["total"] == 0
    with sqlite_db.session() as session:
        audited = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "case")
            .order_by(AuditEntry.id)
        ).all()
    assert audited == [f"case.{e['action']}" for e in case["timeline"]]


def test_the_list_filters_and_its_rows(sqlite_db: Database, signed_in: SignIn) -> None:
    office = signed_in("office")
    first = ok(office.post("/api/cases", json={"item_id": negative_item(sqlite_db, "office")}), 201)
    second = ok(
        office.post(
            "/api/cases", json={"item_id": negative_item(sqlite_db, "office", "dangerous")}
        ),
        201,
    )
    listed = ok(office.get("/api/cases"))
    assert listed["total"] == 2 and [c["id"] for c in listed["cases"]] == [
        second["id"],
        first["id"],
    ]
    row = listed["cases"][1]
    assert set(row) >= {
        "number",
        "topic",
        "state",
        "state_name",
        "grade",
        "unit",
        "discovered_at",
        "next_step",
        "overdue_count",
    }
    assert row["unit"] == {"id": first["unit"]["id"], "code": "HQ", "name": "云岭农商银行总行"}
    assert ok(office.get("/api/cases", params={"grade": "dangerous"}))["total"] == 1
    assert ok(office.get("/api/cases", params={"unit": "HQ"}))["total"] == 2
    assert ok(office.get("/api/cases", params={"unit": "QJ"}))["total"] == 0
    assert ok(office.get("/api/cases", params={"q": first["number"]}))["total"] == 1
    assert (
        ok(office.get("/api/cases", params={"per_page": 1, "page": 2}))["cases"][0]["id"]
        == first["id"]
    )
    refused(office.get("/api/cases", params={"state": "done"}), 400, "状态 'done' 无效", "draft")
    refused(office.get("/api/cases", params={"since": "上周"}), 400, "起始日期须为日期")
    refused(office.get("/api/cases", params={"unit": "XX"}), 400, "单位 'XX' 不存在")


def test_refusals_say_why(demo_app: FastAPI, sqlite_db: Database, signed_in: SignIn) -> None:
    monitor, office = signed_in("monitor"), signed_in("office")
    leader, viewer = signed_in("leader"), signed_in("viewer")
    refused(viewer.post("/api/cases", json={"item_id": 1}), 403, "只读用户", "无权")
    refused(monitor.post("/api/cases", json={}), 400, "请给出信息编号或事件编号")
    refused(monitor.post("/api/cases", json={"item_id": 999_999}), 400, "信息 999999 不存在")
    item_id = negative_item(sqlite_db, "monitor")
    cid = ok(monitor.post("/api/cases", json={"item_id": item_id}), 201)["id"]
    number = ok(monitor.get(f"/api/cases/{cid}"))["number"]
    with sqlite_db.session() as session:
        event_id = session.get(Item, item_id).event_id  # type: ignore[union-attr]
    refused(office.post("/api/cases", json={"event_id": event_id}), 409, number, "一事一报", "续报")

    report = f"/api/cases/{cid}/actions/report"
    for client, role in ((viewer, "只读用户"), (monitor, "舆情监测员"), (leader, "领导")):
        refused(client.post(report, json={"reporting_opinion": "x"}), 409, "须由责任部门进行", role)
    refused(office.post(report, json={}), 400, "「上报领导」须填写：上报意见")
    refused(
        office.post(report, json={"reporting_opinion": "x", "instruction": "y"}), 400, "instruction"
    )
    refused(
        office.post(f"/api/cases/{cid}/actions/close", json={"result": "clarified"}),
        409,
        "「草稿」状态",
        "不能「办结」",
    )
    refused(office.post(f"/api/cases/{cid}/actions/fly", json={}), 409, "未知的动作", "report")
    refused(office.post(f"/api/cases/{cid}/actions/attach", json={}), 400, "/files")
    assert ok(office.get(f"/api/cases/{cid}"))["state"] == "draft"  # nothing of it stayed

    ok(office.post(report, json={"reporting_opinion": "报请阅示"}))
    ok(leader.post(f"/api/cases/{cid}/actions/instruct", json={"instruction": "请处置"}))
    handle = f"/api/cases/{cid}/actions/handle"
    refused(
        office.post(
            handle, json={"handling_opinion": "协调", "measures": ["authority_coordination"]}
        ),
        409,
        "「有害」等级不能采取以下措施：与主管部门沟通协商",
    )
    refused(
        office.post(handle, json={"handling_opinion": "删帖", "measures": ["request_deletion"]}),
        409,
        "请求删除",
        "须先在报告处理单上注明内容违法或虚假",
    )
    refused(
        office.post(handle, json={"handling_opinion": "x", "measures": ["teleport"]}),
        400,
        "teleport",
    )
    case = ok(office.get(f"/api/cases/{cid}"))
    assert case["state"] == "instructed" and case["handling_opinion"] is None
    ok(office.post(f"/api/cases/{cid}/actions/edit", json={"illegal_or_false": True}))
    case = ok(
        office.post(handle, json={"handling_opinion": "删帖", "measures": ["request_deletion"]})
    )
    assert case["measures"] == [{"code": "request_deletion", "name": "请求删除"}]

    qj_office = signed_in("qj_office")
    qj_case = ok(
        qj_office.post("/api/cases", json={"item_id": negative_item(sqlite_db, "qj_office")}), 201
    )["id"]
    refused(office.get(f"/api/cases/{qj_case}"), 404, "不存在")
    refused(office.post(f"/api/cases/{qj_case}/actions/edit", json={"copies": 2}), 404)
    refused(office.get(f"/api/cases/{qj_case}/form.docx"), 404)
    refused(qj_office.get(f"/api/cases/{cid}"), 404)  # an upper unit's case, too
    assert qj_case not in [c["id"] for c in ok(office.get("/api/cases"))["cases"]]

    anonymous = TestClient(demo_app)
    refused(anonymous.get("/api/cases"), 401, "请先登录")
    stale = TestClient(demo_app, cookies=office.cookies)  # the cookie without its CSRF token
    refused(stale.post(report, json={"reporting_opinion": "x"}), 403, "CSRF")


def test_measures_offered_for_a_grade(signed_in: SignIn) -> None:
    viewer = signed_in("viewer")
    body = ok(viewer.get("/api/cases/measures", params={"grade": "harmful"}))
    offered = {m["code"]: m for m in body["measures"]}
    assert offered["press_release"]["allowed"] and "press_conference" not in offered
    assert offered["report_to_police"]["illegal_or_false_only"]
    assert not offered["report_to_police"]["allowed"]
    flagged = ok(
        viewer.get("/api/cases/measures", params={"grade": "harmful", "illegal_or_false": "true"})
    )
    assert all(m["allowed"] for m in flagged["measures"])
    general = ok(viewer.get("/api/cases/measures", params={"grade": "general"}))
    assert [m["code"] for m in general["measures"]][:2] == [
        "for_information",
        "information_and_watch",
    ]
    refused(viewer.get("/api/cases/measures", params={"grade": "worst"}), 400, "worst")


def test_escalation_to_the_upper_unit_and_follow_ups(
    sqlite_db: Database, signed_in: SignIn
) -> None:
    qj_office, qj_monitor = signed_in("qj_office"), signed_in("qj_monitor")
    hq_leader, hq_office = signed_in("leader"), signed_in("office")
    case = ok(
        qj_office.post("/api/cases", json={"item_id": negative_item(sqlite_db, "qj_office")}), 201
    )
    cid = case["id"]
    assert case["number"].startswith("QS-QJ-") and case["escalated_to"] is None
    refused(hq_leader.get(f"/api/cases/{cid}"), 404)
    assert ok(hq_leader.get("/api/cases"))["total"] == 0

    ok(qj_office.post(f"/api/cases/{cid}/actions/report", json={"reporting_opinion": "报分行领导"}))
    refused(hq_leader.post(f"/api/cases/{cid}/actions/instruct", json={"instruction": "x"}), 404)
    case = ok(qj_office.post(f"/api/cases/{cid}/actions/escalate", json={"note": "报总行"}))
    assert case["escalated_to"]["code"] == "HQ" and case["escalated_at"]

    seen = ok(hq_leader.get(f"/api/cases/{cid}"))
    assert [e["action"] for e in seen["timeline"]] == ["create", "report", "escalate"]
    assert seen["reporting_opinion"] == "报分行领导"
    assert codes(seen) == ["instruct", "comment"]
    assert [c["id"] for c in ok(hq_leader.get("/api/cases"))["cases"]] == [cid]
    case = ok(
        hq_leader.post(
            f"/api/cases/{cid}/actions/instruct", json={"instruction": "总行批示：妥善处置"}
        )
    )
    assert case["state"] == "instructed" and case["instruction_by"] == "周明远（leader）"
    case = ok(hq_leader.post(f"/api/cases/{cid}/actions/comment", json={"note": "请每日续报"}))
    assert case["timeline"][-1]["unit"]["code"] == "HQ"
    assert codes(ok(hq_office.get(f"/api/cases/{cid}"))) == ["comment"]
    refused(
        hq_office.post(f"/api/cases/{cid}/actions/handle", json={"handling_opinion": "x"}),
        409,
        "只能由本单位进行",
    )

    case = ok(qj_monitor.post(f"/api/cases/{cid}/actions/follow_up", json={"note": "续报：已回应"}))
    follow = next(s for s in case["steps"] if s["code"] == "follow_up_report")
    assert follow["state"] == "met" and follow["met_at"] == case["timeline"][-1]["at"]
    refused(qj_monitor.post(f"/api/cases/{cid}/actions/follow_up", json={}), 400, "说明")
    history = ok(hq_leader.get(f"/api/cases/{cid}"))["timeline"]
    assert [e["action"] for e in history][-3:] == ["instruct", "comment", "follow_up"]
    assert history[-1]["note"] == "续报：已回应"


def test_deadlines_show_overdue(sqlite_db: Database, signed_in: SignIn) -> None:
    monitor = signed_in("monitor")
    cid = ok(
        monitor.post("/api/cases", json={"item_id": negative_item(sqlite_db, "monitor")}), 201
    )["id"]
    found_ago(sqlite_db, cid, timedelta(minutes=75))
    case = ok(monitor.get(f"/api/cases/{cid}"))
    steps = {s["code"]: s for s in case["steps"]}
    assert steps["phone_report"]["state"] == "overdue"
    assert steps["phone_report"]["remaining_seconds"] < 0
    assert steps["phone_report"]["remaining_text"].startswith("已超时")
    assert steps["written_report"]["state"] in ("open", "due_soon")
    assert steps["written_report"]["remaining_text"].startswith("剩余")
    assert case["overdue_count"] == 1
    row = ok(monitor.get("/api/cases"))["cases"][0]
    assert row["overdue_count"] == 1 and row["next_step"]["code"] == "phone_report"

    case = ok(monitor.post(f"/api/cases/{cid}/actions/phone_report", json={"note": "已电话报告"}))
    assert case["overdue_count"] == 0
    assert {s["code"]: s["state"] for s in case["steps"]}["phone_report"] == "late"
    assert ok(monitor.get("/api/cases"))["cases"][0]["next_step"]["code"] == "written_report"


def test_files_attach_and_download(sqlite_db: Database, signed_in: SignIn) -> None:
    monitor, viewer = signed_in("monitor"), signed_in("viewer")
    cid = ok(
        monitor.post("/api/cases", json={"item_id": negative_item(sqlite_db, "monitor")}), 201
    )["id"]
    files = {"file": ("../../截图 1.png", PNG, "image/png")}
    added = ok(monitor.post(f"/api/cases/{cid}/files", files=files), 201)
    assert added["filename"] == "截图 1.png" and added["media_type"] == "image/png"
    case = ok(monitor.get(f"/api/cases/{cid}"))
    assert case["files"] == [added] and case["timeline"][-1]["action"] == "attach"
    got = viewer.get(added["url"])
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E6%88%AA%E5%9B%BE%201.png" in got.headers["content-disposition"]
    refused(
        monitor.post(f"/api/cases/{cid}/files", files={"file": ("a.txt", b"hello", "text/plain")}),
        400,
        "a.txt",
        "PDF",
    )
    refused(
        monitor.post(f"/api/cases/{cid}/files", files={"file": ("e.png", b"", "image/png")}),
        400,
        "空文件",
    )
    refused(viewer.post(f"/api/cases/{cid}/files", files=files), 409, "添加附件", "只读用户")
    refused(viewer.get(f"/api/cases/{cid}/files/{added['id'] + 1000}"), 404)


def test_the_form_as_docx(sqlite_db: Database, signed_in: SignIn) -> None:
    office = signed_in("office")
    cid = ok(office.post("/api/cases", json={"item_id": negative_item(sqlite_db, "office")}), 201)[
        "id"
    ]
    case = ok(
        office.post(
            f"/api/cases/{cid}/actions/report",
            json={"reporting_opinion": "建议报请领导阅示<script>alert(1)</script>"},
        )
    )
    got = office.get(f"/api/cases/{cid}/form.docx")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert got.headers["content-disposition"] == (
        f"attachment; filename=\"{case['number']}.docx\"; filename*=UTF-8''{case['number']}.docx"
    )
    document = docx.Document(io.BytesIO(got.content))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert "舆情信息报告处理单" in text and f"编号：{case['number']}" in text
    for value in (
        case["topic"],
        case["captured_by"],
        "有害",
        "建议报请领导阅示<script>alert(1)</script>",
    ):
        assert value in text, value
    assert "上报领导" in text  # the timeline


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "QS-HQ-2026-0001.docx",
            "attachment; filename=\"QS-HQ-2026-0001.docx\"; filename*=UTF-8''QS-HQ-2026-0001.docx",
        ),
        (
            "报告-总行.docx",
            'attachment; filename="-_.docx"; '
            "filename*=UTF-8''%E6%8A%A5%E5%91%8A-%E6%80%BB%E8%A1%8C.docx",
        ),
        ('a";b.png', "attachment; filename=\"a_b.png\"; filename*=UTF-8''a%22%3Bb.png"),
        ("报告", "attachment; filename=\"file\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A"),
    ],
)
def test_content_disposition_for_chinese_and_ascii_names(name: str, expected: str) -> None:
    header = content_disposition("attachment", name)
    assert header == expected
    header.encode("latin-1")  # a header must be Latin-1
