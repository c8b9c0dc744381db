"""Stage after store: record the new grades, and grade again what the batch made spread.

A repost joining a story widens the spread of every item in it; a re-sighting with grown
counters widens the spread of the item it repeats. Both are graded again with the story's
figures; a grade that changes is stored with its cause, and a rise into or within the negative
grades is an escalation (`grade_history.escalated`), which alerting (#5) picks up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from yuqing.domain.items import ref_id
from yuqing.pipeline.base import Batch
from yuqing.pipeline.grade import GradeFacts, Grader, Spread, SubjectContext
from yuqing.pipeline.store import SessionHolder
from yuqing.store import grades as grade_store
from yuqing.store.events import refresh_events
from yuqing.store.grades import Regraded, StoredItem, StoryStats


class Regrade:
    """Persist first grades of new items; re-grade items whose story or counters grew."""

    name = "regrade"

    def __init__(
        self,
        context: SessionHolder,
        grader: Grader,
        subjects: SubjectContext,
        now: Callable[[], datetime],
    ) -> None:
        self.context = context
        self.grader = grader
        self.subjects = subjects
        self._now = now
        self.escalations = 0

    def process(self, batch: Batch) -> Batch:
        session = self.context.session
        now = self._now()
        fresh = [i for i in batch.items if i.duplicate_of is None and i.id is not None]
        grade_store.record_first_grades(session, fresh, now)
        stories = {i.story_id for i in fresh if i.story_id is not None}
        resighted = {target for i in batch.items if (target := ref_id(i.duplicate_of)) is not None}
        targets = set(grade_store.story_members(session, stories)) | resighted
        changes = self.regrade(
            targets, cause_of=lambda item: "story" if item.story_id in stories else "metrics"
        )
        grade_store.apply_regrades(session, changes, now)
        self.escalations += sum(c.escalated for c in changes)
        refresh_events(session, grade_store.event_ids_of(session, [c.item_id for c in changes]))
        return batch

    def regrade(
        self, item_ids: Iterable[int], cause_of: Callable[[StoredItem], str]
    ) -> list[Regraded]:
        """New machine grades for stored items, only those that differ from the stored one."""
        session = self.context.session
        items = grade_store.load_stored(session, item_ids)
        stats = grade_store.story_stats(session, {i.story_id for i in items if i.story_id})
        changes = []
        for item in items:
            grading = self.grader.grade(self._facts(item, stats.get(item.story_id or 0)))
            if grading.code == item.grade:
                continue
            changes.append(
                Regraded(
                    item_id=item.id,
                    previous=item.grade,
                    grading=grading,
                    category=item.analysis.category,
                    cause=cause_of(item),
                    escalated=self.is_escalation(item.grade, grading.code),
                )
            )
        return changes

    def is_escalation(self, previous: str | None, new: str) -> bool:
        standard = self.grader.standard
        if not standard.grade(new).negative:
            return False
        return previous is None or self.grader.rank(new) > self.grader.rank(previous)

    def _facts(self, item: StoredItem, story: StoryStats | None) -> GradeFacts:
        metrics = dict(item.metrics)
        regions: set[str] = {item.region} if item.region else set()
        if story is not None:
            metrics = {k: max(v, story.metrics.get(k, 0)) for k, v in metrics.items()}
            regions |= story.regions
        spread = Spread(
            **metrics,
            sites=story.sites if story else 1,
            story_items=story.items if story else 1,
            media_tier=item.media_tier,
            platform=item.platform,
        )
        return self.subjects.facts(item.analysis, item.subject_ids, spread, regions)
