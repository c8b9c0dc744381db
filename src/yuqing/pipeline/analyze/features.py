"""One featurization pass shared by the sentiment, rumour and offensive models.

Texts arrive already folded by `yuqing.domain.text.to_match_text`. Each text becomes

- hashed character n-grams (orders 1–3) in `2**bits` buckets, each count divided by the
  square root of the text's n-gram total (a stand-in for L2 normalization that needs no
  per-text sort, so prediction is one sparse product);
- optionally dense cues after the hashed block: sentiment-lexicon hits per class (and
  polar hits right after a negator), then counts on the code-point array: Weibo `[表情]`
  brackets, `!`, `?`, `#话题#`, `@`, reposts (`//`), links, and length. The lexicon is a
  derived word list shipped with the artifacts; one Aho-Corasick pass covers a whole batch.

The hash is a fixed 64-bit mix of the code points (murmur3's finalizer), so a bucket is the
same in every process and on every machine; Python's `hash()` is never used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import ahocorasick_rs
import numpy as np
import numpy.typing as npt
from scipy import sparse

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
U64Array = npt.NDArray[np.uint64]

# A lexicon term may belong to several classes; its row is 0/1 over these.
LEXICON_CLASSES: tuple[str, ...] = (
    "pos",
    "neg",
    "joy",
    "like",
    "anger",
    "sadness",
    "fear",
    "disgust",
    "surprise",
    "valence_high",
    "valence_low",
)
NEGATORS = "不没无非别未莫勿"
# Dense cues: (name, characters counted). `log_length` is added after them.
CUE_CHARS: tuple[tuple[str, str], ...] = (
    ("emoticon", "["),
    ("exclaim", "!"),
    ("question", "?"),
    ("topic", "#"),
    ("mention", "@"),
    ("repost", "/"),
    ("link", ":"),
    ("ellipsis", "…"),
)
CUE_NAMES: tuple[str, ...] = (
    *(f"lex_{name}" for name in LEXICON_CLASSES),
    "negated_pos",
    "negated_neg",
    *(name for name, _ in CUE_CHARS),
    "log_length",
)

_U64 = np.uint64
_MIX1 = _U64(0xFF51AFD7ED558CCD)
_MIX2 = _U64(0xC4CEB9FE1A85EC53)
_ORDER_SEEDS = {
    1: _U64(0x9E3779B97F4A7C15),
    2: _U64(0xBF58476D1CE4E5B9),
    3: _U64(0x94D049BB133111EB),
}


def _fmix64(h: U64Array) -> U64Array:
    """murmur3's 64-bit finalizer, in place: every input bit reaches every output bit."""
    h ^= h >> _U64(33)
    h *= _MIX1
    h ^= h >> _U64(33)
    h *= _MIX2
    h ^= h >> _U64(33)
    return h


def codepoints(texts: Sequence[str]) -> tuple[U64Array, IntArray]:
    """All texts' code points in one array, and each text's length."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(joined, dtype=np.uint32).astype(np.uint64), lengths


@dataclass(frozen=True, slots=True)
class NgramRows:
    """Hashed n-grams of a batch as a CSR pattern with one row per (order, text).

    Rows are order-major: rows `[k*n, (k+1)*n)` hold the n-grams of order `orders[k]`, in text
    order, so `indptr` follows from the lengths and nothing needs sorting.
    """

    buckets: IntArray
    indptr: IntArray
    counts: IntArray  # n-grams per text, all orders together
    chars: U64Array
    lengths: IntArray


def hash_ngrams(texts: Sequence[str], bits: int, orders: Sequence[int]) -> NgramRows:
    """Every character n-gram's bucket; n-grams straddling two texts are dropped.

    Code points take 21 bits, so up to three pack without loss into one 64-bit integer; it is
    XORed with a seed per order (so 'a' and '\\0a' differ) and then mixed.
    """
    chars, lengths = codepoints(texts)
    total = len(chars)
    ends = np.repeat(np.cumsum(lengths), lengths)  # exclusive end of each char's text
    shift = _U64(64 - bits)
    parts: list[IntArray] = []
    row_counts: list[IntArray] = []
    for order in orders:
        row_counts.append(np.maximum(lengths - order + 1, 0))
        if total < order:
            continue
        width = total - order + 1
        packed = chars[:width].copy()
        for k in range(1, order):
            packed <<= _U64(21)
            packed |= chars[k : k + width]
        packed ^= _ORDER_SEEDS[order]
        if order > 1:
            packed = packed[np.arange(order - 1, total, dtype=np.int64) < ends[:width]]
        hashed = _fmix64(packed)
        parts.append((hashed >> shift).astype(np.int64))
    counts = np.sum(row_counts, axis=0) if row_counts else np.zeros(len(texts), np.int64)
    indptr = np.zeros(len(texts) * len(orders) + 1, dtype=np.int64)
    np.cumsum(np.concatenate(row_counts) if row_counts else [], out=indptr[1:])
    buckets = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return NgramRows(buckets, indptr, np.asarray(counts, np.int64), chars, lengths)


class Lexicon:
    """Sentiment terms, each with a 0/1 row over `LEXICON_CLASSES`."""

    def __init__(self, terms: Sequence[str], classes: FloatArray) -> None:
        if len(terms) != len(classes) or classes.shape[1:] != (len(LEXICON_CLASSES),):
            raise ValueError("one row of LEXICON_CLASSES per term")
        self.terms = list(terms)
        self.classes = np.asarray(classes, dtype=np.float32)
        # Searched as UTF-8 bytes: the str automaton spends most of its time turning byte
        # offsets into character offsets, which the counts below do not need.
        self._matcher = ahocorasick_rs.BytesAhoCorasick(
            [_utf8(term) for term in self.terms or ["\x00"]],
            matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
            implementation=ahocorasick_rs.Implementation.ContiguousNFA,
        )

    def to_json(self) -> dict[str, Any]:
        """Terms grouped by class signature: compact and readable."""
        groups: dict[str, list[str]] = {}
        for term, row in zip(self.terms, self.classes, strict=True):
            key = "+".join(LEXICON_CLASSES[i] for i in np.flatnonzero(row))
            groups.setdefault(key, []).append(term)
        return {"classes": list(LEXICON_CLASSES), "groups": groups}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Lexicon:
        if list(data["classes"]) != list(LEXICON_CLASSES):
            raise ValueError("lexicon classes differ from LEXICON_CLASSES")
        terms: list[str] = []
        rows: list[FloatArray] = []
        for key, group in data["groups"].items():
            row = np.zeros(len(LEXICON_CLASSES), dtype=np.float32)
            for name in str(key).split("+"):
                row[LEXICON_CLASSES.index(name)] = 1.0
            terms.extend(str(term) for term in group)
            rows.extend([row] * len(group))
        empty = np.zeros((0, len(LEXICON_CLASSES)), dtype=np.float32)
        return cls(terms, np.stack(rows) if rows else empty)

    def hits(self, texts: Sequence[str]) -> FloatArray:
        """(n, classes + 2) lexicon hits per class, then negated positive and negative hits."""
        n, width = len(texts), len(LEXICON_CLASSES)
        out = np.zeros((n, width + 2), dtype=np.float32)
        encoded = [_utf8(text) for text in texts]
        # b"\n" never occurs inside a term (nor inside a multi-byte character), so no match
        # straddles two texts; UTF-8 matches start on character boundaries, and leftmost-
        # longest picks the same terms over bytes as over characters.
        joined = b"\n".join(encoded)
        matches = self._matcher.find_matches_as_indexes(joined)
        if not matches:
            return out
        found = np.fromiter(chain.from_iterable(matches), np.int64, 3 * len(matches))
        term_ids, starts = found[0::3], found[1::3]
        sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
        text_starts = np.cumsum(sizes + 1) - sizes - 1
        doc = np.searchsorted(text_starts, starts, side="right") - 1
        classes = self.classes[term_ids]
        for column in range(width):
            out[:, column] = np.bincount(doc, weights=classes[:, column], minlength=n)
        # Every negator is one 3-byte character: the three bytes before a match spell it
        # exactly when the character before the match is that negator.
        data = np.frombuffer(joined, dtype=np.uint8).astype(np.int64)
        before = np.maximum(starts - 3, 0)
        previous = data[before] << 16 | data[before + 1] << 8 | data[before + 2]
        negated = (starts - text_starts[doc] >= 3) & np.isin(previous, _NEGATOR_UTF8)
        for offset, name in enumerate(("pos", "neg")):
            weights = classes[negated, LEXICON_CLASSES.index(name)]
            out[:, width + offset] = np.bincount(doc[negated], weights=weights, minlength=n)
        return out


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


_NEGATOR_UTF8 = np.array([int.from_bytes(c.encode()) for c in NEGATORS], dtype=np.int64)
assert all(len(c.encode()) == 3 for c in NEGATORS), "negation check reads 3-byte characters"


def cue_features(texts: Sequence[str], rows: NgramRows, lexicon: Lexicon) -> FloatArray:
    """(n, len(CUE_NAMES)) log1p of lexicon hits, cue-character counts and length."""
    n = len(rows.lengths)
    doc_of = np.repeat(np.arange(n, dtype=np.int64), rows.lengths)
    counted = np.empty((n, len(CUE_CHARS) + 1), dtype=np.float32)
    for column, (_name, char) in enumerate(CUE_CHARS):
        hits = rows.chars == _U64(ord(char))
        counted[:, column] = np.bincount(doc_of[hits], minlength=n)
    counted[:, -1] = rows.lengths
    out = np.hstack([lexicon.hits(texts), counted])
    return np.log1p(out, out=out)


@dataclass(frozen=True, slots=True)
class FeaturizerConfig:
    """What the featurizer computes; stored in every model's metadata."""

    bits: int = 20
    orders: tuple[int, ...] = (1, 2, 3)
    cues: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"bits": self.bits, "orders": list(self.orders), "cues": self.cues}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeaturizerConfig:
        return cls(
            bits=int(data["bits"]),
            orders=tuple(int(o) for o in data["orders"]),
            cues=bool(data["cues"]),
        )


