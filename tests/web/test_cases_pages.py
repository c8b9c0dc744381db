"""The case pages: the list with time left and filters, the report form with one small form per
allowed action, refusals shown in words with nothing saved, files, escaping of crawled text."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from case_helpers import PNG, SignIn, found_ago, negative_item
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from yuqing.store.db import Database
from yuqing.store.tables import Case, Item

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def csrf_field(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def form_client(signed_in: SignIn, username: str) -> TestClient:
    """Signed in like a browser: the cookie only; forms carry the CSRF field themselves."""
    client = signed_in(username)
    del client.headers["X-CSRF-Token"]
    return client


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    token = csrf_field(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def action_forms(html: str) -> list[str]:
    return re.findall(r'<details class="action" id="action-([a-z_]+)"', html)


def open_from_item(
    signed_in: SignIn, db: Database, username: str = "monitor"
) -> tuple[TestClient, int, int]:
    """A case opened with the item page's button: (client, item id, case id)."""
    client = form_client(signed_in, username)
    item_id = negative_item(db, username)
    page = client.get(f"/items/{item_id}")
    assert page.status_code == 200 and "填写报告处理单" in page.text
    response = post_form(client, f"/items/{item_id}", "/cases", {"item_id": str(item_id)})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/cases/(\d+)", response.headers["location"])
    assert match
    return client, item_id, int(match.group(1))


