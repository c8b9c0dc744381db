"""A category model learned from the office's own confirmed categories, next to the keywords.

There is no public labelled data for the taxonomy of SPEC 2.2, so the keyword classifier
(`category.py`) is the default. Once monitors have confirmed categories (`yuqing review
--category`), `yuqing train` fits a logistic regression over hashed character 1–2-grams on
them and measures, by stratified cross-validation on those same confirmed items, three
choices: keywords alone, and the model with the keywords as fallback below a confidence
threshold. The model is saved (and used) only if its best threshold scores at least as well
as the keywords alone; otherwise any earlier model stays as it was.

Artifacts: `category.npz` / `category.json` / `category.md` in the models folder of the data
directory, the same format as the other models (float16 weights, no pickle).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from scipy import sparse
from sklearn.model_selection import StratifiedKFold

from yuqing.domain.text import title_and_content
from yuqing.errors import ConfigError
from yuqing.pipeline.analyze.classifiers import (
    ModelArtifact,
    clear_cache,
    load_artifact,
    write_artifact,
)
from yuqing.pipeline.analyze.features import Featurizer, FeaturizerConfig, FloatArray
from yuqing.pipeline.analyze.training import fit_linear

NAME = "category"
FEATURES = FeaturizerConfig(bits=18, orders=(1, 2), cues=False)
C = 16.0
MIN_LABELLED = 30
"""Fewer confirmed items than this teach a model nothing the keywords do not know."""
FOLDS = 5
MIN_DOCUMENTS = 3
"""An n-gram counts as a feature only if this many confirmed items contain it."""
THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""Model confidence below which the keyword category is kept (0.0: always the model)."""


@dataclass(frozen=True, slots=True)
class Labelled:
    """One confirmed item: folded title and content, and the category a monitor set."""

    title: str
    content: str
    code: str

    @property
    def text(self) -> str:
        return title_and_content(self.title, self.content)


@dataclass(frozen=True, slots=True)
class CategoryRetrain:
    """What `retrain_category` measured and did; `reason` says why nothing was saved."""

    labelled: int
    keyword_accuracy: float | None
    model_accuracy: float | None
    threshold: float | None
    accepted: bool
    reason: str = ""


class CategoryModel:
    """Predicts a category code with its probability; below `threshold` the keywords decide."""

    def __init__(self, artifact: ModelArtifact) -> None:
        self.codes: tuple[str, ...] = tuple(artifact.metadata["labels"])
        self.threshold = float(artifact.metadata["threshold"])
        self.metadata = artifact.metadata
        self._featurizer = Featurizer(artifact.featurizer_config)
        self._weights = artifact.weights
        self._bias = artifact.bias

    def choose(self, texts: Sequence[str], keyword_codes: Sequence[str]) -> list[str]:
        """Per text: the model's code when it is confident enough, else the keyword code."""
        if not texts:
            return []
        probs = _softmax(self._featurizer.scores(texts, self._weights, self._bias))
        best = probs.argmax(axis=1)
        confident = probs[np.arange(len(texts)), best] >= self.threshold
        return [
            self.codes[b] if sure else kw
            for b, sure, kw in zip(best.tolist(), confident.tolist(), keyword_codes, strict=True)
        ]


def load_category_model(directory: Path | None, known_codes: set[str]) -> CategoryModel | None:
    """The office's category model from `directory`, if one was trained and accepted.

    A model whose codes are no longer all in the taxonomy (the standard files changed since)
    is refused with a ConfigError that says to retrain.
    """
    if directory is None or not (directory / f"{NAME}.json").exists():
        return None
    model = CategoryModel(load_artifact(NAME, directory))
    stale = sorted(set(model.codes) - known_codes)
    if stale:
        raise ConfigError(
            f"分类模型 {directory / (NAME + '.json')} 含有分类体系中已不存在的代码"
            f" {'、'.join(stale)}：请运行 yuqing train 重新训练，或删除该文件"
        )
    return model


