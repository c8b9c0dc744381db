"""Read an import file (JSON Lines, JSON, CSV/TSV, XLSX) into validated records, streaming.

    for record in read_records(Path("导出.csv")):
        if isinstance(record, RowError):
            print(record.where, record.error)   # 导出.csv:17 字段 platform 的值 'foo' 无效，…
        else:
            ...                                  # a RawItem

One bad line yields one RowError and reading goes on; only a file that cannot be read at all
(missing, unknown type, no content column, not an XLSX) raises InputError. JSON Lines and CSV
are read line by line in constant memory; duplicates are yielded as they come (dedupe is later).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import orjson

from yuqing.domain import RawItem
from yuqing.errors import InputError
from yuqing.ingest.encoding import (
    SAMPLE_BYTES,
    Encoding,
    decode_problem,
    detect_encoding,
    detect_sample,
    iter_lines,
    open_binary,
)
from yuqing.ingest.fields import CHINA_TZ, record_to_raw
from yuqing.ingest.tables import Row, iter_csv, iter_xlsx, sniff_delimiter

UTF8 = Encoding("utf-8")

__all__ = ["MAX_JSON_BYTES", "RowError", "read_jsonl_stream", "read_records", "record_to_raw"]

MAX_JSON_BYTES = 200 << 20

_FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json-lines": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
}
_JSON_KINDS = {list: "数组", str: "字符串", int: "数字", float: "数字", bool: "布尔值"}
# Parser messages (orjson for lines, the json module for arrays) → words for users; first match.
_JSON_MESSAGES = (
    ("end of data", "内容不完整，可能缺少右括号或引号"),
    ("Unterminated string", "字符串缺少结束引号"),
    ("trailing comma", "多余的逗号"),
    ("escape", "无效的转义符"),
    ("control character", "字符串中有未转义的控制字符"),
    ("content after document", "对象结束后还有内容"),
    ("Extra data", "对象结束后还有内容"),
    ("':'", "键后缺少冒号"),
    ("string key", "键名应为双引号字符串"),
    ("property name", "键名应为双引号字符串"),
    ("','", "缺少逗号"),
    ("literal", "无效的值"),
    ("value", "缺少值或值无效"),
)
_WHITESPACE = re.compile(r"[ \t\n\r]*")


@dataclass(slots=True, frozen=True)
class RowError:
    """One record that could not be read; reading went on after it."""

    where: str  # "path/name.jsonl:17"
    line: int  # 1-based line where the record starts (JSONL, JSON, CSV) or row number (XLSX)
    error: str  # Chinese; names the field and the bad value
    id: object = None  # the record's own `id`, as it was written, when it has one


def read_records(
    path: Path, *, max_field_chars: int = 200_000, discovered_at: datetime | None = None
) -> Iterator[RawItem | RowError]:
    """Yield a RawItem or a RowError per record of `path`, by extension (.jsonl .json .csv …).

    An unknown type, a missing or unreadable file and an oversized .json raise InputError at
    once; a table without a content column or a broken .xlsx raises when iteration starts.
    Records without their own `discovered_at` get the argument (naive means Beijing time).
    """
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InputError(
            str(path),
            f"不支持的文件类型 “{path.suffix or '（无扩展名）'}”，"
            "支持 .jsonl .json .csv .tsv .xlsx",
        )
    open_binary(path).close()
    if discovered_at is not None and discovered_at.tzinfo is None:
        discovered_at = discovered_at.replace(tzinfo=CHINA_TZ)
    if kind == "jsonl":
        return _jsonl(path, detect_encoding(path), max_field_chars, discovered_at)
    if kind == "json":
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise InputError(
                str(path),
                f"JSON 文件 {size / (1 << 20):,.0f} MB 超过上限 {MAX_JSON_BYTES >> 20} MB；"
                "大文件请改用 JSON Lines（.jsonl，每行一个对象）",
            )
        return _json(path, max_field_chars, discovered_at)
    if kind == "csv":
        encoding = detect_encoding(path)
        delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(path, encoding)
        rows = iter_csv(path, encoding, delimiter)
    else:
        rows = iter_xlsx(path)
    return _tables(str(path), rows, max_field_chars, discovered_at)


def _jsonl(
    path: Path, encoding: Encoding, max_field_chars: int, discovered_at: datetime | None
) -> Iterator[RawItem | RowError]:
    with open_binary(path) as f:
        yield from read_jsonl_stream(
            f, str(path), encoding, max_field_chars=max_field_chars, discovered_at=discovered_at
        )


def read_jsonl_stream(
    f: BinaryIO,
    name: str,
    encoding: Encoding = UTF8,
    *,
    max_field_chars: int = 200_000,
    discovered_at: datetime | None = None,
) -> Iterator[RawItem | RowError]:
    """Records of an open JSON Lines stream (a file or stdin), one RawItem or RowError per line."""
    # orjson takes UTF-8 bytes directly and checks them; other encodings are decoded first.
    raw_utf8 = encoding.name == "utf-8"
    for line in iter_lines(f, encoding):
        number = line.number
        if line.problem is not None:
            yield RowError(f"{name}:{number}", number, line.problem)
            continue
        data = line.data
        if data.isspace() or not data:
            continue
        where = f"{name}:{number}"
        if not raw_utf8 and isinstance(data, bytes):
            try:
                data = data.decode(encoding.name)
            except UnicodeDecodeError as exc:
                yield RowError(where, number, decode_problem(number, encoding, exc))
                continue
        try:
            record = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            yield RowError(where, number, _json_problem(number, data, encoding, exc))
            continue
        yield _convert(record, where, number, max_field_chars, discovered_at)


def _json(
    path: Path, max_field_chars: int, discovered_at: datetime | None
) -> Iterator[RawItem | RowError]:
    """A JSON array of objects; each record's line is where its object starts."""
    name = str(path)
    with open_binary(path) as f:
        data = f.read()
    encoding = detect_sample(data[:SAMPLE_BYTES], complete=len(data) <= SAMPLE_BYTES)
    codec = "utf-8-sig" if encoding.name == "utf-8" else encoding.name
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{name}:{number}", _line_problem(data, exc, number, encoding)) from None
    del data
    pos = _WHITESPACE.match(text).end()  # type: ignore[union-attr]
    if pos == len(text):
        return
    if text[pos] != "[":
        hint = "；若每行一个对象，请把扩展名改为 .jsonl" if text[pos] == "{" else ""
        raise InputError(name, f"应为 JSON 数组（以 [ 开头）{hint}")
    decoder = json.JSONDecoder()
    pos = _WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
    number, counted = 1, 0
    closed = text.startswith("]", pos)
    while not closed:
        number += text.count("\n", counted, pos)
        counted = pos
        try:
            record, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            at_end = not text[exc.pos :].strip()  # a truncated export, the usual case
            reason = "文件在此处结束，内容不完整" if at_end else _json_reason(exc.msg)
            message = f"JSON 格式错误：{reason}（第 {exc.colno} 列；{exc.msg}），此后的记录无法读取"
            yield RowError(f"{name}:{exc.lineno}", exc.lineno, message)
            return
        yield _convert(record, f"{name}:{number}", number, max_field_chars, discovered_at)
        pos = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
        if text.startswith(",", pos):
            pos = _WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        elif text.startswith("]", pos):
            closed = True
        else:
            number += text.count("\n", counted, pos)
            yield RowError(f"{name}:{number}", number, "JSON 格式错误：数组元素之间应为逗号")
            return
    if text[pos + 1 :].strip():
        number = text.count("\n", 0, pos) + 1
        yield RowError(f"{name}:{number}", number, "JSON 格式错误：数组结束后还有内容")


