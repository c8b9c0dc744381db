"""Guess a file's text encoding and read it line by line, one bad line never spoiling the rest.

Chinese exports arrive as UTF-8 (with or without BOM), GBK/GB18030 or UTF-16 with BOM. The
guess looks at a 1 MB sample: a BOM decides; otherwise UTF-8 wins when most non-ASCII lines are
valid UTF-8 (so one corrupt line does not turn a UTF-8 file into GB18030), then GB18030 the same
way, and charset-normalizer only when neither fits.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import charset_normalizer

from yuqing.errors import InputError

SAMPLE_BYTES = 1 << 20
MAX_LINE_BYTES = 10 << 20
_SKIP_CHUNK = 1 << 20

# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(slots=True, frozen=True)
class Encoding:
    """A detected encoding; `bom` bytes are skipped before reading (UTF-8 only)."""

    name: str
    bom: bytes = b""

    @property
    def wide(self) -> bool:
        """UTF-16/32: a newline byte may sit inside a character, so lines are split as text."""
        return codecs.lookup(self.name).name.startswith(("utf-16", "utf-32"))


def open_binary(path: Path) -> BinaryIO:
    """Open for reading or raise InputError in words."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(str(path), "文件不存在") from None
    except IsADirectoryError:
        raise InputError(str(path), "这是一个目录，不是文件") from None
    except OSError as exc:
        raise InputError(str(path), f"无法读取文件：{exc.strerror or exc}") from None


def detect_encoding(path: Path) -> Encoding:
    """Guess the encoding of `path` from its first megabyte."""
    with open_binary(path) as f:
        try:
            sample = f.read(SAMPLE_BYTES)
        except OSError as exc:
            raise InputError(str(path), f"无法读取文件：{exc.strerror or exc}") from None
    return detect_sample(sample, complete=len(sample) < SAMPLE_BYTES)


def bom_encoding(data: bytes) -> tuple[str, bytes] | None:
    """The encoding a byte-order mark at the start of `data` announces, and the mark."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, bom
    return None


def detect_sample(sample: bytes, *, complete: bool) -> Encoding:
    """Guess from bytes; `complete` says the sample is the whole file (no cut-off last line)."""
    marked = bom_encoding(sample)
    if marked is not None:
        name, bom = marked
        return Encoding(name, bom if name == "utf-8" else b"")
    if _valid_utf8(sample, final=complete):
        return Encoding("utf-8")
    lines = sample.split(b"\n")
    if not complete and len(lines) > 1:
        lines.pop()  # may end inside a character
    non_ascii = [line for line in lines if not line.isascii()]
    if not non_ascii:  # the only bad bytes were in the cut-off last line
        return Encoding("utf-8")
    for name in ("utf-8", "gb18030"):
        if 2 * sum(_decodes(line, name) for line in non_ascii) > len(non_ascii):
            return Encoding(name)
    best = charset_normalizer.from_bytes(sample).best()
    return Encoding(best.encoding if best is not None else "utf-8")


def _valid_utf8(sample: bytes, *, final: bool) -> bool:
    """Strict UTF-8 check in pieces, so a megabyte of Chinese never becomes one big str."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    piece = 64 << 10
    try:
        for start in range(0, len(sample), piece):
            decoder.decode(sample[start : start + piece])
        decoder.decode(b"", final=final)
    except UnicodeDecodeError:
        return False
    return True


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


@dataclass(slots=True)
class Line:
    """One physical line: bytes (narrow encodings) or text (UTF-16/32), or why it is unusable."""

    number: int
    data: bytes | str
    problem: str | None = None


def iter_lines(f: BinaryIO, encoding: Encoding) -> Iterator[Line]:
    """Physical lines of `f`, endings kept; over-long lines come back empty with a problem.

    Narrow encodings (UTF-8, GB18030, Big5 …) yield undecoded bytes: no trail byte of theirs is
    0x0A, so splitting bytes at b"\\n" is safe, and the caller decodes per line. Wide encodings
    yield text; a line holding a lone surrogate (a broken UTF-16 pair) carries a problem.
    """
    if encoding.wide:
        yield from _wide_lines(f, encoding.name)
        return
    if encoding.bom:
        f.read(len(encoding.bom))  # read, not seek: `f` may be a pipe (stdin)
    number = 0
    limit = MAX_LINE_BYTES
    while True:
        data = f.readline(limit + 1)
        if not data:
            return
        number += 1
        if len(data) > limit and not data.endswith(b"\n"):
            while data and not data.endswith(b"\n"):
                data = f.readline(_SKIP_CHUNK)
            yield Line(number, b"", _too_long(number))
            continue
        yield Line(number, data)


def _wide_lines(f: BinaryIO, name: str) -> Iterator[Line]:
    text = io.TextIOWrapper(f, encoding=name, errors="surrogatepass", newline="")
    number = 0
    limit = MAX_LINE_BYTES // 2
    try:
        while True:
            try:
                data = text.readline(limit + 1)
            except UnicodeDecodeError:
                # Only a truncated last code unit gets here; surrogates pass.
                yield Line(number + 1, "", _bad(number + 1, name, "文件末尾不完整"))
                return
            if not data:
                return
            number += 1
            if len(data) > limit and not data.endswith("\n"):
                while data and not data.endswith("\n"):
                    data = text.readline(_SKIP_CHUNK)
                yield Line(number, "", _too_long(number))
                continue
            if not data.isascii() and _has_surrogate(data):
                yield Line(number, "", _bad(number, name, "含不成对的代理项"))
                continue
            yield Line(number, data)
    finally:
        text.detach()


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad(number: int, encoding: str, detail: str) -> str:
    return f"第 {number} 行编码无效（按 {encoding} 解码失败）：{detail}"


def _too_long(number: int) -> str:
    return f"第 {number} 行超过 {MAX_LINE_BYTES // (1 << 20)} MB，已跳过"


def decode_line(line: Line, encoding: Encoding) -> Line:
    """Turn a bytes line into text; a line that fails to decode gets a problem and U+FFFD."""
    if isinstance(line.data, str):
        return line
    try:
        return Line(line.number, line.data.decode(encoding.name), line.problem)
    except UnicodeDecodeError as exc:
        text = line.data.decode(encoding.name, errors="replace")
        return Line(line.number, text, line.problem or decode_problem(line.number, encoding, exc))


def decode_problem(number: int, encoding: Encoding, exc: UnicodeDecodeError) -> str:
    """Words for a line that does not decode: which encoding, which bytes, where."""
    bad = exc.object[exc.start : min(exc.end, exc.start + 4)].hex(" ")
    return (
        f"第 {number} 行编码无效（按 {encoding.name} 解码失败）："
        f"第 {exc.start + 1} 字节处的字节 {bad}；请确认文件编码（UTF-8 或 GBK）"
    )
