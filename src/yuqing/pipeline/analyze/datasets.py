"""Loaders for the labelled data under `shared/data` (see its README for sources and licenses).

Every loader returns texts already folded by `to_match_text`, the form the models see at run
time, and raises `ConfigError` naming the file when it is missing or malformed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy import sparse
from sklearn.model_selection import StratifiedGroupKFold

from yuqing.domain.text import to_match_text
from yuqing.errors import ConfigError
from yuqing.pipeline.analyze.features import (
    LEXICON_CLASSES,
    FloatArray,
    IntArray,
    Lexicon,
    hash_ngrams,
)

SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
# SMP2020 emotion → polarity. `surprise` is left out of training and of the headline dev
# score: in the data it covers shock at bad news and delight alike (see the sentiment card).
EMOTION_POLARITY: dict[str, str | None] = {
    "angry": "negative",
    "sad": "negative",
    "fear": "negative",
    "happy": "positive",
    "neutral": "neutral",
    "surprise": None,
}

LICENSES: dict[str, str] = {
    "smp2020_virus_train.json": "SMP2020-EWECT; no license stated (research use)",
    "smp2020_usual_dev.json": "SMP2020-EWECT; no license stated (research use)",
    "weibo_rumor_train.jsonl": "thunlp/Chinese_Rumor_Dataset and Ma et al. IJCAI 2016; "
    "no license stated, cite the papers",
    "cold_train.csv": "thu-coai/COLDataset; Apache-2.0",
    "cold_dev.csv": "thu-coai/COLDataset; Apache-2.0",
    "swsr_comments.csv": "aggiejiang/SWSR; MIT",
    "online_shopping_10_cats.csv": "SophonPlus/ChineseNlpCorpus; no license stated",
    "waimai_10k.csv": "SophonPlus/ChineseNlpCorpus; no license stated",
    "lexicons/sentiment": "cntext 2.2.1 (MIT wrapper); HowNet, NTUSD, DUTIR, Tsinghua "
    "praise/derogatory, Chinese EmoBank: academic lexicons",
}
# Whitespace, links and @mentions: reposts of one rumour differ mostly in these.
_NOISE = re.compile(r"\s+|https?://\S+|@[^\s:：]+")


@dataclass(frozen=True, slots=True)
class Labelled:
    """Folded texts with their labels, and the file they came from."""

    texts: list[str]
    labels: list[str]
    source: Path

    def __len__(self) -> int:
        return len(self.texts)


def sha256(path: Path) -> str:
    """Content hash of a data file, recorded in the model metadata."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ConfigError(f"无法读取数据文件 {path}：{exc.strerror or exc}") from exc
    return digest.hexdigest()


def _open(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(f"找不到数据文件 {path}，请检查 --data 目录") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"无法读取数据文件 {path}：{exc}") from exc


def _csv_rows(path: Path, required: tuple[str, ...]) -> Iterator[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(_open(path), newline=""))
    missing = [name for name in required if name not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"数据文件 {path} 缺少列：{', '.join(missing)}")
    yield from reader


def _binary(value: str | int, path: Path, line: int) -> str:
    text = str(value).strip()
    if text not in ("0", "1"):
        raise ConfigError(f"数据文件 {path} 第 {line} 行的标签不是 0/1：{value!r}")
    return text


def load_smp2020(path: Path) -> Labelled:
    """SMP2020-EWECT Weibo posts mapped to polarity; `surprise` rows are dropped."""
    try:
        records = json.loads(_open(path))
        pairs = [(str(r["content"]), str(r["label"])) for r in records]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"数据文件 {path} 格式错误（应为 {{id, content, label}} 列表）") from exc
    texts: list[str] = []
    labels: list[str] = []
    for number, (content, emotion) in enumerate(pairs, start=1):
        if emotion not in EMOTION_POLARITY:
            raise ConfigError(f"数据文件 {path} 第 {number} 条的情绪标签未知：{emotion}")
        polarity = EMOTION_POLARITY[emotion]
        if polarity is not None:
            texts.append(to_match_text(content))
            labels.append(polarity)
    return Labelled(texts, labels, path)


def load_smp2020_surprise(path: Path) -> list[str]:
    """The folded `surprise` posts, reported on separately."""
    records = json.loads(_open(path))
    return [to_match_text(str(r["content"])) for r in records if r.get("label") == "surprise"]


def load_reviews(data_dir: Path) -> Labelled:
    """Shopping and food-delivery reviews as positive/negative, repeated lines removed."""
    seen: set[str] = set()
    texts: list[str] = []
    labels: list[str] = []
    for name in ("online_shopping_10_cats.csv", "waimai_10k.csv"):
        path = data_dir / "sentiment" / name
        for line, row in enumerate(_csv_rows(path, ("label", "review")), start=2):
            text = to_match_text((row["review"] or "").strip())
            if not text or text in seen:
                continue
            seen.add(text)
            texts.append(text)
            labels.append("positive" if _binary(row["label"], path, line) == "1" else "negative")
    return Labelled(texts, labels, data_dir / "sentiment")


