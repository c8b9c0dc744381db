"""Harmful and illegal content types (SPEC 2.3) from a measured lexicon and the standard.

One Aho-Corasick automaton holds three kinds of pattern, all in match form:

- the shipped lexicon `lexicons/harm_terms.tsv` (term, harm type code, source list), built by
  `training/build_harm_lexicon.py` from the houbb and konsheng sensitive-word lists after
  measuring each term's false-positive rate on non-harmful texts (see `lexicons/harms.md`);
- each harm type's `keywords` from the standard YAML, which an organization edits;
- allow-listed phrases `lexicons/harm_allow.txt`: a term occurring inside an occurrence of one
  of them (幸运 around 运, 反洗钱 around 洗钱) is not evidence.

A standard keyword is strong evidence: one is enough. Lexicon terms are weaker, so
`lexicons/harm_min_terms.tsv` may require several distinct lexicon terms for a type (measured
per type; a type not listed needs one). A term nested inside another hit of the same type at
the same place counts once (真人百家乐 and 百家乐 are one piece of evidence).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from yuqing.domain.text import to_match_text
from yuqing.errors import ConfigError
from yuqing.pipeline.analyze.terms import BatchAutomaton, Found
from yuqing.standard import Standard

LEXICON_DIR = Path(__file__).parent / "lexicons"
TERMS_FILE = "harm_terms.tsv"
ALLOW_FILE = "harm_allow.txt"
MIN_TERMS_FILE = "harm_min_terms.tsv"


@dataclass(frozen=True, slots=True)
class HarmHit:
    """A harm type found in a text and the distinct terms that signalled it."""

    type: str  # harm type code from the standard
    terms: tuple[str, ...]  # distinct matched terms, in order of first occurrence


class HarmDetector:
    """Find the harm types of the standard in texts already in match form (`to_match_text`).

    `lexicon_dir` replaces the bundled lexicon directory (it must hold `harm_terms.tsv`;
    `harm_allow.txt` and `harm_min_terms.tsv` are optional there). Raises ConfigError naming
    the file and line for a malformed line or a harm type code the standard does not know.
    """

    def __init__(self, standard: Standard, lexicon_dir: Path | None = None) -> None:
        folder = LEXICON_DIR if lexicon_dir is None else Path(lexicon_dir)
        codes = [harm.code for harm in standard.harm_types]
        self._codes = codes
        position = {code: index for index, code in enumerate(codes)}
        self._min_terms = [1] * len(codes)
        for code, count in _read_min_terms(folder / MIN_TERMS_FILE, position):
            self._min_terms[position[code]] = count

        patterns: dict[str, int] = {}
        # Per pattern: (type index, strong) pairs, and whether it is an allow-listed phrase.
        entries: list[dict[int, bool]] = []
        allow: list[bool] = []

        def index(term: str) -> int:
            found = patterns.get(term)
            if found is None:
                found = patterns[term] = len(entries)
                entries.append({})
                allow.append(False)
            return found

        for term, code in _read_terms(folder / TERMS_FILE, position):
            slot = entries[index(term)]
            slot.setdefault(position[code], False)
        for harm in standard.harm_types:
            for keyword in harm.keywords:
                term = to_match_text(keyword).strip()
                if term:
                    entries[index(term)][position[harm.code]] = True
        for phrase in _read_allow(folder / ALLOW_FILE):
            allow[index(phrase)] = True

        self._patterns = list(patterns)
        self._entries = [tuple(sorted(slot.items())) for slot in entries]
        self._allow = allow
        self._has_allow = any(allow)
        self._automaton = BatchAutomaton(self._patterns)

    @property
    def term_count(self) -> int:
        """Distinct patterns in the automaton: lexicon terms, keywords and allow phrases."""
        return len(self._patterns)

    def detect(self, text: str) -> list[HarmHit]:
        """Harm types found in one text, in the order of the standard's harm types."""
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[list[HarmHit]]:
        """`detect` for each text, in order, in one search."""
        judge = self._judge
        return [judge(found) if found else [] for found in self._automaton.find_each(texts)]

    def _judge(self, found: Found) -> list[HarmHit]:
        allow = self._allow
        allowed: list[tuple[int, int]] = []
        if self._has_allow:
            allowed = [(start, end) for pattern, start, end in found if allow[pattern]]
        # Type index → occurrences (start, end, pattern, strong).
        by_type: dict[int, list[tuple[int, int, int, bool]]] = {}
        entries = self._entries
        for pattern, start, end in found:
            slots = entries[pattern]
            if not slots:
                continue
            if allowed and any(a <= start and end <= b for a, b in allowed):
                continue
            for type_index, strong in slots:
                by_type.setdefault(type_index, []).append((start, end, pattern, strong))
        hits: list[HarmHit] = []
        for type_index in sorted(by_type):
            kept = list(_outermost(by_type[type_index]))
            terms = list(dict.fromkeys(pattern for _, _, pattern, _ in kept))
            strong = any(flag for _, _, _, flag in kept)
            if strong or len(terms) >= self._min_terms[type_index]:
                names = tuple(self._patterns[pattern] for pattern in terms)
                hits.append(HarmHit(type=self._codes[type_index], terms=names))
        return hits


