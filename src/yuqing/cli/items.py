"""Reading and judging stored items: search, show, review."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from yuqing.cli.base import (
    JsonOpt,
    app,
    current_settings,
    fail_cleanly,
    open_db,
    out,
    print_json,
)
from yuqing.errors import InputError
from yuqing.settings import Settings


@app.command()
@fail_cleanly
def search(
    query: Annotated[
        str, typer.Argument(help='检索词：空格分隔为“且”，-词 为排除，"…" 为整词。')
    ] = "",
    platform: Annotated[str | None, typer.Option(help="平台代码，如 weibo、news。")] = None,
    subject: Annotated[int | None, typer.Option(help="主题 ID。")] = None,
    since: Annotated[str | None, typer.Option(help="起始时间（含），如 2026-11-01。")] = None,
    until: Annotated[str | None, typer.Option(help="截止时间；只写日期时含当天。")] = None,
    grade: Annotated[str | None, typer.Option(help="等级代码，如 harmful。")] = None,
    category: Annotated[str | None, typer.Option(help="分类代码，如 300 或 801。")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="最多显示条数。")] = 20,
    page: Annotated[int, typer.Option(min=1, help="页码。")] = 1,
    json: JsonOpt = False,
) -> None:
    """全文检索已入库条目（能找到一两个字的中文词），可按平台、主题、时间筛选。"""
    from yuqing.store.browse import item_filter, list_items
    from yuqing.store.serialize import item_summary

    settings = current_settings()
    tz = ZoneInfo(settings.timezone)
    flt = item_filter(
        q=query,
        subject=subject,
        platform=platform,
        media_tier=None,
        since=since,
        until=until,
        tz=tz,
        grade=grade,
        category=category,
    )
    db = open_db(settings)
    with db.session() as session:
        result = list_items(session, flt, page=page, per_page=limit)
        rows = [item_summary(i, result.query) for i in result.items]
    if json:
        print_json({"total": result.total, "page": page, "items": rows})
        return
    out.print(f"共 {result.total} 条，显示第 {page} 页：")
    for row in rows:
        moment = datetime.fromisoformat(row["published_at"] or row["discovered_at"])
        when = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        title = escape(row["title"] or "（无标题）")
        grade_name = _grade_name(settings, row["grade"])
        out.print(
            f"[bold]#{row['id']}[/bold] [{grade_name}] {title}  [dim]{row['platform']} {when}[/dim]"
        )
        out.print(f"    {row['snippet']}", markup=False)


def _grade_name(settings: Settings, code: str | None) -> str:
    from yuqing.standard import load_standard

    return (
        load_standard(settings.standard_dir, settings.taxonomy).grade_name(code)
        if code
        else "未分级"
    )


@app.command()
@fail_cleanly
def show(
    item_id: Annotated[int, typer.Argument(help="条目 ID。")],
    json: JsonOpt = False,
) -> None:
    """显示一条信息：机器分级及理由、人工改判、分级历史。"""
    from yuqing.store import browse
    from yuqing.store import grades as grade_store
    from yuqing.store.serialize import item_detail

    settings = current_settings()
    db = open_db(settings)
    with db.session() as session:
        item = browse.get_item(session, item_id)
        if item is None:
            raise InputError(str(item_id), "条目不存在")
        story = browse.story(session, item.story_id) if item.story_id else None
        data = item_detail(
            item, browse.snapshots(session, item_id), story, grade_store.history(session, item_id)
        )
    if json:
        print_json(data)
        return
    out.print(f"[bold]#{data['id']}[/bold] {escape(data['title'] or '（无标题）')}")
    out.print(f"等级：{_grade_name(settings, data['grade'])}  分类：{data['category'] or '—'}")
    machine = data["machine"]
    if machine:
        out.print(f"机器判定：{_grade_name(settings, machine['grade'])}（{machine['category']}）")
    for reason in data["grade_reasons"]:
        out.print(f"  · {escape(reason['text'])}", markup=True)
    if data["review"]:
        review = data["review"]
        out.print(
            f"人工改判：{escape(str(review['by']))} {review['at']}：{escape(str(review['note']))}"
        )


@app.command()
@fail_cleanly
def review(
    item_id: Annotated[int, typer.Argument(help="条目 ID。")],
    note: Annotated[str, typer.Option("--note", help="改判理由（必填）。")],
    by: Annotated[str, typer.Option("--by", help="改判人。")],
    grade: Annotated[str | None, typer.Option(help="人工等级代码。")] = None,
    category: Annotated[str | None, typer.Option(help="人工分类代码。")] = None,
    json: JsonOpt = False,
) -> None:
    """人工改判等级和/或分类（须填理由）；机器判定同时保留。"""
    from yuqing.pipeline.review import review_and_refresh
    from yuqing.standard import load_standard
    from yuqing.store.serialize import judgement

    settings = current_settings()
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    db = open_db(settings)
    with db.session() as session:
        row = review_and_refresh(
            session, standard, item_id, note=note, actor=by, grade=grade, category=category
        )
        data = {"id": row.id, **judgement(row)}
    if json:
        print_json(data)
        return
    out.print(
        f"已改判 #{item_id}：等级 {_grade_name(settings, data['grade'])}，分类 {data['category']}。"
    )
