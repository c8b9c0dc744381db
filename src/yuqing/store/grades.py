"""Analysis and grade columns, grade history, re-grading inputs and human review."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from yuqing.domain import Analysis, Grading, Harm, Item
from yuqing.errors import InputError
from yuqing.standard import Standard
from yuqing.store import audit
from yuqing.store.items import update_by_id
from yuqing.store.tables import GradeChange, Story
from yuqing.store.tables import Item as ItemRow

MACHINE = "machine"
HUMAN = "human"


def record_first_grades(session: Session, items: Sequence[Item], now: datetime) -> int:
    """A history row for the first machine grade of each freshly stored item.

    The grade itself went in with the row (`items.insert_items`).
    """
    rows = [
        {
            "item_id": i.id,
            "at": now,
            "by": MACHINE,
            "cause": "ingest",
            "previous": None,
            "grade": i.grading.code,
            "category": i.analysis.category,
            "reasons": [r.as_dict() for r in i.grading.reasons],
            "escalated": False,
        }
        for i in items
        if i.id is not None and i.analysis is not None and i.grading is not None
    ]
    if rows:
        session.execute(insert(GradeChange), rows)
    return len(rows)


@dataclass(slots=True)
class StoredItem:
    """What re-grading needs of a stored item."""

    id: int
    analysis: Analysis
    grade: str | None
    metrics: dict[str, int]
    media_tier: str
    platform: str
    region: str | None
    host: str | None
    story_id: int | None
    subject_ids: list[int] = field(default_factory=list)


def _analysis(row: Any) -> Analysis:
    return Analysis(
        sentiment=row.sentiment or "neutral",
        sentiment_score=row.sentiment_score or 0.0,
        rumor_score=row.rumor_score or 0.0,
        rumor=bool(row.rumor),
        offensive_score=row.offensive_score or 0.0,
        offensive=bool(row.offensive),
        harms=[Harm(h["type"], tuple(h["terms"])) for h in row.harms or []],
        category=row.category or "000",
        signals={name: tuple(terms) for name, terms in (row.signals or {}).items()},
    )


def load_stored(session: Session, item_ids: Iterable[int]) -> list[StoredItem]:
    """Analyzed items by id (unanalyzed ones are skipped), with their subject ids."""
    ids = sorted(set(item_ids))
    found: dict[int, StoredItem] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(ItemRow).where(ItemRow.id.in_(chunk), ItemRow.sentiment.is_not(None))
        ).scalars()
        for row in rows:
            found[row.id] = StoredItem(
                id=row.id,
                analysis=_analysis(row),
                grade=row.grade,
                metrics={
                    "views": row.views or 0,
                    "reposts": row.reposts or 0,
                    "comments": row.comments or 0,
                    "likes": row.likes or 0,
                },
                media_tier=row.media_tier,
                platform=row.platform,
                region=row.region,
                host=row.host,
                story_id=row.story_id,
                subject_ids=[s.subject_id for s in row.subjects],
            )
    return [found[i] for i in ids if i in found]


@dataclass(slots=True)
class StoryStats:
    """A story's reach: members, sites, regions and summed metrics."""

    items: int
    sites: int
    regions: set[str]
    metrics: dict[str, int]


def story_members(session: Session, story_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(story_ids))
    if not ids:
        return []
    return list(session.scalars(select(ItemRow.id).where(ItemRow.story_id.in_(ids))))


def story_stats(session: Session, story_ids: Iterable[int]) -> dict[int, StoryStats]:
    ids = sorted(set(story_ids))
    if not ids:
        return {}
    stats = {
        row.id: StoryStats(row.item_count, row.site_count, set(), {})
        for row in session.execute(
            select(Story.id, Story.item_count, Story.site_count).where(Story.id.in_(ids))
        )
    }
    sums = session.execute(
        select(
            ItemRow.story_id,
            func.coalesce(func.sum(ItemRow.views), 0),
            func.coalesce(func.sum(ItemRow.reposts), 0),
            func.coalesce(func.sum(ItemRow.comments), 0),
            func.coalesce(func.sum(ItemRow.likes), 0),
        )
        .where(ItemRow.story_id.in_(ids))
        .group_by(ItemRow.story_id)
    )
    for story_id, views, reposts, comments, likes in sums:
        if story_id in stats:
            stats[story_id].metrics = {
                "views": int(views or 0),
                "reposts": int(reposts or 0),
                "comments": int(comments or 0),
                "likes": int(likes or 0),
            }
    regions = session.execute(
        select(ItemRow.story_id, ItemRow.region)
        .where(ItemRow.story_id.in_(ids), ItemRow.region.is_not(None))
        .distinct()
    )
    for story_id, region in regions:
        if story_id in stats and region:
            stats[story_id].regions.add(region)
    return stats


@dataclass(frozen=True, slots=True)
class Regraded:
    """A machine grade that changed, and why."""

    item_id: int
    previous: str | None
    grading: Grading
    category: str
    cause: str
    escalated: bool


def apply_regrades(session: Session, changes: Sequence[Regraded], now: datetime) -> None:
    """Store changed machine grades and their history rows."""
    if not changes:
        return
    update_by_id(
        session,
        ItemRow,
        [
            {
                "id": c.item_id,
                "grade": c.grading.code,
                "grade_reasons": [r.as_dict() for r in c.grading.reasons],
                "graded_at": now,
            }
            for c in changes
        ],
    )
    session.execute(
        insert(GradeChange),
        [
            {
                "item_id": c.item_id,
                "at": now,
                "by": MACHINE,
                "cause": c.cause,
                "previous": c.previous,
                "grade": c.grading.code,
                "category": c.category,
                "reasons": [r.as_dict() for r in c.grading.reasons],
                "escalated": c.escalated,
            }
            for c in changes
        ],
    )


def review(
    session: Session,
    standard: Standard,
    item_id: int,
    *,
    actor: str,
    note: str,
    now: datetime,
    grade: str | None = None,
    category: str | None = None,
) -> ItemRow:
    """A monitor's grade and/or category for an item, with the reason; machine values stay.

    `actor` names the reviewer (the signed-in user's label); the change goes into the
    item's grade history and the audit log (`item.override`).
    """
    if not note.strip():
        raise InputError("note", "人工改判须填写理由")
    if len(note) > 2000:
        raise InputError("note", f"理由过长（{len(note)} 字，最多 2000）")
    if not actor.strip() or len(actor) > 100:
        raise InputError("by", "请填写改判人（最多 100 字）")
    if grade is None and category is None:
        raise InputError("grade", "请给出等级或分类（或两者）")
    grades = [g.code.value for g in standard.grades]
    if grade is not None and grade not in grades:
        raise InputError("grade", f"等级 {grade[:40]!r} 无效，可选：{'、'.join(grades)}")
    codes = [c.code for c in standard.iter_categories()]
    if category is not None and category not in codes:
        raise InputError("category", f"分类代码 {category[:40]!r} 不在分类体系中")
    row = session.get(ItemRow, item_id)
    if row is None:
        raise InputError("review", f"信息 {item_id} 不存在")
    previous = row.human_grade or row.grade
    previous_category = row.human_category or row.category
    if grade is not None:
        row.human_grade = grade
    if category is not None:
        row.human_category = category
    row.review_note = note.strip()
    row.reviewed_by = actor.strip()
    row.reviewed_at = now
    row.updated_at = now
    session.add(
        GradeChange(
            item_id=item_id,
            at=now,
            by=HUMAN,
            cause="override",
            previous=previous,
            grade=row.human_grade or row.grade,
            category=row.human_category or row.category,
            reasons=[],
            actor=actor.strip(),
            note=note.strip(),
            escalated=False,
        )
    )
    audit.record(
        session,
        actor=actor.strip(),
        action="item.override",
        target_type="item",
        target_id=item_id,
        detail={
            "previous": {"grade": previous, "category": previous_category},
            "new": {
                "grade": row.human_grade or row.grade,
                "category": row.human_category or row.category,
            },
            "note": note.strip(),
        },
        at=now,
    )
    return row


def history(session: Session, item_id: int) -> list[GradeChange]:
    """Every grade the item was given, oldest first."""
    return list(
        session.scalars(
            select(GradeChange).where(GradeChange.item_id == item_id).order_by(GradeChange.id)
        )
    )


def event_ids_of(session: Session, item_ids: Sequence[int]) -> set[int]:
    """The events the given items belong to."""
    found: set[int] = set()
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start : start + 500])
        found.update(
            e
            for e in session.scalars(select(ItemRow.event_id).where(ItemRow.id.in_(chunk)))
            if e is not None
        )
    return found


# A monitor's grade says how the item speaks of the organization: its sentiment label.
_SENTIMENT_OF_GRADE = {"positive": "positive", "general": "neutral"}


def confirmed_sentiment(session: Session, negative_grades: Iterable[str]) -> list[tuple[str, str]]:
    """(title + content, sentiment) of every item a monitor graded, for retraining."""
    labels = dict(_SENTIMENT_OF_GRADE)
    labels.update(dict.fromkeys(negative_grades, "negative"))
    rows = session.execute(
        select(ItemRow.title, ItemRow.content, ItemRow.human_grade).where(
            ItemRow.human_grade.is_not(None)
        )
    )
    return [
        (f"{title}\n{content}" if title else content, labels[grade])
        for title, content, grade in rows
        if grade in labels
    ]


def confirmed_categories(session: Session) -> list[tuple[str, str, str]]:
    """(title, content, category) of every item whose category a monitor set, for retraining."""
    rows = session.execute(
        select(ItemRow.title, ItemRow.content, ItemRow.human_category)
        .where(ItemRow.human_category.is_not(None))
        .order_by(ItemRow.id)
    )
    return [(title or "", content, category or "") for title, content, category in rows]