class Featurizer:
    """Folded texts → the shared feature space: `matrix()` to train, `scores()` to predict."""

    def __init__(self, config: FeaturizerConfig, lexicon: Lexicon | None = None) -> None:
        if not 8 <= config.bits <= 26 or not set(config.orders) <= {1, 2, 3}:
            raise ValueError(f"unsupported featurizer config {config}")
        if config.cues and lexicon is None:
            raise ValueError("cue features need a lexicon")
        self.config = config
        self.lexicon = lexicon

    @property
    def n_hashed(self) -> int:
        return 1 << self.config.bits

    @property
    def n_features(self) -> int:
        return self.n_hashed + (len(CUE_NAMES) if self.config.cues else 0)

    def _pattern(self, texts: Sequence[str]) -> tuple[NgramRows, sparse.csr_matrix]:
        rows = hash_ngrams(texts, self.config.bits, self.config.orders)
        ones = np.ones(len(rows.buckets), dtype=np.float32)
        shape = (len(texts) * len(self.config.orders), self.n_hashed)
        return rows, sparse.csr_matrix((ones, rows.buckets, rows.indptr), shape=shape)

    def matrix(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The (n, n_features) sparse matrix the models are trained on."""
        n = len(texts)
        rows, pattern = self._pattern(texts)
        blocks = [pattern[k * n : (k + 1) * n] for k in range(len(self.config.orders))]
        hashed = sum(blocks[1:], blocks[0]) if blocks else sparse.csr_matrix((n, self.n_hashed))
        scale = (1.0 / np.sqrt(np.maximum(rows.counts, 1))).astype(np.float32)
        hashed = sparse.diags(scale) @ hashed
        if not self.config.cues or self.lexicon is None:
            return sparse.csr_matrix(hashed, dtype=np.float32)
        cues = sparse.csr_matrix(cue_features(texts, rows, self.lexicon))
        return sparse.hstack([hashed, cues], format="csr", dtype=np.float32)

    def scores(self, texts: Sequence[str], weights: FloatArray, bias: FloatArray) -> FloatArray:
        """(n, k) linear scores `matrix(texts) @ weights + bias`, without building the matrix.

        `weights` is (n_features, k) float32; one CSR × dense product gathers and sums every
        n-gram's row, then each text's sum is scaled by its normalization.
        """
        n, k = len(texts), weights.shape[1]
        if n == 0:
            return np.zeros((0, k), dtype=np.float32)
        rows, pattern = self._pattern(texts)
        per_row = pattern @ weights[: self.n_hashed]
        out = np.asarray(per_row[:n], dtype=np.float32)
        for block in range(1, len(self.config.orders)):
            out += per_row[block * n : (block + 1) * n]
        out /= np.sqrt(np.maximum(rows.counts, 1)).astype(np.float32)[:, None]
        if self.lexicon is not None and self.config.cues:
            out += cue_features(texts, rows, self.lexicon) @ weights[self.n_hashed :]
        out += bias
        return out
