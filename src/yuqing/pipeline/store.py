"""The last stage: write new items, sightings of known ones, and story links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from yuqing.domain.items import ref_id
from yuqing.pipeline.base import Batch
from yuqing.store import items as item_store


@dataclass(slots=True)
class StoreCounts:
    """What one or more batches did to the database."""

    imported: int = 0
    duplicates: int = 0
    snapshots: int = 0
    story_links: int = 0

    def add(self, other: StoreCounts) -> None:
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.snapshots += other.snapshots
        self.story_links += other.story_links


class SessionHolder(Protocol):
    """Gives the session of the batch in flight."""

    session: Session


class Store:
    """Bulk-insert a batch inside the caller's transaction (`session`)."""

    name = "store"

    def __init__(self, context: SessionHolder) -> None:
        self.context = context
        self.counts = StoreCounts()
        # When a caller answers per record (pushes), origin → (imported | duplicate, item id).
        self.outcomes: dict[str, tuple[str, int]] | None = None

    def process(self, batch: Batch) -> Batch:
        fresh = [i for i in batch.items if i.duplicate_of is None]
        self.counts.story_links += item_store.insert_items(self.context.session, fresh)
        self.counts.imported += len(fresh)
        sightings = [
            (target, item)
            for item in batch.items
            if (target := ref_id(item.duplicate_of)) is not None
        ]
        if self.outcomes is not None:
            for item in fresh:
                if item.id is not None:
                    self.outcomes[item.raw.origin] = ("imported", item.id)
            for target, item in sightings:
                self.outcomes[item.raw.origin] = ("duplicate", target)
        self.counts.duplicates += len(sightings)
        self.counts.snapshots += item_store.record_sightings(self.context.session, sightings)
        return batch