def load_rumor(path: Path) -> Labelled:
    """Weibo source posts, text only: dates and ids would leak the label (2015 = no rumour)."""
    texts: list[str] = []
    labels: list[str] = []
    for line, raw in enumerate(_open(path).split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            text, label = str(record["text"]), record["label"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ConfigError(f"数据文件 {path} 第 {line} 行格式错误") from exc
        texts.append(to_match_text(text))
        labels.append(_binary(label, path, line))
    return Labelled(texts, labels, path)


def load_cold(path: Path) -> Labelled:
    texts: list[str] = []
    labels: list[str] = []
    for line, row in enumerate(_csv_rows(path, ("label", "TEXT")), start=2):
        texts.append(to_match_text(row["TEXT"] or ""))
        labels.append(_binary(row["label"], path, line))
    return Labelled(texts, labels, path)


def load_swsr(path: Path) -> Labelled:
    texts: list[str] = []
    labels: list[str] = []
    for line, row in enumerate(_csv_rows(path, ("label", "comment_text")), start=2):
        texts.append(to_match_text(row["comment_text"] or ""))
        labels.append(_binary(row["label"], path, line))
    return Labelled(texts, labels, path)


def load_lexicon(directory: Path) -> Lexicon:
    """Union of the cntext sentiment lexicons, folded, terms of two characters or more."""
    class_of = {
        ("HowNet", "pos"): "pos",
        ("HowNet", "neg"): "neg",
        ("NTUSD", "positive"): "pos",
        ("NTUSD", "negative"): "neg",
        ("TsinghuaPraiseDegrade", "praise"): "pos",
        ("TsinghuaPraiseDegrade", "degrade"): "neg",
        ("DUTIR", "乐"): "joy",
        ("DUTIR", "好"): "like",
        ("DUTIR", "怒"): "anger",
        ("DUTIR", "哀"): "sadness",
        ("DUTIR", "惧"): "fear",
        ("DUTIR", "恶"): "disgust",
        ("DUTIR", "惊"): "surprise",
    }
    rows: dict[str, FloatArray] = {}

    def mark(term: object, name: str) -> None:
        folded = to_match_text(str(term).strip())
        if len(folded) >= 2 and "\n" not in folded:
            row = rows.setdefault(folded, np.zeros(len(LEXICON_CLASSES), dtype=np.float32))
            row[LEXICON_CLASSES.index(name)] = 1.0

    for source in ("HowNet", "NTUSD", "TsinghuaPraiseDegrade", "DUTIR"):
        for category, terms in _yaml_dictionary(directory / f"zh_common_{source}.yaml").items():
            name = class_of.get((source, str(category)))
            if name is not None and isinstance(terms, list):
                for term in terms:
                    mark(term, name)
    path = directory / "zh_valence_ChineseEmoBank.yaml"
    for term, scores in _yaml_dictionary(path).items():
        try:
            valence = float(scores["valence"])  # type: ignore[index]
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"词典 {path} 中 {term!r} 缺少 valence") from exc
        if valence >= 6.0:
            mark(term, "valence_high")
        elif valence <= 4.0:
            mark(term, "valence_low")
    terms = sorted(rows)
    return Lexicon(terms, np.stack([rows[t] for t in terms]))


def _yaml_dictionary(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(_open(path))
        dictionary = data["Dictionary"]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigError(f"词典文件 {path} 格式错误（缺少 Dictionary）") from exc
    if not isinstance(dictionary, dict):
        raise ConfigError(f"词典文件 {path} 格式错误（Dictionary 不是映射）")
    return dictionary


def near_duplicate_groups(texts: Sequence[str], threshold: float = 0.8) -> IntArray:
    """A group id per text; texts whose character 3-gram sets have Jaccard ≥ threshold share one.

    Splitting by group keeps reposts and lightly edited copies on one side of a dev split.
    """
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    stripped = [_NOISE.sub("", text) or text for text in texts]
    rows = hash_ngrams(stripped, 24, (3,))
    shingles = sparse.csr_matrix(
        (np.ones(len(rows.buckets), dtype=np.float32), rows.buckets, rows.indptr),
        shape=(n, 1 << 24),
    )
    shingles.sum_duplicates()
    shingles.data[:] = 1.0
    sizes = np.asarray(shingles.sum(axis=1)).ravel()
    overlap = sparse.triu(shingles @ shingles.T, k=1).tocoo()
    union = sizes[overlap.row] + sizes[overlap.col] - overlap.data
    close = overlap.data >= threshold * np.maximum(union, 1)
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for a, b in zip(overlap.row[close], overlap.col[close], strict=True):
        parent[root(int(a))] = root(int(b))
    return np.array([root(i) for i in range(n)], dtype=np.int64)


def grouped_split(
    labels: Sequence[str], groups: IntArray, seed: int, folds: int = 5
) -> tuple[IntArray, IntArray]:
    """(train, dev) indices: one stratified fold is dev; near-duplicates stay on one side."""
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    train, dev = next(splitter.split(np.zeros(len(labels)), np.asarray(labels), groups))
    return np.asarray(train, dtype=np.int64), np.asarray(dev, dtype=np.int64)
