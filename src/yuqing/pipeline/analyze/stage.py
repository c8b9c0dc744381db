"""Stage: analyze the new items of a batch (duplicates keep the stored analysis)."""

from __future__ import annotations

from yuqing.pipeline.analyze.analyzer import Analyzer, Doc
from yuqing.pipeline.base import Batch


class Analyze:
    """Fill `item.analysis` for every item that is not a repeat of a stored or earlier one."""

    name = "analyze"

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def process(self, batch: Batch) -> Batch:
        fresh = [i for i in batch.items if i.duplicate_of is None]
        docs = [
            Doc(
                item.match_title,
                item.match_content,
                tuple(
                    (span.start, span.end)
                    for match in item.subjects
                    for span in match.spans
                    if span.field == "content"
                ),
            )
            for item in fresh
        ]
        for item, analysis in zip(fresh, self.analyzer.analyze(docs), strict=True):
            item.analysis = analysis
        return batch