def _tables(
    name: str, rows: Iterator[Row], max_field_chars: int, discovered_at: datetime | None
) -> Iterator[RawItem | RowError]:
    for number, row in rows:
        where = f"{name}:{number}"
        if isinstance(row, str):
            yield RowError(where, number, row)
        else:
            yield _convert(row, where, number, max_field_chars, discovered_at)


def _convert(
    record: object, where: str, number: int, max_field_chars: int, discovered_at: datetime | None
) -> RawItem | RowError:
    if not isinstance(record, dict):
        kind = "null" if record is None else _JSON_KINDS.get(type(record), type(record).__name__)
        return RowError(where, number, f"不是 JSON 对象（是{kind}）")
    given_id = record.get("id")
    if not isinstance(given_id, str | int | float) or isinstance(given_id, bool):
        given_id = None
    try:
        raw = record_to_raw(record, where, max_field_chars=max_field_chars)
    except InputError as exc:
        return RowError(where, number, exc.reason, given_id)
    raw.input_id = given_id
    if raw.discovered_at is None:
        raw.discovered_at = discovered_at
    return raw


def _json_problem(
    number: int, data: bytes | str, encoding: Encoding, exc: orjson.JSONDecodeError
) -> str:
    if isinstance(data, bytes):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            return decode_problem(number, encoding, bad)
    if exc.lineno > 1:  # the error is past the line ending; report the column at its end
        try:
            orjson.loads(data.rstrip())
        except orjson.JSONDecodeError as inner:
            exc = inner
    return f"JSON 格式错误：{_json_reason(exc.msg)}（第 {exc.colno} 列；{exc.msg}）"


def _json_reason(message: str) -> str:
    return next((zh for en, zh in _JSON_MESSAGES if en in message), "语法错误")


def _line_problem(data: bytes, exc: UnicodeDecodeError, number: int, encoding: Encoding) -> str:
    """Describe a decoding error with the offset inside its line rather than the file."""
    start = data.rfind(b"\n", 0, exc.start) + 1
    end = data.find(b"\n", exc.start)
    try:
        data[start : end if end >= 0 else len(data)].decode(encoding.name)
    except UnicodeDecodeError as bad:
        return decode_problem(number, encoding, bad)
    return f"第 {number} 行编码无效（按 {encoding.name} 解码失败）：{exc.reason}"
