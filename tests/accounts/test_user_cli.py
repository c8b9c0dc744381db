"""`yuqing init`, `yuqing user add|list|passwd|token` and `yuqing audit verify`, run as a
user would, on the real SQLite file; then the accounts they made sign in to the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from yuqing.cli import app
from yuqing.settings import Settings
from yuqing.store.db import open_database
from yuqing.store.tables import AuditEntry
from yuqing.web.app import create_app


@pytest.fixture
def env(tmp_path: Path, sqlite_url: str) -> dict[str, str]:
    return {"YUQING_DATA_DIR": str(tmp_path / "data"), "YUQING_DATABASE_URL": sqlite_url}


def run(env: dict[str, str], *args: str) -> Any:
    """The command's --json answer; it must succeed."""
    result = CliRunner(env=env).invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def settings_of(env: dict[str, str]) -> Settings:
    return Settings(data_dir=Path(env["YUQING_DATA_DIR"]), database_url=env["YUQING_DATABASE_URL"])


def signs_in(env: dict[str, str], username: str, password: str) -> int:
    with TestClient(create_app(settings_of(env))) as client:
        answer = client.post("/api/session", json={"username": username, "password": password})
        return answer.status_code


def test_init_add_list_passwd_and_token(env: dict[str, str]) -> None:
    made = run(env, "init")
    admin_password = made["admin"]["password"]
    assert signs_in(env, "admin", admin_password) == 200
    assert run(env, "init")["admin"] is None  # shown once only

    added = run(env, "user", "add", "li.ming", "--role", "monitor", "--unit", "ORG", "--name", "李")
    assert added["role"] == "monitor"
    first = added["password"]
    assert signs_in(env, "li.ming", first) == 200

    listed = run(env, "user", "list")
    assert [(u["username"], u["role"], u["unit"], u["active"]) for u in listed] == [
        ("admin", "admin", "ORG", True),
        ("li.ming", "monitor", "ORG", True),
    ]
    assert "password" not in str(listed) and "$argon2" not in str(listed)

    changed = run(env, "user", "passwd", "li.ming", "--password", "chosen-pass-2026")
    assert changed == {"username": "li.ming", "password": None}
    assert signs_in(env, "li.ming", first) == 401
    assert signs_in(env, "li.ming", "chosen-pass-2026") == 200
    generated = run(env, "user", "passwd", "li.ming")["password"]
    assert signs_in(env, "li.ming", generated) == 200

    token = run(env, "user", "token", "li.ming", "--name", "报表系统", "--days", "30")
    assert token["token"].startswith("yq_")
    with TestClient(create_app(settings_of(env))) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token['token']}"})
        assert me.json()["username"] == "li.ming"

    verified = run(env, "audit", "verify")
    assert verified["ok"] is True and verified["broken_at"] is None
    actions = {"user.add", "user.password", "user.token", "login.ok"}
    database = open_database(env["YUQING_DATABASE_URL"])
    with database.session() as session:
        from yuqing.store import audit

        assert actions <= {e.action for e in audit.recent(session, limit=100)}
    database.dispose()


def test_user_commands_refuse_with_one_line(env: dict[str, str]) -> None:
    run(env, "init")
    runner = CliRunner(env=env)
    cases = [
        (["user", "add", "x y", "--role", "monitor", "--unit", "ORG"], "用户名"),
        (["user", "add", "bob", "--role", "boss", "--unit", "ORG"], "角色"),
        (["user", "add", "bob", "--role", "monitor", "--unit", "NOPE"], "单位代码"),
        (["user", "add", "admin", "--role", "monitor", "--unit", "ORG"], "已存在"),
        (["user", "passwd", "ghost", "--password", "whatever-123"], "不存在"),
        (["user", "passwd", "admin", "--password", "short"], "至少"),
        (["user", "token", "ghost"], "不存在"),
    ]
    for args, words in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, args
        assert words in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_audit_verify_prints_the_head_and_fails_on_a_changed_row(env: dict[str, str]) -> None:
    run(env, "init")
    run(env, "user", "add", "wang", "--role", "viewer", "--unit", "ORG")
    runner = CliRunner(env=env)
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "审计日志完整：共 2 条" in ok.output and "链尾哈希" in ok.output
    database = open_database(env["YUQING_DATABASE_URL"])
    with database.session() as session:
        session.execute(
            update(AuditEntry).where(AuditEntry.id == 1).values(detail={"username": "evil"})
        )
    database.dispose()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "审计日志校验失败" in broken.output and "第 1 条的内容与其哈希不符" in broken.output
