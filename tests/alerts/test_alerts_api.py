"""/api/alerts: channels and rules CRUD, the test message, the delivery log; each route
refuses the roles and units it should."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alert_receiver import Receiver
from alert_world import COMPLAINT, QILIN, World, build_world, feed, raw
from fastapi.testclient import TestClient

from yuqing.accounts.actor import SYSTEM
from yuqing.accounts.manage import NewUser, add_user, issue_token
from yuqing.alerts.dispatcher import AlertDispatcher
from yuqing.settings import Settings
from yuqing.store import audit
from yuqing.store.db import Database
from yuqing.web.api.alerts import router
from yuqing.web.app import create_app

USERS = {
    "top": ("admin", "YN"),
    "city": ("admin", "QJ"),
    "monitor": ("monitor", "YN"),
    "leader": ("leader", "YN"),
}


@pytest.fixture
def world(sqlite_db: Database) -> World:
    return build_world(sqlite_db)


@pytest.fixture
def api(
    sqlite_settings: Settings, sqlite_db: Database, world: World
) -> Iterator[dict[str, TestClient]]:
    """A client per user, each with its API token."""
    app = create_app(sqlite_settings, sqlite_db)
    if not any(getattr(r, "path", "").startswith("/api/alerts") for r in app.routes):
        app.include_router(router)  # until the app includes it itself
    now = datetime.now(UTC)
    clients: dict[str, TestClient] = {}
    with sqlite_db.session() as session:
        tokens = {}
        for name, (role, unit) in USERS.items():
            add_user(session, NewUser(name, role, unit, password=f"pw-{name}-2026"), SYSTEM, now)
            tokens[name] = issue_token(session, name, "tests", SYSTEM, now)
    for name, token in tokens.items():
        client = TestClient(app)
        client.headers["Authorization"] = f"Bearer {token}"
        clients[name] = client
    yield clients
    for client in clients.values():
        client.close()


def _webhook(receiver: Receiver, name: str = "接口", **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "kind": "webhook",
        "config": {"url": f"{receiver.base}/webhook/api", "secret": "s3"},
        **extra,
    }


def test_channels_and_rules_round_trip_with_secrets_masked(
    api: dict[str, TestClient], receiver: Receiver, sqlite_db: Database
) -> None:
    top = api["top"]
    created = top.post("/api/alerts/channels", json=_webhook(receiver))
    assert created.status_code == 201, created.text
    channel = created.json()
    assert channel["config"] == {"url": f"{receiver.base}/webhook/api", "secret": "******"}
    patched = top.patch(
        f"/api/alerts/channels/{channel['id']}",
        json={"config": {"secret": "******"}, "enabled": False},
    )
    assert patched.status_code == 200 and patched.json()["enabled"] is False

    receiver.secrets["webhook"] = "s3"
    tested = top.post(f"/api/alerts/channels/{channel['id']}/test")
    assert tested.json() == {
        "channel": "接口",
        "ok": True,
        "status_code": 200,
        "error": None,
        "parts": 1,
    }
    [message] = receiver.ok("webhook")
    assert message.data["kind"] == "test"

    rule = top.post(
        "/api/alerts/rules",
        json={
            "name": "全省负面",
            "channels": [channel["id"]],
            "unit": "YN",
            "grades": ["harmful"],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    assert rule.status_code == 201, rule.text
    rule_id = rule.json()["id"]
    assert rule.json()["channel_names"] == ["接口"] and rule.json()["grade_names"] == ["有害"]
    changed = top.patch(f"/api/alerts/rules/{rule_id}", json={"grades": [], "platforms": ["weibo"]})
    assert changed.status_code == 200
    assert changed.json()["grade_names"] == ["关注", "有害", "危害"] and changed.json()[
        "platforms"
    ] == ["weibo"]
    assert top.get("/api/alerts/rules").json()["total"] == 1
    assert top.delete(f"/api/alerts/rules/{rule_id}").status_code == 200
    assert top.get(f"/api/alerts/rules/{rule_id}").status_code == 404
    assert top.delete(f"/api/alerts/channels/{channel['id']}").json()["name"] == "接口"
    with sqlite_db.session() as session:
        actions = [e.action for e in audit.recent(session, limit=6)]
    assert actions == [
        "alerts.channel.remove",
        "alerts.rule.remove",
        "alerts.rule.edit",
        "alerts.rule.add",
        "alerts.channel.edit",
        "alerts.channel.add",
    ]


def test_bad_input_is_a_400_in_words(api: dict[str, TestClient]) -> None:
    top = api["top"]
    bad = top.post(
        "/api/alerts/channels", json={"name": "群", "kind": "wecom", "config": {"url": "ftp://x"}}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "input"
    assert (
        "预警通道「群」（企业微信群机器人）配置有误：url：地址必须是以 http:// 或 https:// 开头"
        in bad.json()["error"]["message"]
    )
    unknown = top.post("/api/alerts/rules", json={"name": "规则", "channels": ["没有的群"]})
    assert unknown.status_code == 400 and "没有名为或编号为 '没有的群' 的预警通道" in unknown.text
    extra = top.post("/api/alerts/rules", json={"name": "规则", "channels": [], "colour": "red"})
    assert extra.status_code == 422


def test_roles_and_units_are_enforced(api: dict[str, TestClient], receiver: Receiver) -> None:
    anonymous = TestClient(api["top"].app)
    assert anonymous.get("/api/alerts/channels").status_code == 401
    assert api["leader"].get("/api/alerts/channels").status_code == 403
    assert api["leader"].get("/api/alerts/deliveries").status_code == 403
    assert api["monitor"].get("/api/alerts/channels").status_code == 200
    refused = api["monitor"].post("/api/alerts/channels", json=_webhook(receiver))
    assert refused.status_code == 403
    province = (
        api["top"].post("/api/alerts/channels", json=_webhook(receiver, "省群", unit="YN")).json()
    )
    assert api["monitor"].post(f"/api/alerts/channels/{province['id']}/test").status_code == 403

    city = api["city"]
    # The city's admin does not see the province's channel, and cannot make rules for all.
    assert city.get(f"/api/alerts/channels/{province['id']}").status_code == 404
    assert city.delete(f"/api/alerts/channels/{province['id']}").status_code == 404
    assert city.post("/api/alerts/channels", json=_webhook(receiver, "全省")).status_code == 403
    own = city.post("/api/alerts/channels", json=_webhook(receiver, "麒麟群", unit="QL"))
    assert own.status_code == 201
    outside = city.post(
        "/api/alerts/rules", json={"name": "陆良", "channels": ["麒麟群"], "unit": "LL"}
    )
    assert outside.status_code == 403 and "无权" in outside.json()["error"]["message"]
    assert [c["name"] for c in city.get("/api/alerts/channels").json()["channels"]] == ["麒麟群"]
    assert len(api["top"].get("/api/alerts/channels").json()["channels"]) == 2


def test_the_delivery_log_shows_attempts_and_only_visible_rules(
    api: dict[str, TestClient], receiver: Receiver, sqlite_db: Database, sqlite_settings: Settings
) -> None:
    top, city = api["top"], api["city"]
    top.post("/api/alerts/channels", json=_webhook(receiver, "省群"))
    top.post("/api/alerts/rules", json={"name": "全省", "channels": ["省群"], "unit": "YN"})
    city.post("/api/alerts/channels", json=_webhook(receiver, "市群", unit="QJ"))
    city.post("/api/alerts/rules", json={"name": "曲靖", "channels": ["市群"], "unit": "QJ"})
    feed(
        sqlite_db,
        sqlite_settings,
        raw(COMPLAINT, "https://bbs.example/p"),
        raw(QILIN, "https://bbs.example/q"),
    )
    receiver.fail("/webhook", 1, status=500)
    asyncio.run(AlertDispatcher(sqlite_db, sqlite_settings).tick())
    log = top.get("/api/alerts/deliveries").json()
    assert log["total"] == 3  # the province rule: both items; the city rule: 麒麟
    failed = [d for d in log["deliveries"] if d["log"][0]["ok"] is False]
    assert len(failed) == 1 and failed[0]["status"] == "pending"
    assert failed[0]["log"][0]["error"].startswith("对方返回 HTTP 500")
    seen = city.get("/api/alerts/deliveries").json()["deliveries"]
    assert {d["alert"]["rule"] for d in seen} == {"曲靖"}
    assert top.get("/api/alerts/deliveries", params={"status": "sent"}).json()["total"] == 2
    assert top.get("/api/alerts/deliveries", params={"status": "lost"}).status_code == 400
