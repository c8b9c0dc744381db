"""`yuqing add`: enter an offline sighting (print, broadcast, a QQ/WeChat group)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from yuqing.cli.base import JsonOpt, app, current_settings, fail_cleanly, open_db, out, print_json
from yuqing.errors import InputError


@app.command("add")
@fail_cleanly
def add(
    title: Annotated[str, typer.Option("--title", help="标题或摘要。")],
    content: Annotated[str, typer.Option("--content", help="正文或摘录。")],
    platform: Annotated[
        str, typer.Option(help="平台代码或中文名，如 print（报刊）、broadcast（广播电视）。")
    ] = "",
    published: Annotated[
        str | None, typer.Option(help="发布时间，如 2026-11-20 09:30 或 昨天 18:00。")
    ] = None,
    url: Annotated[str | None, typer.Option(help="链接（可选）。")] = None,
    by: Annotated[str | None, typer.Option("--by", help="发现人。")] = None,
    screenshot: Annotated[
        list[Path] | None,
        typer.Option("--screenshot", help="截图文件（PNG/JPEG/WebP/GIF，≤10 MB），可写多次。"),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="人工录入源的名称或编号；不写则按平台归入“人工录入·平台”。")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """录入线下所见舆情（报刊、广播电视、QQ/微信群），附截图；条目照常分析、分级。"""
    import asyncio

    from yuqing.collect.intake import Screenshot, Sighting, add_sighting
    from yuqing.collect.runner import Collector
    from yuqing.standard import load_standard
    from yuqing.store.attachments import MAX_IMAGE_BYTES

    shots = [_read_screenshot(path, MAX_IMAGE_BYTES) for path in screenshot or []]
    sighting = Sighting(
        title=title,
        content=content,
        platform=platform,
        url=url,
        published=published,
        by=by,
        source=source,
        screenshots=[Screenshot(name, data) for name, data in shots],
    )
    settings = current_settings()
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    db = open_db(settings)
    try:
        result = asyncio.run(add_sighting(Collector(db, settings), standard, sighting))
    finally:
        db.dispose()
    if json:
        print_json(result.as_dict())
        return
    verb = "已录入新条目" if result.status == "imported" else "此前已录入，截图已附到原条目"
    out.print(f"{verb} #{result.item_id}（源「{escape(result.source)}」）")
    for attachment in result.attachments:
        out.print(f"    截图 #{attachment['id']} {escape(attachment['filename'])}")


def _read_screenshot(path: Path, limit: int) -> tuple[str, bytes]:
    """A screenshot file's name and bytes, reading no more than one byte past the limit."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(str(path), f"无法读取截图文件：{exc.strerror or exc}") from None
    return path.name, data
