"""Training on a small data directory cut from the real data: artifacts, determinism, retrain."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from yuqing.errors import ConfigError
from yuqing.pipeline.analyze import datasets
from yuqing.pipeline.analyze.classifiers import clear_cache, load_text_models
from yuqing.pipeline.analyze.features import FeaturizerConfig
from yuqing.pipeline.analyze.training import TrainingConfig, retrain_sentiment, train_all

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
TINY = TrainingConfig(featurizer=FeaturizerConfig(bits=14), variants=False, speed=False)

pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"the labelled data directory {DATA} is absent"
)


def _csv_head(source: Path, target: Path, per_label: int) -> None:
    """The first `per_label` rows of each label, header kept (and the BOM dropped)."""
    reader = csv.DictReader(io.StringIO(source.read_text(encoding="utf-8-sig"), newline=""))
    kept: dict[str, int] = {}
    rows = []
    for row in reader:
        if kept.get(row["label"], 0) < per_label:
            kept[row["label"]] = kept.get(row["label"], 0) + 1
            rows.append(row)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    for folder in ("sentiment", "rumor", "offensive", "lexicons/sentiment"):
        (root / folder).mkdir(parents=True)
    for name, count in (("smp2020_virus_train.json", 600), ("smp2020_usual_dev.json", 300)):
        records = json.loads((DATA / "sentiment" / name).read_text(encoding="utf-8"))
        (root / "sentiment" / name).write_text(json.dumps(records[:count]), encoding="utf-8")
    lines = (DATA / "rumor" / "weibo_rumor_train.jsonl").read_text(encoding="utf-8").split("\n")
    rumours = [line for line in lines if '"label": 1' in line][:150]
    others = [line for line in lines if '"label": 0' in line][:150]
    (root / "rumor" / "weibo_rumor_train.jsonl").write_text(
        "\n".join(rumours + others) + "\n", encoding="utf-8"
    )
    sizes = (("cold_train.csv", 150), ("cold_dev.csv", 60), ("swsr_comments.csv", 150))
    for name, per_label in sizes:
        _csv_head(DATA / "offensive" / name, root / "offensive" / name, per_label)
    for path in (DATA / "lexicons" / "sentiment").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data["Dictionary"]
        if isinstance(next(iter(entries.values())), dict):  # EmoBank: term → scores
            data["Dictionary"] = dict(list(entries.items())[:300])
        else:
            data["Dictionary"] = {k: list(v)[:300] for k, v in entries.items()}
        (root / "lexicons" / "sentiment" / path.name).write_text(
            yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
        )
    return root


@pytest.fixture(scope="module")
def trained(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("artifacts")
    train_all(small_data, out, seed=7, config=TINY)
    return out


def test_train_all_writes_loadable_artifacts_with_scores(trained: Path) -> None:
    for name in ("sentiment", "rumor", "offensive"):
        for suffix in (".npz", ".json", ".md"):
            assert (trained / f"{name}{suffix}").is_file()
    meta = json.loads((trained / "rumor.json").read_text(encoding="utf-8"))
    assert meta["featurizer"]["bits"] == 14
    assert meta["seed"] == 7
    assert 0.0 < meta["threshold"] < 1.0
    assert {"rumor_dev.auc", "rumor_dev.f1"} <= set(meta["scores"]["model"])
    assert all(entry["sha256"] for entry in meta["data"])
    clear_cache()
    models = load_text_models(trained)
    assert models.cards["rumor"]["seed"] == 7
    probs = models.sentiment(["太棒了", "骗子"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_same_seed_same_weights(small_data: Path, trained: Path, tmp_path: Path) -> None:
    train_all(small_data, tmp_path, seed=7, config=TINY)
    for name in ("sentiment", "rumor", "offensive"):
        first = json.loads((trained / f"{name}.json").read_text(encoding="utf-8"))
        second = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert first["weights_sha256"] == second["weights_sha256"]
        assert first["scores"] == second["scores"]


def test_retrain_with_wrong_labels_is_refused(small_data: Path, trained: Path) -> None:
    before = (trained / "sentiment.npz").read_bytes()
    dev = datasets.load_smp2020(small_data / "sentiment" / "smp2020_virus_train.json")
    flipped = {"positive": "negative", "negative": "positive", "neutral": "positive"}
    extra = [(t, flipped[label]) for t, label in zip(dev.texts, dev.labels, strict=True)] * 3
    result = retrain_sentiment(small_data, trained, extra, seed=7, config=TINY)
    assert result.rows_used == len(dev) + len(extra)
    assert result.new_score < result.old_score
    assert not result.accepted
    assert (trained / "sentiment.npz").read_bytes() == before


def test_retrain_accepts_when_the_score_holds(small_data: Path, tmp_path: Path) -> None:
    train_all(small_data, tmp_path, seed=7, config=TINY)
    extra = [("太棒了，服务很贴心，点赞！", "positive"), ("垃圾银行，骗子", "negative")]
    result = retrain_sentiment(small_data, tmp_path, extra, seed=7, config=TINY)
    assert result.accepted == (result.new_score >= result.old_score)
    meta = json.loads((tmp_path / "sentiment.json").read_text(encoding="utf-8"))
    assert ("retrain" in meta) == result.accepted
    with pytest.raises(ConfigError, match="情感标签"):
        retrain_sentiment(small_data, tmp_path, [("好", "happy")], config=TINY)


def test_missing_and_malformed_files_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("cold_train.csv")):
        datasets.load_cold(tmp_path / "cold_train.csv")
    bad = tmp_path / "weibo_rumor_train.jsonl"
    bad.write_text('{"text": "x", "label": 1}\n{oops\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("weibo_rumor_train.jsonl 第 2 行")):
        datasets.load_rumor(bad)
    swsr = tmp_path / "swsr_comments.csv"
    swsr.write_text("label,text\n1,x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="comment_text"):
        datasets.load_swsr(swsr)


def test_near_duplicates_stay_on_one_side_of_the_split() -> None:
    base = "紧急扩散！某地自来水被投毒，请大家不要喝自来水，转给家人朋友"
    texts = [base, base + " http://t.cn/abc", "@某人 " + base, "今天天气很好，出去走走", "股市大涨"]
    groups = datasets.near_duplicate_groups(texts)
    assert groups[0] == groups[1] == groups[2]
    assert len(set(groups.tolist())) == 3
    labels = ["1", "1", "1", "0", "0"] * 4
    many = np.concatenate([groups + 100 * k for k in range(4)])
    train, dev = datasets.grouped_split(labels, many, seed=3, folds=2)
    assert not set(many[train]) & set(many[dev])
    assert sorted(np.concatenate([train, dev]).tolist()) == list(range(20))