def retrain_category(
    items: Sequence[Labelled],
    keyword_codes: Sequence[str],
    out_dir: Path,
    seed: int = 42,
) -> CategoryRetrain:
    """Cross-validate a model on the confirmed items against the keywords; keep it if it holds.

    `keyword_codes[i]` is what the keyword classifier says for `items[i]`.
    """
    n = len(items)
    truth = np.array([item.code for item in items])
    keyword_accuracy = float(np.mean(truth == np.array(keyword_codes))) if n else None
    counts = Counter(truth.tolist())
    # A category confirmed fewer times than there are folds cannot be stratified: its items
    # stay in training for every fold and only the other items are judged.
    rare = np.array([counts[code] < FOLDS for code in truth.tolist()])
    common = np.flatnonzero(~rare)
    judged_classes = {code for code, count in counts.items() if count >= FOLDS}
    if n < MIN_LABELLED or len(judged_classes) < 2:
        reason = (
            f"已确认分类的信息 {n} 条，其中至少 {FOLDS} 条的分类 {len(judged_classes)} 个；"
            f"至少需要 {MIN_LABELLED} 条，且至少 2 个分类各有 {FOLDS} 条"
        )
        return CategoryRetrain(n, keyword_accuracy, None, None, False, reason)
    texts = [item.text for item in items]
    featurizer = Featurizer(FEATURES)
    matrix = featurizer.matrix(texts)
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    predicted = np.empty(len(common), dtype=object)
    confidence = np.zeros(len(common))
    for train_part, test_part in splitter.split(common, truth[common]):
        train_rows = np.concatenate([common[train_part], np.flatnonzero(rare)])
        classes = tuple(sorted(set(truth[train_rows].tolist())))
        weights, bias = _fit(matrix[train_rows], truth[train_rows], classes, seed)
        probs = _softmax(featurizer.scores([texts[i] for i in common[test_part]], weights, bias))
        predicted[test_part] = np.array(classes, dtype=object)[probs.argmax(axis=1)]
        confidence[test_part] = probs.max(axis=1)
    judged_truth = truth[common]
    judged_keywords = np.array(keyword_codes, dtype=object)[common]
    baseline = float(np.mean(judged_truth == judged_keywords))
    scored = [
        (
            float(np.mean(judged_truth == np.where(confidence >= t, predicted, judged_keywords))),
            t,
        )
        for t in THRESHOLDS
    ]
    best_score, best_threshold = max(scored, key=lambda pair: (pair[0], pair[1]))
    if best_score < baseline:
        reason = f"交叉验证准确率 {best_score:.3f} 低于关键词分类 {baseline:.3f}"
        return CategoryRetrain(n, baseline, best_score, best_threshold, False, reason)
    classes = tuple(sorted(counts))
    weights, bias = _fit(matrix, truth, classes, seed)
    metadata = {
        "labels": list(classes),
        "threshold": best_threshold,
        "featurizer": FEATURES.to_json(),
        "seed": seed,
        "rows": {"confirmed": n, "per_category": dict(sorted(counts.items()))},
        "scores": {
            "folds": FOLDS,
            "judged": len(common),
            "keyword_accuracy": round(baseline, 4),
            "model_accuracy": round(best_score, 4),
            "by_threshold": {str(t): round(s, 4) for s, t in scored},
        },
        "model": {"kind": "logistic regression", "C": C, "sklearn": sklearn.__version__},
    }
    artifact = ModelArtifact(NAME, weights, bias, metadata, None)
    write_artifact(artifact, out_dir)
    _write_card(artifact, out_dir)
    clear_cache()
    return CategoryRetrain(n, baseline, best_score, best_threshold, True)


def _fit(
    matrix: sparse.csr_matrix, labels: np.ndarray, classes: tuple[str, ...], seed: int
) -> tuple[FloatArray, FloatArray]:
    # N-grams in one confirmed item only cannot generalize, and they make up most columns;
    # dropping them cuts the weights lbfgs updates (the cost of a fit) several times over.
    document_frequency = np.asarray((matrix > 0).sum(axis=0)).ravel()
    shared = sparse.diags((document_frequency >= MIN_DOCUMENTS).astype(np.float32))
    matrix = sparse.csr_matrix(matrix @ shared)
    matrix.eliminate_zeros()
    weights, bias = fit_linear(matrix, labels.tolist(), classes, C, seed, max_iter=2000)
    if len(classes) == 2:  # one score column for two classes: make it two, softmax-ready
        weights = np.hstack([np.zeros_like(weights), weights])
        bias = np.concatenate([np.zeros_like(bias), bias])
    return weights, bias


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    result: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def _write_card(artifact: ModelArtifact, directory: Path) -> None:
    meta = artifact.metadata
    scores = meta["scores"]
    lines = [
        "# Model card: category",
        "",
        "Category (SPEC 2.2) of an item, learned from the categories the office's monitors "
        "confirmed in Yuqing; no outside data. Below the confidence threshold the keyword "
        "classifier of the standard files decides.",
        "",
        "## Data",
        "",
        f"- {meta['rows']['confirmed']} confirmed items of this organization: "
        + ", ".join(f"{code} {count}" for code, count in meta["rows"]["per_category"].items()),
        "",
        f"## Scores ({scores['folds']}-fold stratified cross-validation, "
        f"{scores['judged']} items judged)",
        "",
        "| classifier | accuracy |",
        "|---|---|",
        f"| keywords alone | {scores['keyword_accuracy']} |",
        f"| model, keywords below confidence {meta['threshold']} | {scores['model_accuracy']} |",
        "",
        "Accuracy per threshold: "
        + ", ".join(f"{t}: {s}" for t, s in scores["by_threshold"].items()),
        "",
        "## Model",
        "",
        f"- {meta['model']['kind']}, C={meta['model']['C']}, scikit-learn "
        f"{meta['model']['sklearn']}, seed {meta['seed']}; features "
        f"{FEATURES.to_json()} (see `features.py`).",
        "- Kept only because it scored at least as well as the keywords alone.",
    ]
    (directory / f"{NAME}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
