"""Everything the analysis concludes about a batch of folded texts, in one call."""

from __future__ import annotations

import gc
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yuqing.domain import Analysis, Harm
from yuqing.domain.text import title_and_content
from yuqing.pipeline.analyze.category import KeywordCategorizer
from yuqing.pipeline.analyze.category_model import CategoryModel, load_category_model
from yuqing.pipeline.analyze.classifiers import TextModels, load_text_models
from yuqing.pipeline.analyze.harms import HarmDetector
from yuqing.pipeline.analyze.terms import TermIndex
from yuqing.standard import Standard

SENTIMENT_LABELS = ("negative", "neutral", "positive")
# Sentence ends in Chinese and Western punctuation, and line breaks.
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])")
# How much text around a subject mention the focused sentiment reads (in sentences).
_FOCUS_SENTENCES = 1


@dataclass(frozen=True, slots=True)
class Doc:
    """One folded text to analyze; `mentions` are (start, end) of subject terms in `content`."""

    title: str
    content: str
    mentions: tuple[tuple[int, int], ...] = field(default=())


def focus(content: str, mentions: Sequence[tuple[int, int]]) -> str:
    """The sentences that mention a subject, with one sentence either side.

    A long report about many things can be negative in general and neutral about the subject,
    or the other way round; the sentiment that grades the item is the one about the subject.
    """
    if not mentions:
        return content
    sentences = [s for s in _SENTENCE_END.split(content) if s]
    if len(sentences) <= 2 * _FOCUS_SENTENCES + 1:
        return content
    starts = np.cumsum([0] + [len(s) for s in sentences])
    keep: set[int] = set()
    for start, _end in mentions:
        index = int(np.searchsorted(starts, start, side="right")) - 1
        keep.update(range(index - _FOCUS_SENTENCES, index + _FOCUS_SENTENCES + 1))
    return "".join(sentences[i] for i in sorted(keep) if 0 <= i < len(sentences))


class Analyzer:
    """Sentiment, rumour, offensive language, harm types, signals and category for texts.

    Texts arrive folded (`to_match_text`). Sentiment reads the title and the part of the
    content around subject mentions (`focus`); the other models read title and content whole.
    """

    def __init__(
        self,
        standard: Standard,
        models: TextModels,
        harms: HarmDetector,
        category_model: CategoryModel | None = None,
    ) -> None:
        self.standard = standard
        self.models = models
        self.harms = harms
        signals = standard.grading.signals
        self.signals = TermIndex(
            {name: signal.terms for name, signal in signals.items()},
            {name: signal.exclude for name, signal in signals.items()},
        )
        self.categorizer = KeywordCategorizer(standard)
        self.category_model = category_model

    @classmethod
    def load(cls, standard: Standard, models_dir: Path | None = None) -> Analyzer:
        """The shipped models, or retrained ones from `models_dir` where present; the office's
        category model too, if `yuqing train` made one."""
        directory = models_dir if models_dir is not None and models_dir.is_dir() else None
        codes = {c.code for c in standard.iter_categories()}
        analyzer = cls(
            standard,
            load_text_models(directory),
            HarmDetector(standard),
            load_category_model(directory, codes),
        )
        _settle_heap()
        return analyzer

    def analyze(self, docs: Sequence[Doc]) -> list[Analysis]:
        if not docs:
            return []
        whole = [title_and_content(d.title, d.content) for d in docs]
        scores = self.models.predict(whole)
        sentiment = scores.sentiment
        narrowed = [
            (i, text)
            for i, d in enumerate(docs)
            if d.mentions
            and (text := title_and_content(d.title, focus(d.content, d.mentions))) != whole[i]
        ]
        if narrowed:
            sentiment = sentiment.copy()
            sentiment[[i for i, _ in narrowed]] = self.models.sentiment([t for _, t in narrowed])
        # Scores are kept to 4 decimals (what the contract prints and the store keeps), rounded
        # here in one vector pass; the labels compare the unrounded scores to the thresholds.
        labels = np.argmax(sentiment, axis=1).tolist()
        polarity = np.round(sentiment[:, 2] - sentiment[:, 0], 4).tolist()
        rumor_scores = np.round(scores.rumor, 4).tolist()
        rumors = (scores.rumor >= self.models.rumor_threshold).tolist()
        offensive_scores = np.round(scores.offensive, 4).tolist()
        offensives = (scores.offensive >= self.models.offensive_threshold).tolist()
        categories = self.categorizer.categorize_many(
            [d.title for d in docs], [d.content for d in docs]
        )
        harms = self.harms.detect_many(whole)
        signals = self.signals.find_many(whole)
        if self.category_model is not None:
            categories = self.category_model.choose(whole, categories)
        results = []
        for i in range(len(docs)):
            results.append(
                Analysis(
                    sentiment=SENTIMENT_LABELS[labels[i]],
                    sentiment_score=polarity[i],
                    rumor_score=rumor_scores[i],
                    rumor=rumors[i],
                    offensive_score=offensive_scores[i],
                    offensive=offensives[i],
                    harms=[Harm(h.type, h.terms) for h in harms[i]],
                    category=categories[i],
                    signals=signals[i],
                )
            )
        return results


def _settle_heap() -> None:
    """Collect garbage once, then exempt every object alive now from later collections.

    The models and term lists are some 400,000 objects that live as long as the process;
    without this, every full collection walks them all again, which cost about a tenth of
    the analysis time in `benchmarks/analyze.py`. Collecting first keeps existing garbage
    from being frozen with them.
    """
    gc.collect()
    gc.freeze()
