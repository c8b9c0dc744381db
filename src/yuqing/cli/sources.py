"""Sources and collection: `yuqing sources add|list|show|remove|test` and `yuqing collect`."""

from __future__ import annotations

import asyncio
import json as jsonlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from yuqing.cli.base import (
    JsonOpt,
    app,
    cli_actor,
    current_settings,
    err,
    fail_cleanly,
    open_db,
    out,
    print_json,
)
from yuqing.errors import InputError
from yuqing.settings import Settings

if TYPE_CHECKING:
    from yuqing.collect.runner import RunReport

sources_app = typer.Typer(help="信息源：新增、查看、删除、试抓。", no_args_is_help=True)
app.add_typer(sources_app, name="sources")

PARALLEL_RUNS = 4
"""Sources `yuqing collect` runs at once (each keeps its own per-host politeness)."""
ERROR_CHARS = 60
"""How much of a last error `sources list` shows; `sources show` shows it whole."""

RefArg = Annotated[str, typer.Argument(help="源名称或编号。")]


def read_config(text: str | None, file: Path | None) -> dict[str, Any]:
    """The `--config` JSON or the `--config-file` contents as an object; InputError if bad."""
    if text is not None and file is not None:
        raise InputError("config", "--config 与 --config-file 只能给一个")
    where = "--config"
    if file is not None:
        where = f"配置文件 {file}"
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError("config", f"无法读取{where}：{exc}") from None
    if text is None or not text.strip():
        return {}
    try:
        value = jsonlib.loads(text)
    except ValueError as exc:
        raise InputError("config", f"{where} 不是有效的 JSON：{exc}") from None
    if not isinstance(value, dict):
        raise InputError("config", f'{where} 应为 JSON 对象，如 {{"url": "https://…"}}')
    return value


@sources_app.command("add")
@fail_cleanly
def sources_add(
    name: Annotated[str, typer.Argument(help="源名称，如「滨江日报网」。")],
    kind: Annotated[str, typer.Option(help="类型：rss、web、sitemap、json、file、push、manual。")],
    platform: Annotated[str, typer.Option(help="平台代码，如 news、forum、weibo。")] = "other",
    media_tier: Annotated[
        str, typer.Option(help="媒体级别代码，如 national、provincial、local。")
    ] = "other",
    region: Annotated[str | None, typer.Option(help="地区，如「滨江市」。")] = None,
    unit: Annotated[str | None, typer.Option(help="所属单位代码或编号。")] = None,
    config: Annotated[str | None, typer.Option(help="类型配置（JSON 对象）。")] = None,
    config_file: Annotated[Path | None, typer.Option(help="类型配置文件（JSON）。")] = None,
    interval: Annotated[int | None, typer.Option(help="抓取间隔（分钟）。")] = None,
    cron: Annotated[str | None, typer.Option(help='定时表达式，如 "0 8,12,17 * * 1-5"。')] = None,
    no_robots: Annotated[bool, typer.Option("--no-robots", help="不遵守 robots.txt。")] = False,
    max_items: Annotated[int | None, typer.Option(help="每次抓取条数上限。")] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="先不启用。")] = False,
    json: JsonOpt = False,
) -> None:
    """新增一个信息源（校验全部配置后才保存）；接口推送源的令牌只显示这一次。"""
    from yuqing.collect.manage import SourceInput, add_source, describe
    from yuqing.standard import load_standard

    source = SourceInput(
        name=name,
        kind=kind,
        platform=platform,
        media_tier=media_tier,
        region=region,
        unit=unit,
        config=read_config(config, config_file),
        interval_minutes=interval,
        cron=cron,
        robots=not no_robots,
        max_items=max_items,
        enabled=not disabled,
    )
    settings = current_settings()
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    db = open_db(settings)
    with db.session() as session:
        row, token = add_source(session, standard, source, datetime.now(UTC), by=cli_actor())
        data = describe(session, standard, row)
    db.dispose()
    if json:
        print_json({**data, "token": token} if token else data)
        return
    out.print(f"已新增信息源 #{data['id']}「{escape(data['name'])}」（{data['kind_name']}）。")
    _print_settings(data, settings)
    if token:
        out.print(f"推送令牌：{token}", markup=False)
        err.print("[yellow]请立即保存此令牌：它只显示这一次，之后无法再查看。[/yellow]")


@sources_app.command("list")
@fail_cleanly
def sources_list(json: JsonOpt = False) -> None:
    """列出全部信息源及其健康状况（最近成功、最近错误、每次条数、连续失败）。"""
    settings, rows = _described(None)
    if json:
        print_json(rows)
        return
    if not rows:
        out.print("还没有信息源。用 yuqing sources add 新增。")
        return
    tz = ZoneInfo(settings.timezone)
    for s in rows:
        health = s["health"]
        per_run = health["items_per_run"]
        parts = [
            f"[bold]#{s['id']}[/bold] {escape(s['name'])}",
            s["kind_name"],
            f"{s['platform_name']}/{s['media_tier_name']}",
            schedule_text(s, settings),
            f"最近成功 {_local(health['last_success_at'], tz) or '—'}",
            f"每次 {per_run:.1f} 条" if per_run is not None else "每次 — 条",
        ]
        if health["last_error"]:
            parts.append(f"最近错误：{escape(_short(health['last_error']))}")
        if health["failing"]:
            parts.append("[red]失败[/red]")
        out.print("  ".join(parts))


@sources_app.command("show")
@fail_cleanly
def sources_show(ref: RefArg, json: JsonOpt = False) -> None:
    """显示一个信息源的全部设置、健康状况和最近 10 次抓取。"""
    settings, (data,) = _described(ref, runs=10)
    if json:
        print_json(data)
        return
    tz = ZoneInfo(settings.timezone)
    out.print(f"[bold]#{data['id']}[/bold] {escape(data['name'])}（{data['kind_name']}）")
    _print_settings(data, settings)
    health = data["health"]
    per_run = health["items_per_run"]
    latency = health["avg_latency_ms"]
    out.print(
        f"最近成功：{_local(health['last_success_at'], tz) or '—'}  "
        f"下次抓取：{_local(health['next_run_at'], tz) or '—'}  "
        f"每次条数：{'—' if per_run is None else f'{per_run:.1f}'}  "
        f"平均延迟：{'—' if latency is None else f'{latency:.0f} 毫秒'}  "
        f"累计条目：{health['items_total']}"
    )
    if health["last_error"]:
        when = _local(health["last_error_at"], tz)
        out.print(f"[yellow]最近错误（{when}）：{escape(health['last_error'])}[/yellow]")
    if health["failing"]:
        out.print(f"[red]已连续失败 {health['consecutive_failures']} 次，已标记为失败源。[/red]")
    out.print(f"最近 {len(data['runs'])} 次抓取：" if data["runs"] else "尚未抓取过。")
    for run in data["runs"]:
        status = "[green]成功[/green]" if run["ok"] else "[red]失败[/red]"
        out.print(
            f"  {_local(run['started_at'], tz)} {status} 页数 {run['pages']} "
            f"条目 {run['records']} 新增 {run['imported']} 重复 {run['duplicates']} "
            f"拒收 {run['rejected']} 用时 {run['seconds']} 秒"
        )
        if run["error"]:
            out.print(f"    {escape(run['error'])}")
        for problem in run["problems"]:
            out.print(f"    · {escape(problem)}")


@sources_app.command("remove")
@fail_cleanly
def sources_remove(
    ref: RefArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="不再确认。")] = False,
    json: JsonOpt = False,
) -> None:
    """删除一个信息源及其抓取记录；它带来的条目保留。"""
    from yuqing.collect.manage import remove_source
    from yuqing.store.sources import find_source

    db = open_db(current_settings())
    with db.session() as session:
        row = find_source(session, ref)
        source_id, name = row.id, row.name
        if not yes and not typer.confirm(f"确定删除信息源 #{source_id}「{name}」吗？"):
            err.print("已取消，未删除任何信息源。")
            raise typer.Exit(1)
        remove_source(session, row, datetime.now(UTC), by=cli_actor())
    db.dispose()
    if json:
        print_json({"removed": source_id, "name": name})
    else:
        out.print(f"已删除信息源 #{source_id}「{escape(name)}」；它带来的条目保留。")


@sources_app.command("test")
@fail_cleanly
def sources_test(ref: RefArg, json: JsonOpt = False) -> None:
    """试抓一次：列出将会入库的条目和逐条错误，不保存任何东西。"""
    from yuqing.collect.manage import describe_preview
    from yuqing.collect.runner import Collector
    from yuqing.store.sources import find_source

    settings = current_settings()
    db = open_db(settings)
    with db.session() as session:
        source_id = find_source(session, ref).id
    try:
        collected, items = asyncio.run(Collector(db, settings).preview(source_id))
    finally:
        db.dispose()
    data = describe_preview(collected, items)
    if json:
        print_json(data)
        return
    tz = ZoneInfo(settings.timezone)
    out.print(
        f"试抓完成（未保存）：{len(items)} 条将入库，{len(data['errors'])} 个错误，"
        f"抓取 {collected.pages} 页（未变化 {collected.not_modified} 页）。"
    )
    for entry in data["items"]:
        published = entry["published"]
        when = _local(published, tz) if _is_iso(published) else published
        metrics = "  ".join(f"{k} {v}" for k, v in entry["metrics"].items())
        out.print(f"· {escape(entry['title'] or '（无标题）')}  [dim]{when or '—'}[/dim]")
        out.print(f"    {entry['url'] or '—'}  {metrics}", markup=False)
    for problem in data["errors"]:
        out.print(f"[yellow]· {escape(problem)}[/yellow]")


