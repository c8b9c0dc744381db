"""The packaged text models: loading, shapes, probabilities, obvious cases, overrides, errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yuqing.domain.text import to_match_text
from yuqing.errors import ConfigError
from yuqing.pipeline.analyze.classifiers import (
    ARTIFACTS_DIR,
    MODEL_NAMES,
    clear_cache,
    load_text_models,
    synthetic_docs,
)
from yuqing.pipeline.analyze.features import (
    CUE_NAMES,
    LEXICON_CLASSES,
    Featurizer,
    FeaturizerConfig,
    Lexicon,
    hash_ngrams,
)

POSITIVE = to_match_text("太棒了，服务很贴心，点赞！")
NEGATIVE = to_match_text("垃圾银行，骗子，再也不来了")
NOTICE = to_match_text("本行定于2024年3月1日起调整部分网点营业时间，具体安排请咨询当地网点。")


@pytest.fixture
def override(tmp_path: Path) -> Path:
    """A copy of the packaged artifacts to edit."""
    clear_cache()
    for path in ARTIFACTS_DIR.iterdir():
        if path.suffix in (".npz", ".json"):
            shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_packaged_models_load_with_thresholds_and_cards() -> None:
    models = load_text_models()
    assert 0.0 < models.rumor_threshold < 1.0
    assert 0.0 < models.offensive_threshold < 1.0
    assert set(models.cards) == set(MODEL_NAMES)
    for card in models.cards.values():
        scores = card["scores"]
        assert isinstance(scores, dict)
        assert {"model", "reference"} <= set(scores)
    assert load_text_models() is models  # cached


def test_shapes_probabilities_and_empty_input() -> None:
    models = load_text_models()
    texts = [POSITIVE, NEGATIVE, NOTICE, "", "a"]
    scores = models.predict(texts)
    assert scores.sentiment.shape == (5, 3)
    assert scores.rumor.shape == scores.offensive.shape == (5,)
    np.testing.assert_allclose(scores.sentiment.sum(axis=1), 1.0, rtol=1e-5)
    for values in (scores.sentiment, scores.rumor, scores.offensive):
        assert np.all((values >= 0.0) & (values <= 1.0))
    np.testing.assert_allclose(models.sentiment(texts), scores.sentiment, rtol=1e-6)
    empty = models.predict([])
    assert empty.sentiment.shape == (0, 3)
    assert empty.rumor.shape == empty.offensive.shape == (0,)
    assert models.sentiment([]).shape == (0, 3)


def test_obvious_sentiment_cases() -> None:
    probs = load_text_models().sentiment([POSITIVE, NEGATIVE, NOTICE])
    negative, neutral, positive = 0, 1, 2
    assert probs[0].argmax() == positive
    assert probs[1].argmax() == negative
    assert probs[2, neutral] > probs[2, positive]
    assert probs[2, negative] < 0.5


def test_predictions_do_not_depend_on_batching() -> None:
    models = load_text_models()
    docs = synthetic_docs([POSITIVE, NEGATIVE, NOTICE], 50, seed=1)
    whole = models.predict(docs)
    parts = [models.predict(docs[i : i + 7]) for i in range(0, 50, 7)]
    np.testing.assert_allclose(
        whole.rumor, np.concatenate([p.rumor for p in parts]), rtol=1e-5, atol=1e-6
    )
    again = models.predict(docs)
    np.testing.assert_array_equal(whole.sentiment, again.sentiment)


def test_hash_buckets_are_the_same_in_another_process() -> None:
    text = "各地银行网点今日正常营业，请勿轻信谣言"
    here = hash_ngrams([text], 20, (1, 2, 3)).buckets.tolist()
    code = (
        "import json; from yuqing.pipeline.analyze.features import hash_ngrams; "
        f"print(json.dumps(hash_ngrams([{text!r}], 20, (1, 2, 3)).buckets.tolist()))"
    )
    env = {"PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(out.stdout) == here
    assert len(here) == len(text) + (len(text) - 1) + (len(text) - 2)


def test_sparse_matrix_and_fused_scores_agree() -> None:
    lexicon = Lexicon(["满意", "骗子"], np.eye(len(LEXICON_CLASSES), dtype=np.float32)[[0, 1]])
    featurizer = Featurizer(FeaturizerConfig(bits=12), lexicon)
    texts = ["很满意！", "", "骗子骗子？？", "不满意😀满意 #话题#"]
    weights = np.random.default_rng(0).standard_normal((featurizer.n_features, 4))
    weights = weights.astype(np.float32)
    bias = np.arange(4, dtype=np.float32)
    expected = featurizer.matrix(texts) @ weights + bias
    np.testing.assert_allclose(featurizer.scores(texts, weights, bias), expected, atol=1e-4)


def test_lexicon_hits_negation_and_offsets() -> None:
    lexicon = Lexicon(["满意"], np.eye(len(LEXICON_CLASSES), dtype=np.float32)[[0]])
    featurizer = Featurizer(FeaturizerConfig(bits=10), lexicon)
    texts = ["很满意，不满意", "😀满意", "不", "满意", "é满意", "x不满意", "ab满意"]
    matrix = featurizer.matrix(texts).toarray()
    cues = np.expm1(matrix[:, featurizer.n_hashed :])
    pos, negated = CUE_NAMES.index("lex_pos"), CUE_NAMES.index("negated_pos")
    np.testing.assert_allclose(cues[:, pos], [2, 1, 0, 1, 1, 1, 1], atol=1e-5)
    # "不满意" is negated; an emoji (outside the BMP) or a 2-byte or ASCII character before a
    # term must not shift offsets or pass for a negator, and a term at the start of a text
    # never reads the previous text's last char ("不").
    np.testing.assert_allclose(cues[:, negated], [1, 0, 0, 0, 0, 1, 0], atol=1e-5)


def test_override_directory_replaces_model_by_model(override: Path) -> None:
    packaged = load_text_models().predict([POSITIVE, NEGATIVE])
    for name in ("rumor", "offensive"):
        (override / f"{name}.json").unlink()
        (override / f"{name}.npz").unlink()
    with np.load(override / "sentiment.npz") as stored:
        weights, bias = stored["weights"], stored["bias"]
    np.savez(override / "sentiment.npz", weights=weights, bias=bias + np.array([0, 0, 50.0]))
    models = load_text_models(override)
    scores = models.predict([POSITIVE, NEGATIVE])
    assert np.all(scores.sentiment.argmax(axis=1) == 2)  # the edited bias wins
    np.testing.assert_allclose(scores.rumor, packaged.rumor, rtol=1e-6)
    assert load_text_models(override) is models


@pytest.mark.parametrize("name", ["sentiment.npz", "rumor.json", "lexicon.json"])
def test_corrupt_artifact_raises_config_error_naming_it(override: Path, name: str) -> None:
    if name == "lexicon.json":
        shutil.copy(ARTIFACTS_DIR / name, override / name)
        (override / name).write_text('{"classes": [], "groups": {}}', encoding="utf-8")
    else:
        (override / name).write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=re.escape(name)):
        load_text_models(override)


def test_missing_weights_and_missing_directory(override: Path) -> None:
    (override / "offensive.npz").unlink()
    with pytest.raises(ConfigError, match=re.escape("offensive.npz")):
        load_text_models(override)
    with pytest.raises(ConfigError, match="模型目录不存在"):
        load_text_models(override / "nowhere")


def test_packaged_artifacts_stay_small_and_pickle_free() -> None:
    total = sum(p.stat().st_size for p in ARTIFACTS_DIR.iterdir() if p.is_file())
    assert total < 25_000_000
    for name in MODEL_NAMES:
        with np.load(ARTIFACTS_DIR / f"{name}.npz", allow_pickle=False) as stored:
            assert stored["weights"].dtype == np.float16
        assert (ARTIFACTS_DIR / f"{name}.md").read_text(encoding="utf-8").startswith("# Model")
