"""Rows of CSV/TSV and XLSX files as (line, record) pairs, or (line, problem) for a bad row.

Both formats take their column names from the first non-empty row; a table without a content
column is refused as a whole rather than row by row.
"""

from __future__ import annotations

import csv
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from yuqing.errors import InputError
from yuqing.ingest.encoding import (
    MAX_LINE_BYTES,
    Encoding,
    Line,
    decode_line,
    iter_lines,
    open_binary,
)
from yuqing.ingest.fields import FIELD_ALIASES

Row = tuple[int, dict[str, object] | str]

_DELIMITERS = (",", "\t", ";")
_QUOTED = re.compile(r'"[^"]*"')
_XLSX_CHUNK = 500
# Error values of formulas (and of dates out of range) carry no data: read them as empty cells.
_EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
)


def sniff_delimiter(path: Path, encoding: Encoding) -> str:
    """The most frequent of , \\t ; in the first non-blank line (quoted text aside); else ","."""
    with open_binary(path) as f:
        for line in iter_lines(f, encoding):
            text = decode_line(line, encoding).data
            assert isinstance(text, str)
            if text.strip():
                bare = _QUOTED.sub("", text)
                counts = {d: bare.count(d) for d in _DELIMITERS}
                best = max(_DELIMITERS, key=lambda d: counts[d])
                return best if counts[best] else ","
    return ","


class _Feed:
    """Decoded lines for csv.reader; remembers the first decoding problem of the current record."""

    def __init__(self, lines: Iterator[Line], encoding: Encoding) -> None:
        self._lines = lines
        self._encoding = encoding
        self.problem: str | None = None

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        line = decode_line(next(self._lines), self._encoding)
        if line.problem is not None:
            self.problem = self.problem or line.problem
            return "\n"  # the skipped line still ends a record, so numbering stays right
        assert isinstance(line.data, str)
        return line.data


def iter_csv(path: Path, encoding: Encoding, delimiter: str) -> Iterator[Row]:
    """Records of a CSV/TSV file; a record's line is where it starts (quoted fields may span)."""
    if csv.field_size_limit() < MAX_LINE_BYTES:
        # The default (128 KiB) is below our content limit; this setting is process-wide, and
        # only ever raised. Fields over max_field_chars are still refused, by record_to_raw.
        csv.field_size_limit(MAX_LINE_BYTES)
    with open_binary(path) as f:
        feed = _Feed(iter_lines(f, encoding), encoding)
        # strict: an unclosed quote at the end or text after a closing quote is an error,
        # not a silent merge of lines into one field.
        reader = csv.reader(feed, delimiter=delimiter, strict=True)
        header: list[str | None] | None = None
        while True:
            start = reader.line_num + 1
            feed.problem = None
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, _csv_problem(exc)
                continue
            if feed.problem is not None:
                if header is None:
                    raise InputError(f"{path}:{start}", f"表头无法读取：{feed.problem}")
                yield start, feed.problem
                continue
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _header(row, path, start)
                continue
            yield start, _record(header, row)


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if text == "unexpected end of data":
        return "CSV 格式错误：文件结束时引号仍未闭合"
    if text.endswith("expected after '\"'"):
        return f"CSV 格式错误：闭合引号后应紧跟分隔符（{text}）"
    return f"CSV 格式错误：{text}"


def iter_xlsx(path: Path) -> Iterator[Row]:
    """Records of the first sheet of an .xlsx file; a record's line is its spreadsheet row."""
    with _quiet_openpyxl():
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
            raise InputError(str(path), f"不是有效的 .xlsx 文件：{exc}") from None
    if not book.worksheets:
        book.close()
        return
    sheet = book.worksheets[0]
    # Some exporters write a wrong <dimension>; without it every row is read.
    sheet.reset_dimensions()
    rows = sheet.iter_rows(min_row=1, values_only=True)
    try:
        header: list[str | None] | None = None
        number = 0
        while chunk := _next_chunk(rows):
            for values in chunk:
                number += 1
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                if header is None:
                    cells = [None if v is None else str(v) for v in values]
                    header = _header(cells, path, number)
                    continue
                yield number, _record(header, [None if v in _EXCEL_ERRORS else v for v in values])
    finally:
        rows.close()
        book.close()


def _next_chunk(rows: Iterator[tuple[object, ...]]) -> list[tuple[object, ...]]:
    with _quiet_openpyxl():
        chunk = []
        for values in rows:
            chunk.append(values)
            if len(chunk) == _XLSX_CHUNK:
                break
        return chunk


@contextmanager
def _quiet_openpyxl() -> Iterator[None]:
    """Silence openpyxl's notes on styles and extensions it drops (we read values only).

    Scoped to openpyxl's own calls, never around a `yield` to our caller.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
        yield


def _header(cells: Iterable[str | None], path: Path, number: int) -> list[str | None]:
    header = [None if c is None or not c.strip() else c.strip() for c in cells]
    if not any(FIELD_ALIASES.get(h.lower()) == "content" for h in header if h is not None):
        names = "、".join(k for k, v in FIELD_ALIASES.items() if v == "content")
        shown = "、".join(h for h in header if h is not None)[:200]
        raise InputError(
            f"{path}:{number}", f"表头中没有正文列（应为 {names} 之一）；表头为：{shown}"
        )
    return header


def _record(header: list[str | None], values: Iterable[object]) -> dict[str, object]:
    record: dict[str, object] = {}
    for name, value in zip(header, values, strict=False):
        if name is not None and value is not None and value != "" and name not in record:
            record[name] = value
    return record
