"""The `yuqing` command. Each command parses, calls one library function, prints.

`--json` prints machine-readable results; errors print one red line and exit 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from yuqing.errors import YuqingError
from yuqing.settings import Settings, load_settings

if TYPE_CHECKING:
    from yuqing.store.db import Database

app = typer.Typer(
    help="Yuqing 舆情：舆情监测、分级、报告与处置。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
subjects_app = typer.Typer(
    help="监测主题（机构、领导、子公司、产品、专题）。", no_args_is_help=True
)
db_app = typer.Typer(help="数据库维护。", no_args_is_help=True)
app.add_typer(subjects_app, name="subjects")
app.add_typer(db_app, name="db")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
P = ParamSpec("P")
R = TypeVar("R")

JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出结果。")]


def _fail_cleanly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a YuqingError into one red line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except YuqingError as exc:
            err.print(f"[red]错误：{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc

    return wrapper


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, default=str).decode() + "\n")


def _settings() -> Settings:
    return load_settings()


def _database(settings: Settings) -> Database:
    from yuqing.store.db import open_database

    return open_database(settings.resolved_database_url)


@contextmanager
def _progress(total: int | None, quiet: bool, label: str) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on a terminal; nothing under --json or when piped."""
    if quiet or not err.is_terminal:
        yield None
        return
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@app.command()
@_fail_cleanly
def init(json: JsonOpt = False) -> None:
    """创建数据目录并建立数据库。"""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _database(settings).dispose()
    result = {"data_dir": str(settings.data_dir.resolve()), "database": _safe_url(settings)}
    if json:
        _print_json(result)
    else:
        out.print(f"已初始化：数据目录 {result['data_dir']}，数据库 {result['database']}")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


@db_app.command("upgrade")
@_fail_cleanly
def db_upgrade(json: JsonOpt = False) -> None:
    """把数据库结构升级到最新版本。"""
    from yuqing.store.db import make_engine, upgrade

    settings = _settings()
    engine = make_engine(settings.resolved_database_url)
    ran = upgrade(engine)
    engine.dispose()
    if json:
        _print_json({"upgraded": ran, "database": _safe_url(settings)})
    else:
        out.print("数据库已升级到最新版本。" if ran else "数据库已是最新版本。")


@app.command("import")
@_fail_cleanly
def import_(
    file: Annotated[
        Path, typer.Argument(help="JSONL、JSON、CSV、TSV 或 XLSX 文件（UTF-8 或 GBK）。")
    ],
    json: JsonOpt = False,
) -> None:
    """导入文件中的条目：坏行逐行报错，好行照常入库；重复导入不会产生重复条目。"""
    from yuqing.ingest.importer import count_lines, import_file

    settings = _settings()
    db = _database(settings)
    with _progress(count_lines(file) if file.exists() else None, json, "导入") as progress:
        report = import_file(db, settings, file, progress)
    db.dispose()
    if json:
        _print_json(report.as_dict())
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
@_fail_cleanly
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
    db = _database(_settings())
    with db.session() as session:
        created, _ = save_subjects(session, [subject])
    if json:
        _print_json({"name": subject.name, "created": bool(created)})
    else:
        out.print(f"{'已新增' if created else '已更新'}主题「{subject.name}」。")


@subjects_app.command("import")
@_fail_cleanly
def subjects_import(
    file: Annotated[Path, typer.Argument(help="JSON 或 YAML：主题对象的列表。")],
    json: JsonOpt = False,
) -> None:
    """从文件批量导入监测主题（全部校验通过才写入）。"""
    from yuqing.pipeline.subjects import read_subjects_file, save_subjects

    subjects = read_subjects_file(file)
    db = _database(_settings())
    with db.session() as session:
        created, updated = save_subjects(session, subjects)
    if json:
        _print_json({"created": created, "updated": updated})
    else:
        out.print(f"主题导入完成：新增 {created} 个，更新 {updated} 个。")


@subjects_app.command("list")
@_fail_cleanly
def subjects_list(json: JsonOpt = False) -> None:
    """列出监测主题。"""
    from yuqing.store.subjects import list_subjects

    db = _database(_settings())
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
        _print_json(rows)
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


@app.command()
@_fail_cleanly
def search(
    query: Annotated[
        str, typer.Argument(help='检索词：空格分隔为“且”，-词 为排除，"…" 为整词。')
    ] = "",
    platform: Annotated[str | None, typer.Option(help="平台代码，如 weibo、news。")] = None,
    subject: Annotated[int | None, typer.Option(help="主题 ID。")] = None,
    since: Annotated[str | None, typer.Option(help="起始时间（含），如 2026-11-01。")] = None,
    until: Annotated[str | None, typer.Option(help="截止时间；只写日期时含当天。")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="最多显示条数。")] = 20,
    page: Annotated[int, typer.Option(min=1, help="页码。")] = 1,
    json: JsonOpt = False,
) -> None:
    """全文检索已入库条目（能找到一两个字的中文词），可按平台、主题、时间筛选。"""
    from yuqing.store.browse import item_filter, list_items
    from yuqing.store.serialize import item_summary

    settings = _settings()
    tz = ZoneInfo(settings.timezone)
    flt = item_filter(
        q=query,
        subject=subject,
        platform=platform,
        media_tier=None,
        since=since,
        until=until,
        tz=tz,
    )
    db = _database(settings)
    with db.session() as session:
        result = list_items(session, flt, page=page, per_page=limit)
        rows = [item_summary(i, result.query) for i in result.items]
    if json:
        _print_json({"total": result.total, "page": page, "items": rows})
        return
    out.print(f"共 {result.total} 条，显示第 {page} 页：")
    for row in rows:
        moment = datetime.fromisoformat(row["published_at"] or row["discovered_at"])
        when = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        title = escape(row["title"] or "（无标题）")
        out.print(f"[bold]#{row['id']}[/bold] {title}  [dim]{row['platform']} {when}[/dim]")
        out.print(f"    {row['snippet']}", markup=False)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from yuqing.web.app import create_app

    out.print(f"Yuqing 已启动：http://{host}:{port}/  （Ctrl+C 退出）")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


HostOpt = Annotated[str, typer.Option(help="监听地址。")]
PortOpt = Annotated[int, typer.Option(help="监听端口。")]


@app.command()
@_fail_cleanly
def serve(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """启动网页界面与 API。"""
    settings = _settings()
    _database(settings).dispose()
    _serve(settings, host, port)


@app.command()
@_fail_cleanly
def demo(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="只导入演示数据，不启动网页。")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """创建演示机构（农商银行，省-市-县三级）、导入演示数据并启动网页。"""
    from yuqing.demo import install_demo

    settings = _settings()
    db = _database(settings)
    report = install_demo(db, settings, datetime.now(UTC))
    db.dispose()
    summary = {
        "organization": report.organization,
        "units": report.units,
        "subjects": report.subjects,
        **report.ingest.as_dict(),
    }
    if json:
        _print_json(summary)
    else:
        out.print(
            f"演示机构「{report.organization}」：{report.units} 个单位，"
            f"{report.subjects} 个监测主题；"
            f"新增 {report.ingest.counts.imported} 条，重复 {report.ingest.counts.duplicates} 条，"
            f"错误 {len(report.ingest.errors)} 条。"
        )
    if not no_serve:
        _serve(settings, host, port)


def main() -> None:
    app()
