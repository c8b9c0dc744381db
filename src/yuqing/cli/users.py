"""`yuqing user add|list|passwd|token` and `yuqing audit verify`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from yuqing.cli.base import (
    JsonOpt,
    app,
    cli_actor,
    current_settings,
    fail_cleanly,
    open_db,
    out,
    print_json,
)
from yuqing.errors import StorageError

user_app = typer.Typer(help="用户与 API 令牌。", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志。", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")

RoleOpt = Annotated[str, typer.Option(help="角色：admin、monitor、office、leader 或 viewer。")]


@user_app.command("add")
@fail_cleanly
def user_add(
    username: Annotated[str, typer.Argument(help="登录用的用户名。")],
    role: RoleOpt,
    unit: Annotated[str, typer.Option(help="所属单位代码；用户能看到该单位及其下级。")],
    name: Annotated[str, typer.Option(help="显示名，如姓名。")] = "",
    email: Annotated[str | None, typer.Option(help="电子邮箱。")] = None,
    phone: Annotated[str | None, typer.Option(help="手机号。")] = None,
    json: JsonOpt = False,
) -> None:
    """新增用户；密码随机生成，只显示这一次。"""
    from yuqing.accounts.manage import NewUser, add_user

    db = open_db(current_settings())
    with db.session() as session:
        new = NewUser(username, role, unit, name, None, email, phone)
        user, password = add_user(session, new, cli_actor(), datetime.now(UTC))
        result = {
            "id": user.id,
            "username": user.username,
            "role": user.role,
            "unit": unit,
            "password": password,
        }
    if json:
        print_json(result)
    else:
        out.print(f"已新增用户 {result['username']}（{role}，单位 {unit}）。")
        out.print(f"初始密码（只显示这一次）：{password}")


@user_app.command("list")
@fail_cleanly
def user_list(json: JsonOpt = False) -> None:
    """列出用户。"""
    from yuqing.accounts.roles import role_name
    from yuqing.store.units import list_units
    from yuqing.store.users import list_users

    settings = current_settings()
    tz = ZoneInfo(settings.timezone)
    db = open_db(settings)
    with db.session() as session:
        units = {u.id: u.code for u in list_units(session)}
        rows: list[dict[str, Any]] = [
            {
                "id": u.id,
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "unit": units.get(u.unit_id),
                "active": u.is_active,
                "locked_until": u.locked_until,
                "last_login_at": u.last_login_at,
            }
            for u in list_users(session)
        ]
    if json:
        print_json(rows)
        return
    table = Table("ID", "用户名", "显示名", "角色", "单位", "状态", "最近登录")
    for r in rows:
        state = "停用" if not r["active"] else ("锁定" if r["locked_until"] else "正常")
        last = (
            r["last_login_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M")
            if r["last_login_at"]
            else "—"
        )
        table.add_row(
            str(r["id"]),
            r["username"],
            r["display_name"],
            role_name(r["role"]),
            r["unit"] or "",
            state,
            last,
        )
    out.print(table)


@user_app.command("passwd")
@fail_cleanly
def user_passwd(
    username: Annotated[str, typer.Argument(help="用户名。")],
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            prompt="新密码（留空则随机生成）",
            prompt_required=False,
            hide_input=True,
            help="新密码；不给则随机生成并显示一次。",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """重设密码：解除锁定，并使该用户在所有浏览器上退出登录。"""
    from yuqing.accounts.manage import set_password

    db = open_db(current_settings())
    with db.session() as session:
        generated = set_password(
            session, username, password or None, cli_actor(), datetime.now(UTC)
        )
    if json:
        print_json({"username": username, "password": generated})
    else:
        out.print(f"已重设 {username} 的密码。")
        if generated:
            out.print(f"新密码（只显示这一次）：{generated}")


@user_app.command("token")
@fail_cleanly
def user_token(
    username: Annotated[str, typer.Argument(help="令牌代表的用户；令牌拥有该用户的权限。")],
    name: Annotated[str, typer.Option(help="令牌用途，如「报表系统」。")] = "API",
    days: Annotated[int | None, typer.Option(min=1, help="有效天数；不给则长期有效。")] = None,
    json: JsonOpt = False,
) -> None:
    """为用户签发 API 令牌（Authorization: Bearer 令牌），只显示这一次。"""
    from yuqing.accounts.manage import issue_token

    db = open_db(current_settings())
    with db.session() as session:
        raw = issue_token(session, username, name, cli_actor(), datetime.now(UTC), days)
    if json:
        print_json({"username": username, "name": name, "token": raw})
    else:
        out.print(f"API 令牌（只显示这一次）：{raw}")


@audit_app.command("verify")
@fail_cleanly
def audit_verify(json: JsonOpt = False) -> None:
    """逐条校验审计日志的哈希链，报告第一处断链。"""
    from yuqing.store.audit import verify

    db = open_db(current_settings())
    with db.session() as session:
        result = verify(session)
    if json:
        print_json(result.as_dict())
    elif result.ok:
        out.print(f"审计日志完整：共 {result.rows} 条，链尾哈希 {result.head}。")
    if not result.ok:
        raise StorageError(f"审计日志校验失败：{result.problem}（已校验 {result.rows} 条）")
