"""Set-up, import, subjects, serve and demo."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from yuqing.cli.base import (
    JsonOpt,
    app,
    cli_actor,
    current_settings,
    db_app,
    fail_cleanly,
    open_db,
    out,
    print_json,
    progress_bar,
    subjects_app,
)
from yuqing.settings import Settings


@app.command()
@fail_cleanly
def init(json: JsonOpt = False) -> None:
    """创建数据目录并建立数据库。"""
    from yuqing.accounts.manage import ensure_admin

    settings = current_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_db(settings)
    with db.session() as session:
        admin = ensure_admin(session, datetime.now(UTC))
    db.dispose()
    result: dict[str, Any] = {
        "data_dir": str(settings.data_dir.resolve()),
        "database": _safe_url(settings),
        "admin": {"username": admin[0], "password": admin[1]} if admin else None,
    }
    if json:
        print_json(result)
        return
    out.print(f"已初始化：数据目录 {result['data_dir']}，数据库 {result['database']}")
    if admin:
        _print_admin(*admin)


def _print_admin(username: str, password: str) -> None:
    out.print(
        f"管理员账号：{username}  密码（只显示这一次）：{password}\n"
        "  请登录后用 yuqing user add 为同事建立账号；忘记密码可用 yuqing user passwd 重设。"
    )


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


@db_app.command("upgrade")
@fail_cleanly
def db_upgrade(json: JsonOpt = False) -> None:
    """把数据库结构升级到最新版本。"""
    from yuqing.store.db import make_engine, upgrade

    settings = current_settings()
    engine = make_engine(settings.resolved_database_url)
    ran = upgrade(engine)
    engine.dispose()
    if json:
        print_json({"upgraded": ran, "database": _safe_url(settings)})
    else:
        out.print("数据库已升级到最新版本。" if ran else "数据库已是最新版本。")


@app.command("import")
@fail_cleanly
def import_(
    file: Annotated[
        Path, typer.Argument(help="JSONL、JSON、CSV、TSV 或 XLSX 文件（UTF-8 或 GBK）。")
    ],
    json: JsonOpt = False,
) -> None:
    """导入文件中的条目：坏行逐行报错，好行照常入库；重复导入不会产生重复条目。"""
    from yuqing.ingest.importer import count_lines, import_file

    settings = current_settings()
    db = open_db(settings)
    with progress_bar(count_lines(file) if file.exists() else None, json, "导入") as progress:
        report = import_file(db, settings, file, progress)
    db.dispose()
    if json:
        print_json(report.as_dict())
        return
    out.print(
        f"导入完成：新增 {report.counts.imported} 条，重复 {report.counts.duplicates} 条，"
        f"错误 {len(report.errors)} 条，用时 {report.seconds:.1f} 秒。"
    )
    for error in report.errors[:20]:
        out.print(f"  [yellow]{escape(error.where)}[/yellow] {escape(error.error)}")
    if len(report.errors) > 20:
        out.print(f"  …… 另有 {len(report.errors) - 20} 条错误，用 --json 查看全部。")


@subjects_app.command("add")
@fail_cleanly
def subjects_add(
    name: Annotated[str, typer.Argument(help="主题名称，如机构全称。")],
    alias: Annotated[
        list[str] | None, typer.Option("--alias", "-a", help="别名，可多次给出。")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", "-x", help="排除词，可多次给出。")
    ] = None,
    rule: Annotated[
        str | None, typer.Option(help="布尔规则，如 '(农商行 | 农信社) & 挤兑 & !招聘'。")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="所属单位代码。")] = None,
    kind: Annotated[
        str, typer.Option(help="organization、leader、subsidiary、product 或 topic。")
    ] = "organization",
    json: JsonOpt = False,
) -> None:
    """新增或更新一个监测主题。"""
    from yuqing.pipeline.subjects import save_subjects, subject_from_mapping

    subject = subject_from_mapping(
        {
            "name": name,
            "aliases": alias or [],
            "exclude": exclude or [],
            "rule": rule,
            "unit": unit,
            "kind": kind,
        },
        "命令行",
    )
    db = open_db(current_settings())
    with db.session() as session:
        created, _ = save_subjects(session, [subject], cli_actor().label)
    if json:
        print_json({"name": subject.name, "created": bool(created)})
    else:
        out.print(f"{'已新增' if created else '已更新'}主题「{subject.name}」。")


@subjects_app.command("import")
@fail_cleanly
def subjects_import(
    file: Annotated[Path, typer.Argument(help="JSON 或 YAML：主题对象的列表。")],
    json: JsonOpt = False,
) -> None:
    """从文件批量导入监测主题（全部校验通过才写入）。"""
    from yuqing.pipeline.subjects import read_subjects_file, save_subjects

    subjects = read_subjects_file(file)
    db = open_db(current_settings())
    with db.session() as session:
        created, updated = save_subjects(session, subjects, cli_actor().label)
    if json:
        print_json({"created": created, "updated": updated})
    else:
        out.print(f"主题导入完成：新增 {created} 个，更新 {updated} 个。")


@subjects_app.command("list")
@fail_cleanly
def subjects_list(json: JsonOpt = False) -> None:
    """列出监测主题。"""
    from yuqing.store.subjects import list_subjects

    db = open_db(current_settings())
    with db.session() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "unit_id": s.unit_id,
                "aliases": s.aliases,
                "exclude": s.exclude,
                "rule": s.rule,
                "enabled": s.enabled,
            }
            for s in list_subjects(session)
        ]
    if json:
        print_json(rows)
        return
    table = Table("ID", "名称", "类型", "别名", "排除词", "规则")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["name"],
            r["kind"],
            "、".join(r["aliases"]),
            "、".join(r["exclude"]),
            r["rule"] or "",
        )
    out.print(table)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from yuqing.web.app import create_app

    out.print(f"Yuqing 已启动：http://{host}:{port}/  （Ctrl+C 退出；定时抓取与预警随之运行）")
    uvicorn.run(create_app(settings, schedule=True), host=host, port=port, log_level="warning")


HostOpt = Annotated[str, typer.Option(help="监听地址。")]
PortOpt = Annotated[int, typer.Option(help="监听端口。")]


@app.command()
@fail_cleanly
def serve(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """启动网页界面与 API。"""
    settings = current_settings()
    open_db(settings).dispose()
    _serve(settings, host, port)


@app.command()
@fail_cleanly
def demo(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="只导入演示数据，不启动网页。")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """创建演示机构（农商银行，省-市-县三级）、导入演示数据并启动网页。"""
    from yuqing.accounts.roles import role_name
    from yuqing.demo import install_demo

    settings = current_settings()
    db = open_db(settings)
    report = install_demo(db, settings, datetime.now(UTC))
    db.dispose()
    summary = {
        "organization": report.organization,
        "units": report.units,
        "subjects": report.subjects,
        "push_token": report.push_token,
        "admin_password": report.admin_password,
        "users": report.users,
        **report.ingest.as_dict(),
    }
    if json:
        print_json(summary)
    else:
        out.print(
            f"演示机构「{report.organization}」：{report.units} 个单位，"
            f"{report.subjects} 个监测主题；"
            f"新增 {report.ingest.counts.imported} 条，重复 {report.ingest.counts.duplicates} 条，"
            f"错误 {len(report.ingest.errors)} 条。"
        )
        if report.push_token:
            out.print(
                f"演示推送源的令牌（只显示这一次）：{report.push_token}\n"
                "  外部采集程序用它调用 POST /api/ingest（Authorization: Bearer 令牌）。"
            )
        if report.admin_password:
            _print_admin("admin", report.admin_password)
        out.print(
            "演示账号（密码 yuqing-demo-2026）："
            + "、".join(
                f"{u['username']}（{u['name']}，{role_name(u['role'])}）" for u in report.users[1:]
            )
        )
    if not no_serve:
        _serve(settings, host, port)
