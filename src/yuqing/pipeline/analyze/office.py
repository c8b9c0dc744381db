"""`yuqing train`: retrain sentiment and category with the office's confirmed labels.

Sentiment needs the public corpora (its dev split decides); category learns from the office's
confirmed categories alone and is judged by cross-validation against the keyword classifier.
Each new model replaces the one in use only when it scores at least as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from yuqing.domain.text import to_match_text
from yuqing.pipeline.analyze.category import KeywordCategorizer
from yuqing.pipeline.analyze.category_model import Labelled, retrain_category
from yuqing.pipeline.analyze.training import retrain_sentiment
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store import grades as grade_store


def train_office_models(
    session: Session, settings: Settings, data_dir: Path | None, models_dir: Path
) -> dict[str, dict[str, Any]]:
    """Retrain both models; the report is the `yuqing train --json` shape."""
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    report: dict[str, dict[str, Any]] = {}
    if data_dir is None:
        report["sentiment"] = {
            "skipped": "找不到标注语料目录：请用 --data 或 YUQING_TRAINING_DATA_DIR 指定"
        }
    else:
        negative = [g.code.value for g in standard.grades if g.negative]
        confirmed = grade_store.confirmed_sentiment(session, negative)
        extra = [(to_match_text(text), label) for text, label in confirmed]
        result = retrain_sentiment(data_dir, models_dir, extra)
        report["sentiment"] = {
            "confirmed_labels": len(extra),
            "rows_used": result.rows_used,
            "old_score": round(result.old_score, 4),
            "new_score": round(result.new_score, 4),
            "accepted": result.accepted,
        }
    known = {c.code for c in standard.iter_categories()}
    items = [
        Labelled(to_match_text(title), to_match_text(content), code)
        for title, content, code in grade_store.confirmed_categories(session)
        if code in known
    ]
    keywords = KeywordCategorizer(standard)
    keyword_codes = keywords.categorize_many([i.title for i in items], [i.content for i in items])
    outcome = retrain_category(items, keyword_codes, models_dir)
    report["category"] = {
        "confirmed_labels": outcome.labelled,
        "keyword_accuracy": _rounded(outcome.keyword_accuracy),
        "model_accuracy": _rounded(outcome.model_accuracy),
        "threshold": outcome.threshold,
        "accepted": outcome.accepted,
        "reason": outcome.reason,
    }
    return report


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
