"""`yuqing import FILE`: read a file, run it through the pipeline, report counts and errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from yuqing.domain import RawItem
from yuqing.ingest.files import RowError, read_records
from yuqing.pipeline.base import ItemError
from yuqing.pipeline.run import IngestReport, Pipeline
from yuqing.settings import Settings
from yuqing.store.db import Database
from yuqing.store.subjects import subject_specs


def as_pipeline_records(records: Iterable[RawItem | RowError]) -> Iterator[RawItem | ItemError]:
    """Reader rows → pipeline records; a reader's row error becomes a record error."""
    for record in records:
        if isinstance(record, RowError):
            yield ItemError(where=record.where, error=record.error, line=record.line)
        else:
            yield record


def make_pipeline(db: Database, settings: Settings) -> Pipeline:
    """A pipeline matching the subjects currently stored."""
    with db.session() as session:
        specs = subject_specs(session)
    return Pipeline(db, settings, specs)


def import_records(
    db: Database,
    settings: Settings,
    records: Iterable[RawItem | RowError],
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Run already-read records through the pipeline into the database."""
    return make_pipeline(db, settings).run(as_pipeline_records(records), progress)


def import_file(
    db: Database,
    settings: Settings,
    path: Path,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Import a JSONL, JSON, CSV, TSV or XLSX file; bad rows are reported, good rows kept."""
    records = read_records(path, max_field_chars=settings.max_content_chars)
    return import_records(db, settings, records, progress)


def count_lines(path: Path) -> int | None:
    """A quick line count for a progress bar (None for formats without lines)."""
    if path.suffix.lower() not in {".jsonl", ".ndjson", ".csv", ".tsv"}:
        return None
    total = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            total += chunk.count(b"\n")
    return total