@app.command()
@fail_cleanly
def collect(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="源名称或编号，可多次给出。")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="抓取全部已启用的可抓取源一次（供 cron 调用）。")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """立即抓取指定的源（或 --all 全部）；全部跑完后，有失败的源则退出码为 1。"""
    from yuqing.collect.runner import Collector
    from yuqing.sources.registry import SOURCE_KINDS
    from yuqing.store.sources import find_source, list_sources

    if not source and not all_:
        raise InputError(
            "--source", "请用 --source 指定源名称或编号，或用 --all 抓取全部已启用的源"
        )
    settings = current_settings()
    db = open_db(settings)
    with db.session() as session:
        if all_:
            rows = list_sources(session, enabled_only=True)
            ids = [r.id for r in rows if r.kind in SOURCE_KINDS]
        else:
            ids = list(dict.fromkeys(find_source(session, ref).id for ref in source or []))
    try:
        reports = asyncio.run(_run_all(Collector(db, settings), ids, all_))
    finally:
        db.dispose()
    if json:
        print_json({"sources": [r.as_dict() for r in reports]})
    else:
        _print_reports(reports, all_)
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


async def _run_all(collector: Any, ids: list[int], scheduled: bool) -> list[RunReport]:
    slots = asyncio.Semaphore(PARALLEL_RUNS)
    trigger = "schedule" if scheduled else "manual"

    async def one(source_id: int) -> RunReport:
        async with slots:
            report: RunReport = await collector.run(source_id, trigger=trigger)
            return report

    return list(await asyncio.gather(*(one(i) for i in ids)))


def _print_reports(reports: list[RunReport], all_: bool) -> None:
    if not reports:
        out.print("没有已启用的可抓取源。" if all_ else "没有要抓取的源。")
    for r in reports:
        if r.ok:
            out.print(
                f"[green]✓[/green] {escape(r.source)}：{r.records} 条，新增 {r.imported}，"
                f"重复 {r.duplicates}，拒收 {r.rejected}，回访 {r.revisited}，"
                f"用时 {r.seconds:.1f} 秒"
            )
        else:
            err.print(f"[red]✗ {escape(r.source)}：{escape(r.error or '抓取失败')}[/red]")
        for problem in r.problems[:10]:
            out.print(f"    · {escape(problem)}")
        if len(r.problems) > 10:
            out.print(f"    …… 另有 {len(r.problems) - 10} 个问题，用 --json 查看全部。")


def _described(ref: str | None, runs: int = 0) -> tuple[Settings, list[dict[str, Any]]]:
    """The settings and every source (or the one `ref` names) as `describe` shows them."""
    from yuqing.collect.manage import describe
    from yuqing.standard import load_standard
    from yuqing.store.sources import find_source, list_sources

    settings = current_settings()
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    db = open_db(settings)
    try:
        with db.session() as session:
            rows = [find_source(session, ref)] if ref is not None else list_sources(session)
            return settings, [describe(session, standard, row, runs=runs) for row in rows]
    finally:
        db.dispose()


def schedule_text(source: dict[str, Any], settings: Settings) -> str:
    """How often a source runs, in words: 每 N 分钟, the cron expression, or the default."""
    if not source["collects"]:
        return "不定时抓取（推送或录入）"
    if source["cron"]:
        return f"定时 {source['cron']}"
    if source["interval_minutes"]:
        return f"每 {source['interval_minutes']} 分钟"
    return f"默认（每 {settings.collect_interval_minutes} 分钟）"


def _print_settings(data: dict[str, Any], settings: Settings) -> None:
    out.print(
        f"平台：{data['platform_name']}  媒体级别：{data['media_tier_name']}  "
        f"地区：{escape(data['region'] or '—')}  单位：{data['unit_id'] or '—'}"
    )
    out.print(
        f"抓取计划：{schedule_text(data, settings)}  "
        f"robots.txt：{'遵守' if data['robots'] else '不遵守'}  "
        f"每次上限：{data['max_items'] or '默认'}  {'已启用' if data['enabled'] else '未启用'}"
    )
    if data["config"]:
        config = jsonlib.dumps(data["config"], ensure_ascii=False)
        out.print(f"配置：{config}", markup=False)


def _is_iso(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _local(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"
