"""The pipeline: its stage order, and the loop that feeds it batches in transactions.

Order (SPEC 4): normalize → dedupe → match → analyze → grade → events → store → alert. Here
store comes before regrade and events, which need the stored ids and story links; alert arrives
with #5 and slots into `STAGE_ORDER` after them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from yuqing.domain import RawItem, SubjectSpec
from yuqing.errors import ConfigError, StorageError
from yuqing.pipeline.analyze.analyzer import Analyzer
from yuqing.pipeline.analyze.stage import Analyze
from yuqing.pipeline.base import Batch, ItemError, Stage
from yuqing.pipeline.dedupe import Dedupe, SimilarityIndex, signature_from_bytes
from yuqing.pipeline.events import Events
from yuqing.pipeline.grade import Grade, Grader, SubjectContext
from yuqing.pipeline.match import Match, SubjectMatcher
from yuqing.pipeline.normalize import Normalize
from yuqing.pipeline.regrade import Regrade
from yuqing.pipeline.store import Store, StoreCounts
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store import items as item_store
from yuqing.store import units as unit_store
from yuqing.store.db import Database

STAGE_ORDER = (
    "normalize",
    "dedupe",
    "match",
    "analyze",
    "grade",
    "store",
    "regrade",
    "events",
)
"""Stage names in the order they run."""
INGEST_STAGES = ("normalize", "dedupe", "match", "store")
"""The ingest slice alone, without analysis: what the ingest benchmark measures."""


@dataclass(slots=True)
class IngestReport:
    """What a run did; `as_dict` is the `yuqing import --json` shape."""

    read: int = 0
    counts: StoreCounts = field(default_factory=StoreCounts)
    errors: list[ItemError] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    # Only with `Pipeline.run(..., outcomes=True)`: origin → (imported | duplicate, item id).
    outcomes: dict[str, tuple[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "imported": self.counts.imported,
            "duplicates": self.counts.duplicates,
            "errors": [e.as_dict() for e in self.errors],
            "read": self.read,
            "snapshots": self.counts.snapshots,
            "story_links": self.counts.story_links,
            "seconds": round(self.seconds, 3),
        }


MODELS_DIR = "models"
"""Retrained models (`yuqing train`) live in this folder of the data directory."""


class _Context:
    """The session of the batch in flight, for stages that read or write the database."""

    session: Session


class Pipeline:
    """Normalize, dedupe, match and store records in batches, one transaction per batch.

    A batch that fails to store is rolled back whole and raises StorageError; every batch
    before it stays committed, so an interrupted import loses nothing it reported, and running
    the same input again only records sightings.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        subjects: Iterable[SubjectSpec] = (),
        *,
        now: Callable[[], datetime] | None = None,
        stages: Sequence[str] = STAGE_ORDER,
    ) -> None:
        self.db = db
        self.settings = settings
        self._now = now or (lambda: datetime.now(UTC))
        self._context = _Context()
        self.index = SimilarityIndex()
        since = self._now() - timedelta(days=settings.story_window_days)
        with db.session() as session:
            for item_id, raw in item_store.iter_signatures(session, since):
                self.index.add(item_id, signature_from_bytes(raw))
        subjects = list(subjects)
        self.store = Store(self._context)
        builders: dict[str, Callable[[], Stage]] = {
            "normalize": lambda: Normalize(
                ZoneInfo(settings.timezone), settings.max_content_chars, now=self._now
            ),
            "dedupe": lambda: Dedupe(
                self.index,
                lambda urls, hashes: item_store.lookup_exact(self._context.session, urls, hashes),
                settings.near_duplicate_threshold,
            ),
            "match": lambda: Match(SubjectMatcher(subjects)),
            "analyze": lambda: Analyze(
                Analyzer.load(self.standard, settings.data_dir / MODELS_DIR)
            ),
            "grade": lambda: Grade(self.grader, self.subject_context),
            "store": lambda: self.store,
            "regrade": lambda: Regrade(self._context, self.grader, self.subject_context, self._now),
            "events": lambda: Events(self._context, settings),
        }
        unknown = [name for name in stages if name not in builders]
        if unknown:
            raise ConfigError(
                f"未知的流水线环节：{'、'.join(unknown)}；可用的有：{'、'.join(builders)}"
            )
        self.standard = load_standard(settings.standard_dir, settings.taxonomy)
        self.grader = Grader(self.standard)
        with db.session() as session:
            regions = unit_store.unit_regions(session)
            parents = unit_store.unit_parents(session)
        self.subject_context = SubjectContext(
            names={s.id: s.name for s in subjects},
            units={s.id: (s.unit_id, regions.get(s.unit_id or 0)) for s in subjects},
            parents=parents,
            regions=regions,
        )
        self.stages = [builders[name]() for name in stages]

    def run(
        self,
        records: Iterable[RawItem | ItemError],
        progress: Callable[[int], None] | None = None,
        *,
        outcomes: bool = False,
    ) -> IngestReport:
        """Run every record through the stages; errors are collected, never raised per record.

        With `outcomes`, the report also says per record origin whether it became a new item
        or a sighting of a known one, and that item's id (for callers answering per record).
        """
        report = IngestReport(stage_seconds={s.name: 0.0 for s in self.stages})
        self.store.outcomes = report.outcomes if outcomes else None
        started = time.perf_counter()
        for chunk in _chunks(records, self.settings.batch_size):
            batch = Batch()
            for record in chunk:
                if isinstance(record, ItemError):
                    batch.errors.append(record)
                else:
                    batch.raw.append(record)
            report.read += len(chunk)
            self._run_batch(batch, report)
            report.errors.extend(batch.errors)
            if progress is not None:
                progress(len(chunk))
        report.seconds = time.perf_counter() - started
        return report

    def _run_batch(self, batch: Batch, report: IngestReport) -> None:
        try:
            with self.db.session() as session:
                self._context.session = session
                self.store.counts = StoreCounts()
                for stage in self.stages:
                    began = time.perf_counter()
                    batch = stage.process(batch)
                    report.stage_seconds[stage.name] += time.perf_counter() - began
            report.counts.add(self.store.counts)
            self.index.commit()
        except SQLAlchemyError as exc:
            self.index.rollback()
            raise StorageError(
                f"写入数据库失败，本批 {len(batch.raw)} 条已回滚，之前的批次已保存：{exc}"
            ) from exc
        except BaseException:
            self.index.rollback()
            raise


def _chunks(
    records: Iterable[RawItem | ItemError], size: int
) -> Iterator[list[RawItem | ItemError]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk
