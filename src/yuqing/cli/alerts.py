"""Alerts: `yuqing alerts channel add|list|edit|remove|test`, `yuqing alerts rule
add|list|remove`, `yuqing alerts log` and `yuqing alerts run`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
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
from yuqing.cli.sources import read_config
from yuqing.errors import InputError

alerts_app = typer.Typer(help="预警：通道、规则、投递记录。", no_args_is_help=True)
channel_app = typer.Typer(
    help="预警通道：邮件、企业微信/钉钉/飞书群机器人、Webhook、短信网关。", no_args_is_help=True
)
rule_app = typer.Typer(help="预警规则：哪些信息发给哪些通道。", no_args_is_help=True)
alerts_app.add_typer(channel_app, name="channel")
alerts_app.add_typer(rule_app, name="rule")
app.add_typer(alerts_app, name="alerts")

RefArg = Annotated[str, typer.Argument(help="名称或编号。")]
STATUS_NAMES = {
    "pending": "待发送",
    "deferred": "免打扰推迟",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "失败",
}


def _local(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S")


# Channels ------------------------------------------------------------------------------------


@channel_app.command("add")
@fail_cleanly
def channel_add(
    name: Annotated[str, typer.Argument(help="通道名称，如「值班群」。")],
    kind: Annotated[str, typer.Option(help="类型：email、wecom、dingtalk、feishu、webhook、sms。")],
    config: Annotated[str | None, typer.Option(help="类型配置（JSON 对象）。")] = None,
    config_file: Annotated[Path | None, typer.Option(help="类型配置文件（JSON）。")] = None,
    unit: Annotated[str | None, typer.Option(help="所属单位代码或编号。")] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="先不启用。")] = False,
    json: JsonOpt = False,
) -> None:
    """新增预警通道（配置校验通过才保存）；密码和密钥在输出中隐去。"""
    from yuqing.alerts.manage import ChannelInput, add_channel, describe_channel

    data = ChannelInput(
        name=name,
        kind=kind,
        config=read_config(config, config_file),
        unit=unit,
        enabled=not disabled,
    )
    db = open_db(current_settings())
    with db.session() as session:
        row = add_channel(session, cli_actor(), data, datetime.now(UTC))
        shown = describe_channel(session, row)
    db.dispose()
    if json:
        print_json(shown)
        return
    out.print(f"已新增预警通道 #{shown['id']}「{escape(shown['name'])}」（{shown['kind_name']}）。")
    out.print("可用 yuqing alerts channel test 发一条测试消息。")


@channel_app.command("list")
@fail_cleanly
def channel_list(json: JsonOpt = False) -> None:
    """列出预警通道（密码、密钥、机器人地址中的 key 已隐去）。"""
    from yuqing.alerts.manage import describe_channel
    from yuqing.store.alerts import list_channels

    db = open_db(current_settings())
    with db.session() as session:
        rows = [describe_channel(session, row) for row in list_channels(session)]
    db.dispose()
    if json:
        print_json(rows)
        return
    if not rows:
        out.print("还没有预警通道。用 yuqing alerts channel add 新增。")
        return
    for c in rows:
        state = "" if c["enabled"] else "  [yellow]已停用[/yellow]"
        unit = f"  {escape(c['unit_name'])}" if c["unit_name"] else ""
        settings_text = escape(", ".join(f"{k}={v}" for k, v in c["config"].items()))
        line = f"[bold]#{c['id']}[/bold] {escape(c['name'])}  {c['kind_name']}{unit}{state}"
        out.print(f"{line}\n    {settings_text}")


@channel_app.command("edit")
@fail_cleanly
def channel_edit(
    ref: RefArg,
    name: Annotated[str | None, typer.Option(help="新名称。")] = None,
    config: Annotated[
        str | None, typer.Option(help="要改的配置项（JSON 对象，逐项合并；null 删除该项）。")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="所属单位代码或编号。")] = None,
    enable: Annotated[bool | None, typer.Option("--enable/--disable", help="启用或停用。")] = None,
    json: JsonOpt = False,
) -> None:
    """修改预警通道：名称、配置项、单位、启用与否。"""
    from yuqing.alerts.manage import describe_channel, edit_channel

    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if config is not None:
        changes["config"] = read_config(config, None)
    if unit is not None:
        changes["unit"] = unit
    if enable is not None:
        changes["enabled"] = enable
    if not changes:
        raise InputError(
            "", "没有要修改的内容：请给出 --name、--config、--unit 或 --enable/--disable"
        )
    db = open_db(current_settings())
    with db.session() as session:
        row = edit_channel(session, cli_actor(), ref, changes, datetime.now(UTC))
        shown = describe_channel(session, row)
    db.dispose()
    if json:
        print_json(shown)
        return
    out.print(f"已修改预警通道 #{shown['id']}「{escape(shown['name'])}」。")


@channel_app.command("remove")
@fail_cleanly
def channel_remove(ref: RefArg, json: JsonOpt = False) -> None:
    """删除预警通道及其投递记录，并从规则中移除（只想暂停请用 edit --disable）。"""
    from yuqing.alerts.manage import remove_channel

    db = open_db(current_settings())
    with db.session() as session:
        removed = remove_channel(session, cli_actor(), ref, datetime.now(UTC))
    db.dispose()
    if json:
        print_json(removed)
        return
    rules = "、".join(removed["rules"]) or "无"
    out.print(
        f"已删除预警通道 #{removed['id']}「{escape(removed['name'])}」"
        f"（{removed['deliveries']} 条投递记录；从规则中移除：{escape(rules)}）。"
    )


@channel_app.command("test")
@fail_cleanly
def channel_test(ref: RefArg, json: JsonOpt = False) -> None:
    """立即经该通道发一条测试消息，并显示结果。"""
    from yuqing.alerts.log import send_test
    from yuqing.alerts.manage import find_channel

    settings = current_settings()
    db = open_db(settings)
    with db.session() as session:
        row = find_channel(session, ref)
    db.dispose()
    result = asyncio.run(send_test(row, settings))
    data = {"channel": row.name, **result.as_dict()}
    if json:
        print_json(data)
    elif result.ok:
        out.print(f"测试消息已经「{escape(row.name)}」发出（{result.parts} 段）。")
    if not result.ok:
        if not json:
            words = f"经「{row.name}」发送测试消息失败：{result.error or ''}"
            err.print(f"[red]错误：{escape(words)}[/red]")
        raise typer.Exit(1)


# Rules ----------------------------------------------------------------------------------------


def _quiet(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    start, sep, end = value.partition("-")
    if not sep:
        raise InputError("quiet", f"免打扰时段 {value[:30]!r} 应写成“开始-结束”，如 22:00-07:00")
    return start, end


@rule_app.command("add")
@fail_cleanly
def rule_add(
    name: Annotated[str, typer.Argument(help="规则名称，如「本行负面信息」。")],
    channel: Annotated[list[str], typer.Option(help="发往的通道名称或编号（可多次给出）。")],
    unit: Annotated[str | None, typer.Option(help="只管此单位（代码或编号）的信息。")] = None,
    no_subtree: Annotated[
        bool, typer.Option("--no-subtree", help="只管该单位本级，不含下级单位。")
    ] = False,
    grade: Annotated[
        list[str] | None, typer.Option(help="等级：attention、harmful、dangerous（默认全部负面）。")
    ] = None,
    category: Annotated[list[str] | None, typer.Option(help="分类代码或其开头，如 300。")] = None,
    subject: Annotated[list[str] | None, typer.Option(help="监测主题名称或编号。")] = None,
    platform: Annotated[list[str] | None, typer.Option(help="平台代码，如 weibo。")] = None,
    quiet: Annotated[
        str | None, typer.Option(help="免打扰时段，如 22:00-07:00（有害、危害不受影响）。")
    ] = None,
    no_reminders: Annotated[
        bool, typer.Option("--no-reminders", help="不发送报告时限提醒。")
    ] = False,
    disabled: Annotated[bool, typer.Option("--disabled", help="先不启用。")] = False,
    json: JsonOpt = False,
) -> None:
    """新增预警规则：按单位、主题、等级、分类、平台挑选信息，发往所选通道。"""
    from yuqing.alerts.manage import RuleInput, add_rule, describe_rule
    from yuqing.standard import load_standard

    quiet_start, quiet_end = _quiet(quiet)
    data = RuleInput(
        name=name,
        channels=channel,
        unit=unit,
        include_subtree=not no_subtree,
        grades=grade or [],
        categories=category or [],
        subjects=subject or [],
        platforms=platform or [],
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        remind_deadlines=not no_reminders,
        enabled=not disabled,
    )
    settings = current_settings()
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    db = open_db(settings)
    with db.session() as session:
        row = add_rule(session, standard, cli_actor(), data, datetime.now(UTC))
        shown = describe_rule(session, standard, row)
    db.dispose()
    if json:
        print_json(shown)
        return
    out.print(f"已新增预警规则 #{shown['id']}「{escape(shown['name'])}」。")
    _print_rule(shown)


def _print_rule(r: dict[str, Any]) -> None:
    unit = "全部单位"
    if r["unit_name"]:
        unit = f"{r['unit_name']}{'及下级' if r['include_subtree'] else '本级'}"
    parts = [
        f"单位：{unit}",
        f"等级：{'、'.join(r['grade_names'])}",
        f"分类：{'、'.join(r['categories']) or '全部'}",
        f"平台：{'、'.join(r['platforms']) or '全部'}",
        f"主题：{'、'.join(r['subject_names']) or '全部'}",
        f"通道：{'、'.join(r['channel_names'])}",
    ]
    if r["quiet_start"]:
        parts.append(f"免打扰：{r['quiet_start']}-{r['quiet_end']}")
    parts.append("时限提醒：" + ("是" if r["remind_deadlines"] else "否"))
    out.print("    " + escape("  ".join(parts)))


@rule_app.command("list")
@fail_cleanly
def rule_list(json: JsonOpt = False) -> None:
    """列出预警规则。"""
    from yuqing.alerts.manage import describe_rule
    from yuqing.standard import load_standard
    from yuqing.store.alerts import list_rules

    settings = current_settings()
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    db = open_db(settings)
    with db.session() as session:
        rows = [describe_rule(session, standard, row) for row in list_rules(session)]
    db.dispose()
    if json:
        print_json(rows)
        return
    if not rows:
        out.print("还没有预警规则。用 yuqing alerts rule add 新增。")
        return
    for r in rows:
        state = "" if r["enabled"] else "  [yellow]已停用[/yellow]"
        out.print(f"[bold]#{r['id']}[/bold] {escape(r['name'])}{state}")
        _print_rule(r)


@rule_app.command("remove")
@fail_cleanly
def rule_remove(ref: RefArg, json: JsonOpt = False) -> None:
    """删除预警规则及其发出的预警和投递记录（只想暂停请停用）。"""
    from yuqing.alerts.manage import remove_rule

    db = open_db(current_settings())
    with db.session() as session:
        removed = remove_rule(session, cli_actor(), ref, datetime.now(UTC))
    db.dispose()
    if json:
        print_json(removed)
        return
    out.print(f"已删除预警规则 #{removed['id']}「{escape(removed['name'])}」。")


# The log and the worker -------------------------------------------------------------------------


@alerts_app.command("log")
@fail_cleanly
def alerts_log(
    limit: Annotated[int, typer.Option(help="显示最近多少条投递。")] = 50,
    status: Annotated[
        str | None, typer.Option(help="只看此状态：pending、deferred、sending、sent、failed。")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """最近的预警投递记录，含每次尝试的结果。"""
    from yuqing.alerts.log import delivery_log

    settings = current_settings()
    db = open_db(settings)
    with db.session() as session:
        rows = delivery_log(session, limit=limit, status=status)
    db.dispose()
    if json:
        print_json(rows)
        return
    if not rows:
        out.print("还没有预警投递记录。")
        return
    tz = settings.timezone
    for d in rows:
        status_text = STATUS_NAMES.get(d["status"], d["status"])
        color = {"sent": "green", "failed": "red"}.get(d["status"], "yellow")
        out.print(
            f"[bold]#{d['id']}[/bold] [{color}]{status_text}[/{color}]  "
            f"{escape(d['alert']['title'])}  → {escape(d['channel']['name'])}"
            f"  （规则：{escape(d['alert']['rule'] or '—')}，{_local(d['created_at'], tz)}）"
        )
        if d["status"] in ("pending", "deferred") and d["next_attempt_at"]:
            out.print(f"    下次尝试：{_local(d['next_attempt_at'], tz)}")
        for a in d["log"]:
            outcome = "成功" if a["ok"] else f"失败：{escape(a['error'] or '')}"
            code = f" HTTP/SMTP {a['status_code']}" if a["status_code"] else ""
            out.print(
                f"    {_local(a['at'], tz)}{code} {a['parts']} 段 {a['seconds']:.2f} 秒  {outcome}"
            )


@alerts_app.command("run")
@fail_cleanly
def alerts_run(
    once: Annotated[bool, typer.Option("--once", help="只处理一轮后退出。")] = False,
    json: JsonOpt = False,
) -> None:
    """运行预警任务：发现新的预警并投递（yuqing serve 已内含，此命令用于单独部署）。"""
    from yuqing.alerts.dispatcher import AlertDispatcher

    settings = current_settings()
    db = open_db(settings)
    dispatcher = AlertDispatcher(db, settings)
    try:
        if not once:
            err.print(
                f"预警任务已启动，每 {settings.alert_poll_seconds:g} 秒检查一次；Ctrl+C 退出。"
            )
            asyncio.run(dispatcher.run_forever())
            return
        report = asyncio.run(dispatcher.tick()).as_dict()
    except KeyboardInterrupt:
        return
    finally:
        db.dispose()
    if json:
        print_json(report)
        return
    out.print(
        f"新预警 {report['alerts']} 条，时限提醒 {report['reminders']} 条；"
        f"发送成功 {report['sent']}，待重试 {report['retrying']}，失败 {report['failed']}。"
    )
