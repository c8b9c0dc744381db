"""Watched folders: CSV, JSON Lines, JSON and XLSX exports dropped by other crawlers and tools.

    {"path": "/srv/exports/舆情通", "patterns": ["*.csv", "*.xlsx"], "recursive": true}

Each run reads the files that are new or changed since the last run (size, mtime and SHA-256
are kept in `ctx.state["files"]`), through `yuqing.ingest.files.read_records`, so exports may
name their columns in English or Chinese. A file modified within the last few seconds is still
being written and waits for the next run. Files are never moved or deleted: the folder belongs
to whoever fills it. One bad row is one ItemError; a file that cannot be read at all is one
ItemError naming it, and the other files go on.

A run stops taking records at `ctx.max_items`; the file it stopped in remembers how many
records were taken and the next run goes on from there. A changed file is read again from the
start (an export that grew keeps its old rows too): the dedupe stage merges the repeats and a
repeat refreshes the metrics.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from yuqing.domain import RawItem
from yuqing.errors import InputError, SourceError
from yuqing.ingest.files import RowError, read_records
from yuqing.pipeline.base import ItemError
from yuqing.sources.base import CollectContext, Collected, KindConfig, SourceInfo

MAX_FIELD_CHARS = 200_000
"""Longest content accepted per record (the default of `Settings.max_content_chars`)."""
SETTLE_SECONDS = 2
"""A file modified more recently than this is taken to be still written, and left for later."""
DEFAULT_PATTERNS = ("*.csv", "*.jsonl", "*.json", "*.xlsx")


class FolderConfig(KindConfig):
    """The folder to watch, which file names to read, and whether to look in subfolders."""

    path: str
    patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_PATTERNS), min_length=1)
    recursive: bool = False

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not Path(value).is_absolute():
            raise ValueError(f"文件夹路径 {value!r} 应为绝对路径（如 /srv/exports）")
        return value

    @field_validator("patterns")
    @classmethod
    def _names_only(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not pattern.strip() or "/" in pattern or "\\" in pattern:
                raise ValueError(
                    f"文件名模式 {pattern!r} 无效：只匹配文件名（如 *.csv），不能为空或含路径分隔符"
                )
        return value


@dataclass(slots=True)
class _Read:
    """What reading one file gave: records, how many were consumed, whether it was finished."""

    records: list[RawItem | ItemError] = field(default_factory=list)
    consumed: int = 0
    items: int = 0
    complete: bool = True


class FolderSource:
    """Records of the export files in one folder that are new or changed since the last run."""

    kind: ClassVar[str] = "file"
    label: ClassVar[str] = "文件夹导入"
    Config: ClassVar[type[FolderConfig]] = FolderConfig

    def __init__(self, config: FolderConfig) -> None:
        self.config = config
        self._patterns = [p.lower() for p in config.patterns]

    async def collect(self, ctx: CollectContext) -> Collected:
        """Read new and changed files, oldest name first, until `ctx.max_items` records."""
        collected = Collected()
        files = self._list(ctx.source, Path(self.config.path), collected)
        known: dict[str, dict[str, Any]] = ctx.state.setdefault("files", {})
        for gone in set(known) - set(files):
            del known[gone]
        now_ns = int(ctx.now.timestamp() * 1_000_000_000)
        budget = ctx.max_items
        for name, path in sorted(files.items()):
            if budget <= 0:
                break
            try:
                stat = path.stat()
            except OSError as exc:
                collected.records.append(ctx.source.error(str(path), _os_reason(exc)))
                continue
            if now_ns - stat.st_mtime_ns < SETTLE_SECONDS * 1_000_000_000:
                continue  # still being written; the next run takes it
            memo = known.get(name)
            same_stat = memo is not None and (memo["size"], memo["mtime_ns"]) == (
                stat.st_size,
                stat.st_mtime_ns,
            )
            if same_stat and memo is not None and memo.get("done") is None:
                continue
            try:
                digest = await asyncio.to_thread(_sha256, path)
            except OSError as exc:
                collected.records.append(ctx.source.error(str(path), _os_reason(exc)))
                continue
            resume = 0
            if memo is not None and memo["sha256"] == digest:
                if memo.get("done") is None:  # touched, not changed
                    known[name] = memo | {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
                    continue
                resume = memo["done"]
            read = await asyncio.to_thread(_read, ctx.source, path, ctx.now, resume, budget)
            collected.pages += 1
            collected.records.extend(read.records)
            budget -= read.items
            known[name] = {
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "sha256": digest,
                "done": None if read.complete else read.consumed,
            }
        return collected

    def _list(self, source: SourceInfo, folder: Path, collected: Collected) -> dict[str, Path]:
        """Matching files by their path relative to the folder; a missing folder fails the run."""
        try:
            with os.scandir(folder) as entries:
                top = list(entries)
        except FileNotFoundError:
            raise SourceError(source.where(f"文件夹 {folder} 不存在，请检查路径")) from None
        except NotADirectoryError:
            raise SourceError(source.where(f"{folder} 不是文件夹，请填写文件夹路径")) from None
        except OSError as exc:
            raise SourceError(source.where(f"无法读取文件夹 {folder}：{_os_reason(exc)}")) from None
        found: dict[str, Path] = {}
        self._add(folder, folder, [e.name for e in top], found)
        if self.config.recursive:

            def note(exc: OSError) -> None:
                collected.problems.append(
                    source.where(f"无法读取子文件夹 {exc.filename}：{_os_reason(exc)}")
                )

            for root, dirs, names in os.walk(folder, onerror=note):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                if Path(root) != folder:
                    self._add(folder, Path(root), names, found)
        return found

    def _add(self, folder: Path, directory: Path, names: list[str], found: dict[str, Path]) -> None:
        for name in names:
            # Hidden files and Office lock files (~$报表.xlsx) are not exports.
            if name.startswith((".", "~$")):
                continue
            if not any(fnmatch.fnmatchcase(name.lower(), p) for p in self._patterns):
                continue
            path = directory / name
            if path.is_file():
                found[path.relative_to(folder).as_posix()] = path


def _read(source: SourceInfo, path: Path, now: datetime, resume: int, budget: int) -> _Read:
    """Records of one file after the first `resume`, until `budget` items (runs in a thread)."""
    read = _Read()
    try:
        for record in read_records(path, max_field_chars=MAX_FIELD_CHARS, discovered_at=now):
            read.consumed += 1
            if read.consumed <= resume:
                continue
            if isinstance(record, RowError):
                where = source.where(record.where)
                read.records.append(ItemError(where=where, error=record.error, line=record.line))
                continue
            read.records.append(source.adopt(record))
            read.items += 1
            if read.items >= budget:
                read.complete = False
                break
    except InputError as exc:
        read.records.append(source.error(exc.where or str(path), f"无法读取该文件：{exc.reason}"))
    except OSError as exc:
        read.records.append(source.error(str(path), f"无法读取该文件：{_os_reason(exc)}"))
    return read


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _os_reason(exc: OSError) -> str:
    """An operating-system error in words (its strerror is the C library's English text)."""
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if isinstance(exc, FileNotFoundError):
        return "文件已不存在（可能刚被移走）"
    return f"读取出错（{exc.strerror or exc}）"
