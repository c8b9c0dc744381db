"""The office's category model: trained on confirmed categories, kept only if it holds up."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from yuqing.domain.text import to_match_text
from yuqing.errors import ConfigError
from yuqing.ingest.importer import import_file
from yuqing.pipeline.analyze.analyzer import Analyzer, Doc
from yuqing.pipeline.analyze.category import KeywordCategorizer
from yuqing.pipeline.analyze.category_model import (
    MIN_LABELLED,
    CategoryRetrain,
    Labelled,
    load_category_model,
    retrain_category,
)
from yuqing.pipeline.analyze.office import train_office_models
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store import grades as grade_store
from yuqing.store.db import Database
from yuqing.store.tables import Item as ItemRow

DEMO = Path(__file__).resolve().parents[3] / "src" / "yuqing" / "demo" / "items.jsonl"
STANDARD = load_standard()
KEYWORDS = KeywordCategorizer(STANDARD)


def demo_labelled() -> list[Labelled]:
    """The demo items with the categories written for them (our stand-in for an office)."""
    rows = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines()]
    return [
        Labelled(
            to_match_text(r.get("title", "")), to_match_text(r["content"]), r["labels"]["category"]
        )
        for r in rows
    ]


def keyword_codes(items: list[Labelled]) -> list[str]:
    return [KEYWORDS.categorize(i.title, i.content) for i in items]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CategoryRetrain]:
    directory = tmp_path_factory.mktemp("category")
    items = demo_labelled()
    return directory, retrain_category(items, keyword_codes(items), directory)


def test_model_is_kept_when_it_beats_the_keywords_and_then_used(
    trained: tuple[Path, CategoryRetrain],
) -> None:
    tmp_path, outcome = trained
    items = demo_labelled()
    assert outcome.accepted, outcome.reason
    assert outcome.model_accuracy is not None and outcome.keyword_accuracy is not None
    assert outcome.model_accuracy >= outcome.keyword_accuracy
    card = (tmp_path / "category.md").read_text(encoding="utf-8")
    assert "keywords alone" in card and str(outcome.labelled) in card

    analyzer = Analyzer.load(STANDARD, tmp_path)
    assert analyzer.category_model is not None
    docs = [Doc(i.title, i.content) for i in items]
    with_model = [a.category for a in analyzer.analyze(docs)]
    keywords_only = keyword_codes(items)
    truth = [i.code for i in items]
    hits = sum(a == b for a, b in zip(with_model, truth, strict=True))
    assert hits > sum(a == b for a, b in zip(keywords_only, truth, strict=True))


def test_too_few_confirmed_items_train_nothing(tmp_path: Path) -> None:
    items = demo_labelled()[: MIN_LABELLED - 1]
    outcome = retrain_category(items, keyword_codes(items), tmp_path)
    assert not outcome.accepted
    assert "至少需要" in outcome.reason
    assert not (tmp_path / "category.json").exists()


def test_one_category_alone_trains_nothing(tmp_path: Path) -> None:
    items = [Labelled("", f"第{i}条关于网点服务的评论", "101") for i in range(60)]
    outcome = retrain_category(items, keyword_codes(items), tmp_path)
    assert not outcome.accepted
    assert not (tmp_path / "category.json").exists()


def test_a_model_with_codes_gone_from_the_taxonomy_is_refused(
    trained: tuple[Path, CategoryRetrain],
) -> None:
    directory, _ = trained
    codes = {c.code for c in STANDARD.iter_categories()}
    assert load_category_model(directory, codes) is not None
    with pytest.raises(ConfigError, match="yuqing train"):
        load_category_model(directory, codes - {demo_labelled()[0].code})


def test_train_uses_the_categories_monitors_confirmed(db: Database, settings: Settings) -> None:
    import_file(db, settings, DEMO)
    labels = {
        json.loads(line)["id"]: json.loads(line)["labels"]["category"]
        for line in DEMO.read_text(encoding="utf-8").splitlines()
    }
    now = datetime(2026, 11, 21, tzinfo=UTC)
    with db.session() as session:
        rows = session.query(ItemRow).all()
        stored = len(rows)
        for row in rows:
            grade_store.review(
                session,
                STANDARD,
                row.id,
                actor="王敏",
                note="核对分类",
                now=now,
                category=labels[row.external_id],
            )
    models = settings.data_dir / "models"
    with db.session() as session:
        report = train_office_models(session, settings, None, models)
    assert "skipped" in report["sentiment"]
    category = report["category"]
    assert category["confirmed_labels"] == stored
    assert category["accepted"], category["reason"]
    assert (models / "category.npz").exists()
    assert Analyzer.load(STANDARD, models).category_model is not None
