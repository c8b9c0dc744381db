"""The trained text models at run time: sentiment, rumour, offensive language.

Artifacts per model in one directory: `<name>.npz` (float16 `weights` (n_features, k) and
float32 `bias` (k,), no pickle), `<name>.json` (labels, threshold, featurizer config, data
hashes, seed, dev scores) and the card `<name>.md`; `lexicon.json` is the sentiment word list
the cue features count. Models sharing a featurizer are scored in one pass over the texts.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from yuqing.errors import ConfigError
from yuqing.pipeline.analyze.features import Featurizer, FeaturizerConfig, FloatArray, Lexicon

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"
MODEL_NAMES: tuple[str, ...] = ("sentiment", "rumor", "offensive")
LEXICON_FILE = "lexicon.json"
_CHUNK = 4096  # texts per featurization pass: bounds memory on long inputs


@dataclass(frozen=True, slots=True)
class TextScores:
    """Model outputs for a batch of texts."""

    sentiment: np.ndarray  # (n, 3) probabilities, columns negative, neutral, positive
    rumor: np.ndarray  # (n,) probability of rumour
    offensive: np.ndarray  # (n,) probability of offensive


@dataclass(slots=True)
class ModelArtifact:
    """One model's weights, metadata and the lexicon its cue features count."""

    name: str
    weights: FloatArray  # (n_features, k) float32 in memory, float16 on disk
    bias: FloatArray  # (k,)
    metadata: dict[str, Any]
    lexicon: Lexicon | None

    @property
    def featurizer_config(self) -> FeaturizerConfig:
        return FeaturizerConfig.from_json(self.metadata["featurizer"])


def lexicon_bytes(lexicon: Lexicon) -> bytes:
    return json.dumps(lexicon.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")


def write_artifact(artifact: ModelArtifact, directory: Path) -> None:
    """Write `<name>.npz`, `<name>.json` and, if the model has one, `lexicon.json`."""
    directory.mkdir(parents=True, exist_ok=True)
    weights16 = artifact.weights.astype(np.float16)
    artifact.metadata["weights_sha256"] = hashlib.sha256(
        weights16.tobytes() + artifact.bias.astype(np.float32).tobytes()
    ).hexdigest()
    if artifact.lexicon is not None:
        raw = lexicon_bytes(artifact.lexicon)
        (directory / LEXICON_FILE).write_bytes(raw)
        artifact.metadata["lexicon_sha256"] = hashlib.sha256(raw).hexdigest()
    np.savez_compressed(
        directory / f"{artifact.name}.npz",
        weights=weights16,
        bias=artifact.bias.astype(np.float32),
    )
    text = json.dumps(artifact.metadata, ensure_ascii=False, indent=2, sort_keys=True)
    (directory / f"{artifact.name}.json").write_text(text + "\n", encoding="utf-8")


def _read_lexicon(path: Path, expected_sha256: str) -> Lexicon:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"模型文件缺失或无法读取：{path}") from exc
    if hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise ConfigError(f"模型文件 {path} 与模型元数据记录的校验值不符，请重新训练")
    try:
        return Lexicon.from_json(json.loads(raw))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"模型文件已损坏：{path}") from exc


def load_artifact(name: str, directory: Path) -> ModelArtifact:
    """One model from `directory`; its lexicon from there, else from the packaged artifacts."""
    meta_path, weights_path = directory / f"{name}.json", directory / f"{name}.npz"
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        config = FeaturizerConfig.from_json(metadata["featurizer"])
    except OSError as exc:
        raise ConfigError(f"模型文件缺失或无法读取：{meta_path}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"模型文件已损坏：{meta_path}") from exc
    try:
        with np.load(weights_path, allow_pickle=False) as stored:
            weights = np.asarray(stored["weights"], dtype=np.float32)
            bias = np.asarray(stored["bias"], dtype=np.float32)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ConfigError(f"模型文件缺失或已损坏：{weights_path}") from exc
    lexicon = None
    if config.cues:
        lexicon_path = directory / LEXICON_FILE
        if not lexicon_path.exists():
            lexicon_path = ARTIFACTS_DIR / LEXICON_FILE
        lexicon = _read_lexicon(lexicon_path, str(metadata.get("lexicon_sha256", "")))
    featurizer = Featurizer(config, lexicon)
    if (
        weights.ndim != 2
        or weights.shape[0] != featurizer.n_features
        or bias.shape != (weights.shape[1],)
    ):
        raise ConfigError(f"模型文件 {weights_path} 的权重形状与特征配置不符")
    return ModelArtifact(name, weights, bias, metadata, lexicon)


class _Pass:
    """Models that share one featurizer, their weight columns side by side."""

    def __init__(self, artifacts: Sequence[ModelArtifact]) -> None:
        first = artifacts[0]
        self.featurizer = Featurizer(first.featurizer_config, first.lexicon)
        self.weights = np.ascontiguousarray(np.hstack([a.weights for a in artifacts]))
        self.bias = np.concatenate([a.bias for a in artifacts])
        self.columns: dict[str, slice] = {}
        start = 0
        for artifact in artifacts:
            width = artifact.weights.shape[1]
            self.columns[artifact.name] = slice(start, start + width)
            start += width

    def scores(self, texts: Sequence[str]) -> FloatArray:
        parts = [
            self.featurizer.scores(texts[i : i + _CHUNK], self.weights, self.bias)
            for i in range(0, len(texts), _CHUNK)
        ]
        if not parts:
            return np.zeros((0, self.weights.shape[1]), dtype=np.float32)
        return np.vstack(parts)


def softmax(scores: FloatArray) -> FloatArray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    out: FloatArray = (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def sigmoid(scores: FloatArray) -> FloatArray:
    out: FloatArray = (1.0 / (1.0 + np.exp(-scores))).astype(np.float32)
    return out


def probabilities(scores: FloatArray) -> FloatArray:
    """Softmax over columns, or the sigmoid of a single column."""
    return sigmoid(scores[:, 0]) if scores.shape[1] == 1 else softmax(scores)


class TextModels:
    """The three models; `predict` scores texts (already folded) with all of them."""

    def __init__(self, artifacts: Mapping[str, ModelArtifact]) -> None:
        missing = [name for name in MODEL_NAMES if name not in artifacts]
        if missing:
            raise ConfigError(f"缺少模型：{', '.join(missing)}")
        self.rumor_threshold = float(artifacts["rumor"].metadata["threshold"])
        self.offensive_threshold = float(artifacts["offensive"].metadata["threshold"])
        self.cards: Mapping[str, Mapping[str, object]] = {
            name: artifacts[name].metadata for name in MODEL_NAMES
        }
        groups: dict[str, list[ModelArtifact]] = {}
        for name in MODEL_NAMES:
            artifact = artifacts[name]
            key = json.dumps(
                [artifact.metadata["featurizer"], artifact.metadata.get("lexicon_sha256")]
            )
            groups.setdefault(key, []).append(artifact)
        self._passes = [_Pass(group) for group in groups.values()]
        self._sentiment_pass = _Pass([artifacts["sentiment"]])

    def predict(self, texts: Sequence[str]) -> TextScores:
        """Probabilities from every model for folded texts; empty input gives empty arrays."""
        columns: dict[str, FloatArray] = {}
        for one_pass in self._passes:
            scores = one_pass.scores(texts)
            for name, where in one_pass.columns.items():
                columns[name] = scores[:, where]
        return TextScores(
            sentiment=softmax(columns["sentiment"]),
            rumor=sigmoid(columns["rumor"][:, 0]),
            offensive=sigmoid(columns["offensive"][:, 0]),
        )

    def sentiment(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) sentiment probabilities only (negative, neutral, positive)."""
        return softmax(self._sentiment_pass.scores(texts))


@lru_cache(maxsize=8)
def _load(directory: Path | None) -> TextModels:
    if directory is not None and not directory.is_dir():
        raise ConfigError(f"模型目录不存在：{directory}")
    artifacts: dict[str, ModelArtifact] = {}
    for name in MODEL_NAMES:
        override = directory is not None and (directory / f"{name}.json").exists()
        source = directory if override and directory is not None else ARTIFACTS_DIR
        artifacts[name] = load_artifact(name, source)
    return TextModels(artifacts)


def clear_cache() -> None:
    """Forget loaded models, e.g. after a retrain wrote new artifacts."""
    _load.cache_clear()


def load_text_models(directory: Path | None = None) -> TextModels:
    """The packaged models, each replaced by a retrained one found in `directory`.

    Cached per directory. A missing or corrupt artifact raises `ConfigError` naming the file.
    """
    return _load(directory.resolve() if directory is not None else None)


def synthetic_docs(texts: Sequence[str], count: int, seed: int) -> list[str]:
    """`count` texts of 50–500 characters (mean ≈ 275) glued from `texts`, for timing."""
    rng = np.random.default_rng(seed)
    pool = [text for text in texts if text] or ["舆情"]
    docs: list[str] = []
    for length in rng.integers(50, 501, size=count):
        parts: list[str] = []
        size = 0
        while size < length:
            parts.append(pool[int(rng.integers(len(pool)))])
            size += len(parts[-1])
        docs.append("".join(parts)[:length])
    return docs


def measure_speed(
    directory: Path, texts: Sequence[str], vectorizer: Any, reference: Any, seed: int
) -> dict[str, float]:
    """docs/s of `TextModels.predict` (all three models) on one core, batches of 1,000, and of
    the reference (sklearn `vectorizer.transform` + `reference.predict_proba`) in the same run.
    Best of three rounds over 5,000 synthetic docs; the ratio is what survives a noisy machine.
    """
    from time import perf_counter

    models = load_text_models(directory)
    docs = synthetic_docs(texts, 5000, seed)
    batches = [docs[i : i + 1000] for i in range(0, len(docs), 1000)]

    def best(run: Any) -> float:
        run(batches[0])
        rounds = []
        for _ in range(3):
            start = perf_counter()
            for batch in batches:
                run(batch)
            rounds.append(perf_counter() - start)
        return len(docs) / min(rounds)

    ours = best(models.predict)
    baseline = best(lambda batch: reference.predict_proba(vectorizer.transform(batch)))
    return {
        "docs_per_s": round(ours),
        "reference_docs_per_s": round(baseline),
        "ratio": round(ours / baseline, 2),
        "mean_chars": round(float(np.mean([len(d) for d in docs])), 1),
    }
