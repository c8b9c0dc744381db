"""`yuqing analyze`: JSON lines in, one JSON line out per input line, nothing stored (SPEC 5).

Streaming in batches, so memory stays flat however long the input. Each output line carries
the input `id`; a line that cannot be analyzed becomes `{"id", "line", "error"}` in its place
and the stream goes on. Items are graded on their own: with no database there are no stories,
so story-level spread comes only from the item's own counters and media tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.domain import Item, RawItem, SubjectSpec
from yuqing.ingest.files import RowError
from yuqing.pipeline.analyze.analyzer import Analyzer
from yuqing.pipeline.analyze.stage import Analyze
from yuqing.pipeline.base import Batch, Stage
from yuqing.pipeline.grade import Grade, Grader, SubjectContext
from yuqing.pipeline.match import Match, SubjectMatcher
from yuqing.pipeline.normalize import Normalize
from yuqing.pipeline.subjects import SubjectInput
from yuqing.settings import Settings
from yuqing.standard import Standard


@dataclass(slots=True)
class AnalyzeCounts:
    """How many lines were analyzed and how many were rejected."""

    analyzed: int = 0
    errors: int = 0


def subject_specs(subjects: Sequence[SubjectInput]) -> list[SubjectSpec]:
    """Subjects of a `--subjects` file, numbered in file order."""
    return [
        SubjectSpec(id=n, name=s.name, aliases=s.aliases, exclude=s.exclude, rule=s.rule)
        for n, s in enumerate(subjects, start=1)
    ]


class ContractAnalyzer:
    """Normalize → match → analyze → grade, without storage, shaped as SPEC 5 says."""

    def __init__(
        self,
        settings: Settings,
        standard: Standard,
        analyzer: Analyzer,
        subjects: Sequence[SubjectSpec] = (),
    ) -> None:
        self.standard = standard
        context = SubjectContext(names={s.id: s.name for s in subjects})
        self._names = context.names
        self.stages: list[Stage] = [
            Normalize(
                ZoneInfo(settings.timezone), settings.max_content_chars, canonical_urls=False
            ),
            Match(SubjectMatcher(subjects)),
            Analyze(analyzer),
            Grade(Grader(standard), context),
        ]
        self.batch_size = settings.batch_size
        self.counts = AnalyzeCounts()

    def run(self, records: Iterable[RawItem | RowError]) -> Iterator[list[dict[str, Any]]]:
        """Per batch, one output object per input record, in input order."""
        iterator = iter(records)
        while chunk := list(islice(iterator, self.batch_size)):
            yield list(self._batch(chunk))

    def _batch(self, chunk: list[RawItem | RowError]) -> Iterator[dict[str, Any]]:
        batch = Batch(raw=[r for r in chunk if isinstance(r, RawItem)])
        for stage in self.stages:
            batch = stage.process(batch)
        by_origin: dict[str, dict[str, Any]] = {i.raw.origin: self.result(i) for i in batch.items}
        for error in batch.errors:
            by_origin[error.where] = {"line": error.line, "error": error.error}
        for record in chunk:
            if isinstance(record, RowError):
                self.counts.errors += 1
                yield {"id": record.id, "line": record.line, "error": record.error}
                continue
            out = by_origin[record.origin]
            if "error" in out:
                self.counts.errors += 1
                yield {"id": _given_id(record), **out}
            else:
                self.counts.analyzed += 1
                yield out

    def result(self, item: Item) -> dict[str, Any]:
        analysis, grading = item.analysis, item.grading
        assert analysis is not None and grading is not None  # set by the analyze/grade stages
        return {
            "id": _given_id(item.raw),
            # Scores come rounded to 4 decimals from the analyzer.
            "sentiment": {"label": analysis.sentiment, "score": analysis.sentiment_score},
            "rumor": {"score": analysis.rumor_score, "label": analysis.rumor},
            "offensive": {"score": analysis.offensive_score, "label": analysis.offensive},
            "harms": [h.as_dict() for h in analysis.harms],
            "category": {
                "code": analysis.category,
                "name": self.standard.category_name(analysis.category),
            },
            "grade": {
                "code": grading.code,
                "name": self.standard.grade_name(grading.code),
                "reasons": [r.as_dict() for r in grading.reasons],
            },
            "subjects": [self._names.get(s.subject_id, str(s.subject_id)) for s in item.subjects],
        }


def _given_id(raw: RawItem) -> str | int | float | None:
    return raw.input_id if raw.input_id is not None else raw.external_id
