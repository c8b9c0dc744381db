"""The file source kind: a watched folder of exports, read once per change, never touched."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pydantic import ValidationError

from yuqing.domain import MediaTier, Platform, RawItem
from yuqing.errors import SourceError
from yuqing.pipeline.base import ItemError
from yuqing.sources.base import CollectContext, Collected, Page, SourceInfo
from yuqing.sources.folder import FolderConfig, FolderSource

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "folder"
SOURCE = SourceInfo(name="舆情通导出", kind="file", media_tier=MediaTier.LOCAL, region="某市", id=7)
HOUR_AGO = time.time() - 3600


class _NoFetch:
    """The folder kind does no HTTP; any fetch is a bug."""

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = True,
    ) -> Page:
        raise AssertionError(f"folder source fetched {url}")


def _settled(path: Path, at: float = HOUR_AGO) -> Path:
    os.utime(path, (at, at))
    return path


def _folder(tmp_path: Path) -> Path:
    """A copy of the fixture folder plus an XLSX, all written an hour ago."""
    folder = tmp_path / "exports"
    shutil.copytree(FIXTURES, folder)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["标题", "正文", "转发量", "发布时间"])
    sheet.append(["表格第一条", "表格里的第一条舆情正文", 12, datetime(2026, 11, 3, 9, 30)])
    sheet.append(["表格第二条", "表格里的第二条舆情正文", "3.5万", None])
    book.save(folder / "weekly.xlsx")
    for path in folder.iterdir():
        _settled(path)
    return folder


def _run(
    folder: Path,
    state: dict[str, Any],
    *,
    now: datetime | None = None,
    max_items: int = 500,
    **config: Any,
) -> Collected:
    source = FolderSource(FolderConfig.model_validate({"path": str(folder)} | config))
    ctx = CollectContext(
        source=SOURCE,
        fetch=_NoFetch(),
        now=now or datetime.now(UTC),
        state=state,
        max_items=max_items,
    )
    return asyncio.run(source.collect(ctx))


def _items(collected: Collected) -> list[RawItem]:
    return [r for r in collected.records if isinstance(r, RawItem)]


def _errors(collected: Collected) -> list[ItemError]:
    return [r for r in collected.records if isinstance(r, ItemError)]


def _titles(collected: Collected) -> list[str]:
    return [i.title or i.content for i in _items(collected)]


def test_reads_every_export_kind_and_reports_bad_rows_and_files(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    now = datetime.now(UTC)
    collected = _run(folder, {}, now=now)
    assert _titles(collected) == [
        "信用社贷款收费",
        "储户质疑利率",  # GBK, read by detection
        "农商行网点排队",
        "网点恢复正常",
        "微博用户称某银行APP无法登录",
        "APP已恢复正常",
        "表格第一条",
        "表格第二条",
    ]
    assert collected.pages == 5  # README.txt does not match the patterns
    by_title = {i.title or i.content: i for i in _items(collected)}
    first = by_title["农商行网点排队"]
    assert first.metrics.views == 12_000 and first.platform is Platform.NEWS
    assert first.media_tier is MediaTier.LOCAL and first.region == "某市"  # the source's
    assert first.source_id == 7 and first.discovered_at == now
    assert first.origin.startswith("源「舆情通导出」") and "export_utf8.csv:2" in first.origin
    assert by_title["信用社贷款收费"].region == "西城区"
    assert by_title["微博用户称某银行APP无法登录"].platform is Platform.WEIBO
    assert by_title["表格第二条"].metrics.reposts == 35_000
    junk, bad_line = _errors(collected)  # files in name order
    assert bad_line.line == 2 and "posts.jsonl:2" in bad_line.where
    assert "多余的逗号" in bad_line.error
    assert "junk.csv" in junk.where and "无法读取该文件" in junk.error and "编码" in junk.error


def test_later_runs_read_only_new_and_changed_files(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    state: dict[str, Any] = {}
    _run(folder, state)
    again = _run(folder, state)
    assert (again.pages, again.records) == (0, [])

    _settled(folder / "posts.jsonl", HOUR_AGO + 60)  # touched, same content
    assert _run(folder, state).pages == 0
    assert state["files"]["posts.jsonl"]["mtime_ns"] == (folder / "posts.jsonl").stat().st_mtime_ns

    with (folder / "export_utf8.csv").open("a", encoding="utf-8") as f:
        f.write("第三条,城东支行发布致歉声明。,https://news.example.cn/a/3,,,\n")
    _settled(folder / "export_utf8.csv", HOUR_AGO + 120)
    shutil.copy(folder / "posts.jsonl", folder / "new.jsonl")
    _settled(folder / "new.jsonl")
    changed = _run(folder, state)
    assert changed.pages == 2
    assert _titles(changed) == [
        "农商行网点排队",  # a changed export is read again whole; dedupe merges the repeats
        "网点恢复正常",
        "第三条",
        "微博用户称某银行APP无法登录",
        "APP已恢复正常",
    ]

    (folder / "new.jsonl").unlink()
    _run(folder, state)
    assert "new.jsonl" not in state["files"]


def test_a_file_still_being_written_waits_for_the_next_run(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    written = time.time()
    _settled(shutil.copy(FIXTURES / "posts.jsonl", folder / "posts.jsonl"), written)
    state: dict[str, Any] = {}
    moment = datetime.fromtimestamp(written, UTC)
    assert _run(folder, state, now=moment + timedelta(seconds=1)).pages == 0
    later = _run(folder, state, now=moment + timedelta(seconds=3))
    assert later.pages == 1 and len(_items(later)) == 2


def test_max_items_bounds_a_run_and_the_next_run_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    lines = [f'{{"id": "n{n}", "content": "第 {n} 条"}}' for n in range(5)]
    _settled(_write(folder / "a.jsonl", "\n".join(lines) + "\n"))
    _settled(_write(folder / "b.jsonl", '{"content": "另一个文件"}\n'))
    state: dict[str, Any] = {}
    runs = [_titles(_run(folder, state, max_items=2)) for _ in range(4)]
    assert runs == [
        ["第 0 条", "第 1 条"],
        ["第 2 条", "第 3 条"],
        ["第 4 条", "另一个文件"],
        [],
    ]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_patterns_recursion_and_files_that_are_not_exports(tmp_path: Path) -> None:
    folder = tmp_path / "w"
    (folder / "2026-11").mkdir(parents=True)
    (folder / ".git").mkdir()
    for name in ("A.JSONL", "2026-11/b.jsonl", ".hidden.jsonl", ".git/c.jsonl", "d.txt"):
        _settled(_write(folder / name, f'{{"content": "{name}"}}\n'))
    _settled(_write(folder / "~$weekly.xlsx", "Office lock file"))
    _settled(folder / "2026-11")
    flat = _run(folder, {})
    assert _titles(flat) == ["A.JSONL"] and flat.records == _items(flat)
    deep = _run(folder, {}, recursive=True)
    assert _titles(deep) == ["2026-11/b.jsonl", "A.JSONL"]
    only = _run(folder, {}, recursive=True, patterns=["*.txt"])
    assert only.pages == 1 and "不支持的文件类型" in _errors(only)[0].error


def test_a_broken_xlsx_is_one_error_and_nothing_is_moved_or_deleted(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    _settled(_write(folder / "broken.xlsx", "这不是一个 XLSX 文件"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    collected = _run(folder, {})
    broken = [e for e in _errors(collected) if "broken.xlsx" in e.where]
    assert len(broken) == 1 and "无法读取该文件" in broken[0].error
    assert len(_items(collected)) == 8  # the other files went on
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_missing_folder_or_a_file_fails_the_run_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="不存在") as caught:
        _run(tmp_path / "无此文件夹", {})
    assert "源「舆情通导出」" in str(caught.value) and str(tmp_path / "无此文件夹") in str(
        caught.value
    )
    file = _write(tmp_path / "a.csv", "content\n正文\n")
    with pytest.raises(SourceError, match="不是文件夹"):
        _run(file, {})


def test_config_refuses_relative_paths_bad_patterns_and_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="绝对路径"):
        FolderConfig(path="exports")
    with pytest.raises(ValidationError, match="路径分隔符"):
        FolderConfig(path="/srv/x", patterns=["sub/*.csv"])
    with pytest.raises(ValidationError, match="extra"):
        FolderConfig.model_validate({"path": "/srv/x", "delete_after": True})
    assert FolderConfig(path="/srv/x").patterns == ["*.csv", "*.jsonl", "*.json", "*.xlsx"]