def _outermost(
    occurrences: list[tuple[int, int, int, bool]],
) -> Iterator[tuple[int, int, int, bool]]:
    """Occurrences in text order, dropping each one lying inside an earlier-kept longer one.

    A nested keyword passes its strength to the occurrence around it, so 网络赌博 inside a
    lexicon term 线上网络赌博平台 still counts as a keyword hit.
    """
    occurrences.sort(key=lambda o: (o[0], -o[1]))
    outer_start, outer_end, outer_pattern, outer_strong = occurrences[0]
    for start, end, pattern, strong in occurrences[1:]:
        if end <= outer_end:
            outer_strong = outer_strong or strong
            continue
        yield outer_start, outer_end, outer_pattern, outer_strong
        outer_start, outer_end, outer_pattern, outer_strong = start, end, pattern, strong
    yield outer_start, outer_end, outer_pattern, outer_strong


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank, non-comment lines of a UTF-8 file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"有害信息词表 {path} 无法读取：{exc}") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, line.rstrip("\r\n")


def _fields(path: Path, number: int, line: str, count: int, what: str) -> list[str]:
    fields = [field.strip() for field in line.split("\t")]
    if len(fields) != count or not all(fields):
        raise ConfigError(
            f"有害信息词表 {path} 第 {number} 行格式有误：应为以制表符分隔的 {count} 列"
            f"（{what}），实际为 {line!r}"
        )
    return fields


def _check_code(path: Path, number: int, code: str, known: dict[str, int]) -> None:
    if code not in known:
        raise ConfigError(
            f"有害信息词表 {path} 第 {number} 行：未知的有害信息类型代码 {code!r}；"
            f"可用的有：{'、'.join(known)}"
        )


def _read_terms(path: Path, known: dict[str, int]) -> Iterator[tuple[str, str]]:
    """(term in match form, code) for each line `term<TAB>code<TAB>source`."""
    for number, line in _lines(path):
        term, code, _source = _fields(path, number, line, 3, "词语、类型代码、来源词表")
        _check_code(path, number, code, known)
        folded = to_match_text(term).strip()
        if folded:
            yield folded, code


def _read_min_terms(path: Path, known: dict[str, int]) -> Iterator[tuple[str, int]]:
    """(code, n) for each line `code<TAB>n<TAB>reason`; a missing file sets nothing."""
    if not path.is_file():
        return
    for number, line in _lines(path):
        code, count, _reason = _fields(path, number, line, 3, "类型代码、最少词数、依据")
        _check_code(path, number, code, known)
        if not count.isdigit() or int(count) < 1:
            raise ConfigError(
                f"有害信息词表 {path} 第 {number} 行：最少词数须为正整数，实际为 {count!r}"
            )
        yield code, int(count)


def _read_allow(path: Path) -> Iterator[str]:
    """Allow-listed phrases in match form, one a line; a missing file allows nothing."""
    if not path.is_file():
        return
    for _, line in _lines(path):
        phrase = to_match_text(line).strip()
        if phrase:
            yield phrase