def test_open_from_an_item_and_walk_through_the_forms(
    sqlite_db: Database, signed_in: SignIn
) -> None:
    monitor, item_id, cid = open_from_item(signed_in, sqlite_db)
    page = monitor.get(f"/cases/{cid}")
    assert page.status_code == 200
    assert "舆情信息报告处理单" in page.text and "草稿" in page.text
    assert action_forms(page.text) == ["edit", "regrade", "phone_report"]
    assert f'action="/cases/{cid}/files"' in page.text  # monitors may attach
    assert f'href="/api/cases/{cid}/form.docx"' in page.text
    with sqlite_db.session() as session:
        event_id = session.get(Case, cid).event_id  # type: ignore[union-attr]
    for linked in (f"/items/{item_id}", f"/events/{event_id}"):  # the button became a link
        text = monitor.get(linked).text
        assert f'href="/cases/{cid}"' in text and "查看报告处理单" in text, linked
        assert 'class="case-actions-inline case-open"' not in text, linked

    case_url = f"/cases/{cid}"
    done = post_form(
        monitor, case_url, f"/cases/{cid}/actions/phone_report", {"note": "已电话报告值班室"}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{cid}#timeline"

    office = form_client(signed_in, "office")
    assert action_forms(office.get(case_url).text) == [
        "edit",
        "regrade",
        "phone_report",
        "report",
        "withdraw",
    ]
    post_form(office, case_url, f"/cases/{cid}/actions/report", {"reporting_opinion": "报请阅示"})
    leader = form_client(signed_in, "leader")
    assert action_forms(leader.get(case_url).text) == ["instruct", "comment"]
    post_form(leader, case_url, f"/cases/{cid}/actions/instruct", {"instruction": "请核实处置"})
    handled = post_form(
        office,
        case_url,
        f"/cases/{cid}/actions/handle",
        {"handling_opinion": "拟定口径", "measures": ["", "response_line", "reply_post"]},
    )
    assert handled.status_code == 303
    post_form(
        office,
        case_url,
        f"/cases/{cid}/actions/close",
        {"result": "clarified", "result_note": "", "implementation": "已回应", "note": ""},
    )
    page = office.get(case_url).text
    assert "已办结" in page and "已澄清" in page and "拟定应对口径、跟帖回帖" in page
    assert "请核实处置" in page and "签批人：周明远（leader）" in page
    assert "已电话报告值班室" in page
    assert action_forms(page) == [] and "当前角色在此状态下没有可办理的步骤" in page
    timeline = page[page.index('id="timeline"') :]
    for name in ("新建报告处理单", "电话报告", "上报领导", "领导批示", "开始处置", "办结"):
        assert name in timeline, name
    assert "填写了：主办意见、处置措施" in timeline


def test_a_refused_action_shows_why_and_saves_nothing(
    sqlite_db: Database, signed_in: SignIn
) -> None:
    office = signed_in("office")
    cid = office.post("/api/cases", json={"item_id": negative_item(sqlite_db, "office")}).json()[
        "id"
    ]
    wrong_state = office.post(f"/cases/{cid}/actions/close", data={"result": "clarified"})
    assert wrong_state.status_code == 409
    assert "未能办理：报告处理单处于「草稿」状态，不能「办结」" in wrong_state.text
    missing = office.post(f"/cases/{cid}/actions/report", data={"reporting_opinion": " "})
    assert missing.status_code == 400 and "「上报领导」须填写：上报意见" in missing.text
    assert 'id="action-report" open' in missing.text  # the form that failed stays open

    office.post(f"/cases/{cid}/actions/report", data={"reporting_opinion": "报请阅示"})
    signed_in("leader").post(f"/cases/{cid}/actions/instruct", data={"instruction": "请处置"})
    forbidden = office.post(
        f"/cases/{cid}/actions/handle",
        data={"handling_opinion": "不该留下的意见", "measures": ["", "press_conference"]},
    )
    assert forbidden.status_code == 409
    assert "「有害」等级不能采取以下措施：召开新闻发布会" in forbidden.text
    assert "不该留下的意见" not in forbidden.text  # not kept, not shown back as saved
    case = office.get(f"/api/cases/{cid}").json()
    assert case["state"] == "instructed" and case["handling_opinion"] is None
    assert case["measures"] == []
    viewer = signed_in("viewer")
    refused = viewer.post(f"/cases/{cid}/actions/comment", data={"note": "我也说两句"})
    assert refused.status_code == 409 and "当前角色是只读用户" in refused.text
    assert action_forms(refused.text) == [] and "上传附件" not in refused.text


def test_measures_are_offered_for_the_grade(sqlite_db: Database, signed_in: SignIn) -> None:
    office = signed_in("office")
    cid = office.post("/api/cases", json={"item_id": negative_item(sqlite_db, "office")}).json()[
        "id"
    ]
    office.post(f"/cases/{cid}/actions/report", data={"reporting_opinion": "报请阅示"})
    page = office.get(f"/cases/{cid}").text
    form = page[page.index('id="action-set_measures"') :]
    form = form[: form.index("</details>")]
    offered = re.findall(r'name="measures" value="([a-z_]+)"', form)
    assert offered == [
        "reply_post",
        "publish_comment",
        "response_line",
        "press_release",
        "request_deletion",
        "report_to_platform",
        "report_to_police",
    ]
    assert form.count('class="measure illegal-only"') == 3
    assert "须内容违法或虚假" in form
    ok = office.post(
        f"/cases/{cid}/actions/set_measures",
        data={"measures": ["", "press_release"]},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    cleared = office.post(
        f"/cases/{cid}/actions/set_measures", data={"measures": [""]}, follow_redirects=False
    )
    assert cleared.status_code == 303
    assert office.get(f"/api/cases/{cid}").json()["measures"] == []
    flagged = office.post(
        f"/cases/{cid}/actions/edit",
        data={"illegal_or_false": ["0", "1"], "copies": "2"},
        follow_redirects=False,
    )
    assert flagged.status_code == 303
    case = office.get(f"/api/cases/{cid}").json()
    assert case["illegal_or_false"] is True and case["copies"] == 2
    office.post(f"/cases/{cid}/actions/edit", data={"illegal_or_false": "0"})
    assert office.get(f"/api/cases/{cid}").json()["illegal_or_false"] is False


def test_the_list_shows_time_left_and_overdue_steps(sqlite_db: Database, signed_in: SignIn) -> None:
    monitor = signed_in("monitor")
    late = monitor.post("/api/cases", json={"item_id": negative_item(sqlite_db, "monitor")}).json()
    fresh = monitor.post("/api/cases", json={"item_id": negative_item(sqlite_db, "monitor")}).json()
    found_ago(sqlite_db, late["id"], timedelta(hours=3))
    found_ago(sqlite_db, fresh["id"], timedelta(minutes=5))
    page = monitor.get("/cases")
    assert page.status_code == 200
    assert "超时未完成的报告步骤 2 项，涉及 1 张报告处理单" in page.text
    classes = {
        int(i): c for c, i in re.findall(r'<tr class="case([^"]*)" data-id="(\d+)"', page.text)
    }
    assert classes == {late["id"]: " has-overdue", fresh["id"]: ""}
    late_row = page.text[page.text.index(f'data-id="{late["id"]}"') :]
    late_row = late_row[: late_row.index("</tr>")]
    assert "step-overdue" in late_row and "电话报告：" in late_row and "已超时 2 小时" in late_row
    fresh_row = page.text[page.text.index(f'data-id="{fresh["id"]}"') :]
    fresh_row = fresh_row[: fresh_row.index("</tr>")]
    assert "电话报告：" in fresh_row and "剩余 5" in fresh_row

    filtered = monitor.get("/cases", params={"q": fresh["number"], "open": "1"})
    assert f'data-id="{fresh["id"]}"' in filtered.text
    assert f'data-id="{late["id"]}"' not in filtered.text
    assert monitor.get("/cases", params={"state": "closed"}).text.count('class="case') == 0
    bad = monitor.get("/cases", params={"since": "昨天"})
    assert bad.status_code == 400 and "起始日期须为日期" in bad.text

    page = monitor.get(f"/cases/{late['id']}").text
    assert 'class="step step-overdue" data-code="phone_report"' in page
    assert '<span class="badge overdue">超时步骤 2</span>' in page


def test_crawled_text_is_escaped(sqlite_db: Database, signed_in: SignIn) -> None:
    monitor = signed_in("monitor")
    item_id = negative_item(sqlite_db, "monitor")
    with sqlite_db.session() as session:
        session.execute(update(Item).where(Item.id == item_id).values(title=HOSTILE))
    case = monitor.post("/api/cases", json={"item_id": item_id}).json()
    with sqlite_db.session() as session:
        session.execute(
            update(Case)
            .where(Case.id == case["id"])
            .values(source_name=HOSTILE, url="javascript:alert(1)", topic=HOSTILE)
        )
    monitor.post(f"/cases/{case['id']}/actions/phone_report", data={"note": HOSTILE})
    for page in (monitor.get(f"/cases/{case['id']}").text, monitor.get("/cases").text):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert 'href="javascript:' not in monitor.get(f"/cases/{case['id']}").text


def test_forms_need_the_csrf_token_and_the_right_role(
    demo_app: FastAPI, sqlite_db: Database, signed_in: SignIn
) -> None:
    monitor = form_client(signed_in, "monitor")
    item_id = negative_item(sqlite_db, "monitor")
    bare = monitor.post("/cases", data={"item_id": str(item_id)}, follow_redirects=False)
    assert bare.status_code == 403 and "CSRF" in bare.text
    viewer = form_client(signed_in, "viewer")
    item_page = viewer.get(f"/items/{item_id}").text
    assert "填写报告处理单" not in item_page
    denied = post_form(viewer, f"/items/{item_id}", "/cases", {"item_id": str(item_id)})
    assert denied.status_code == 403 and "无权" in denied.text
    assert (
        TestClient(demo_app).get("/cases", follow_redirects=False).headers["location"]
        == "/login?next=%2Fcases"
    )
    bad = post_form(monitor, f"/items/{item_id}", "/cases", {"item_id": "12x"})
    assert bad.status_code == 400 and "须为数字编号" in bad.text


def test_files_through_the_page(sqlite_db: Database, signed_in: SignIn) -> None:
    monitor, _item, cid = open_from_item(signed_in, sqlite_db)
    token = csrf_field(monitor.get(f"/cases/{cid}").text)
    added = monitor.post(
        f"/cases/{cid}/files",
        data={"csrf_token": token},
        files={"file": ("现场照片.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert added.status_code == 303 and added.headers["location"] == f"/cases/{cid}#files"
    page = monitor.get(f"/cases/{cid}").text
    link = re.search(rf'href="(/api/cases/{cid}/files/\d+)">现场照片.png</a>', page)
    assert link and monitor.get(link.group(1)).content == PNG
    assert "附件：现场照片.png" in page  # on the timeline
    wrong = monitor.post(
        f"/cases/{cid}/files",
        data={"csrf_token": token},
        files={"file": ("notes.txt", b"plain text", "text/plain")},
    )
    assert wrong.status_code == 400 and "附件「notes.txt」须为图片" in wrong.text
