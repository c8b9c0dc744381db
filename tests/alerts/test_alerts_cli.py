"""`yuqing alerts channel|rule|log|run` end to end on a SQLite file and the local receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from alert_receiver import Receiver
from alert_world import COMPLAINT, build_world, feed, raw
from typer.testing import CliRunner, Result

from yuqing.cli import app
from yuqing.settings import Settings
from yuqing.store import audit
from yuqing.store.db import open_database


@pytest.fixture
def run(tmp_path: Path, sqlite_url: str) -> CliRunner:
    return CliRunner(
        env={
            "YUQING_DATA_DIR": str(tmp_path / "data"),
            "YUQING_DATABASE_URL": sqlite_url,
            "YUQING_ALERT_TIMEOUT_SECONDS": "5",
        }
    )


def _ok(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _json(runner: CliRunner, *args: str) -> Any:
    return orjson.loads(_ok(runner, *args, "--json").stdout)


def test_channels_are_added_listed_masked_tested_and_removed(
    run: CliRunner, receiver: Receiver
) -> None:
    receiver.secrets["dingtalk"] = "SECabc"
    url = f"{receiver.base}/dingtalk/robot/send?access_token=tok123"
    config = orjson.dumps({"url": url, "secret": "SECabc"}).decode()
    added = _json(
        run, "alerts", "channel", "add", "值班群", "--kind", "dingtalk", "--config", config
    )
    assert added["config"] == {
        "url": f"{receiver.base}/dingtalk/robot/send?access_token=******",
        "secret": "******",
    }
    listed = run.invoke(app, ["alerts", "channel", "list"]).stdout
    assert "值班群" in listed and "SECabc" not in listed and "tok123" not in listed

    tested = _json(run, "alerts", "channel", "test", "值班群")
    assert tested == {
        "channel": "值班群",
        "ok": True,
        "status_code": 200,
        "error": None,
        "parts": 1,
    }
    [message] = receiver.ok("dingtalk")
    assert message.data["markdown"]["title"] == "【测试】舆情预警通道测试"

    # A masked secret given back on edit keeps the stored one; the test still signs right.
    _ok(run, "alerts", "channel", "edit", "值班群", "--config", '{"secret": "******"}')
    assert _json(run, "alerts", "channel", "test", "值班群")["ok"] is True

    receiver.secrets["dingtalk"] = "SECother"
    failed = run.invoke(app, ["alerts", "channel", "test", "值班群"])
    assert failed.exit_code == 1
    assert "经「值班群」发送测试消息失败：钉钉返回错误 310000：sign not match" in failed.stderr

    removed = _json(run, "alerts", "channel", "remove", "值班群")
    assert removed["name"] == "值班群"
    assert _json(run, "alerts", "channel", "list") == []


def test_a_bad_channel_config_is_one_clear_line(run: CliRunner) -> None:
    result = run.invoke(
        app,
        [
            "alerts",
            "channel",
            "add",
            "邮件",
            "--kind",
            "email",
            "--config",
            '{"host": "smtp.x.cn"}',
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("错误：config: 预警通道「邮件」（电子邮件）配置有误：")
    assert "from：缺少此项" in result.stderr and "to：缺少此项" in result.stderr


def test_rules_alert_and_the_log_shows_each_attempt(
    run: CliRunner, receiver: Receiver, tmp_path: Path, sqlite_url: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=sqlite_url)
    db = open_database(sqlite_url)
    build_world(db)
    hook = orjson.dumps({"url": f"{receiver.base}/webhook/cli"}).decode()
    _ok(run, "alerts", "channel", "add", "接口", "--kind", "webhook", "--config", hook)
    rule = _json(
        run,
        "alerts",
        "rule",
        "add",
        "本行负面",
        "--channel",
        "接口",
        "--unit",
        "YN",
        "--grade",
        "attention",
        "--grade",
        "harmful",
    )
    assert (rule["unit_name"], rule["grade_names"], rule["channel_names"]) == (
        "云岭省联社",
        ["关注", "有害"],
        ["接口"],
    )
    night = _json(
        run,
        "alerts",
        "rule",
        "add",
        "夜间",
        "--channel",
        "接口",
        "--quiet",
        "22:00-7:00",
        "--disabled",
    )
    assert (night["quiet_start"], night["quiet_end"], night["enabled"]) == ("22:00", "07:00", False)
    assert [r["name"] for r in _json(run, "alerts", "rule", "list")] == ["本行负面", "夜间"]
    bad = run.invoke(
        app, ["alerts", "rule", "add", "坏规则", "--channel", "接口", "--grade", "general"]
    )
    assert bad.exit_code == 1 and "等级「一般」不是负面等级" in bad.stderr

    feed(db, settings, raw(COMPLAINT, "https://bbs.example/cli", views=100))
    receiver.fail("/webhook", 1, status=502)
    report = _json(run, "alerts", "run", "--once")
    assert (report["alerts"], report["retrying"], report["sent"]) == (1, 1, 0)
    [entry] = _json(run, "alerts", "log")
    assert entry["alert"]["rule"] == "本行负面" and entry["channel"]["name"] == "接口"
    assert (entry["status"], entry["attempts"]) == ("pending", 1)
    assert [(a["ok"], a["status_code"]) for a in entry["log"]] == [(False, 502)]
    text = run.invoke(app, ["alerts", "log"]).stdout
    assert "待发送" in text and "对方返回 HTTP 502" in text and "下次尝试" in text
    with db.session() as session:
        entries = audit.recent(session)
        actions = [e.action for e in entries]
        assert entries[0].actor.startswith("命令行（")  # the account that ran the command
    assert actions[:3] == ["alerts.rule.add", "alerts.rule.add", "alerts.channel.add"]
    _ok(run, "alerts", "rule", "remove", "本行负面")
    assert _json(run, "alerts", "log") == []
    db.dispose()
