"""Event rows: the reads and writes that form events, their recount, and the paged list.

Event formation itself (which item joins which event) is decided in `pipeline.events`; this
module only reads the facts it needs and writes its decisions. The list of events and the
detail of one (timeline, propagation, volume curve) are in `store.event_browse`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from yuqing.domain.text import to_match_text
from yuqing.standard import load_standard
from yuqing.store.tables import Event, Item, ItemSubject, Subject, utcnow

TITLE_CHARS = 80
_SENTENCE_END = re.compile(r"[。！？!?\n]")


@dataclass(slots=True)
class ItemFacts:
    """What event formation needs to know about one stored item."""

    id: int
    story_id: int | None
    event_id: int | None
    when: datetime
    text: str  # folded title (twice: it weighs more) and the start of the content
    alarms: frozenset[str]  # folded crisis, attack and harm terms found by analysis
    subjects: dict[int, int]  # subject id → length of the longest term that matched it


@dataclass(slots=True)
class OpenEvent:
    """An event that new items may join: its time span, key terms and subjects."""

    id: int
    first_seen_at: datetime
    last_seen_at: datetime
    key_terms: list[str]
    subjects: set[int]
    item_count: int


def _when(published: datetime | None, discovered: datetime) -> datetime:
    return published or discovered


def _alarm_terms(signals: Any, harms: Any) -> frozenset[str]:
    terms: set[str] = set()
    if isinstance(signals, dict):
        for found in signals.values():
            if isinstance(found, list | tuple):
                terms.update(t for t in found if isinstance(t, str))
    if isinstance(harms, list):
        for harm in harms:
            if isinstance(harm, dict) and isinstance(harm.get("terms"), list):
                terms.update(t for t in harm["terms"] if isinstance(t, str))
    return frozenset(f for t in terms if (f := to_match_text(t).strip()))


def item_facts(session: Session, item_ids: Collection[int], text_chars: int) -> list[ItemFacts]:
    """Facts of the given items (in id order); content is cut to `text_chars` in the database."""
    if not item_ids:
        return []
    rows = session.execute(
        select(
            Item.id,
            Item.story_id,
            Item.event_id,
            Item.published_at,
            Item.discovered_at,
            Item.title,
            func.substr(Item.content, 1, text_chars),
            Item.signals,
            Item.harms,
        )
        .where(Item.id.in_(item_ids))
        .order_by(Item.id)
    ).all()
    specificity: dict[int, dict[int, int]] = {}
    for item_id, subject_id, spans in session.execute(
        select(ItemSubject.item_id, ItemSubject.subject_id, ItemSubject.spans).where(
            ItemSubject.item_id.in_(item_ids)
        )
    ):
        longest = max((len(s.get("term") or "") for s in spans or []), default=0)
        specificity.setdefault(item_id, {})[subject_id] = longest
    return [
        ItemFacts(
            id=r[0],
            story_id=r[1],
            event_id=r[2],
            when=_when(r[3], r[4]),
            text=to_match_text(f"{r[5] or ''}\n{r[5] or ''}\n{r[6] or ''}"),
            alarms=_alarm_terms(r[7], r[8]),
            subjects=specificity.get(r[0], {}),
        )
        for r in rows
    ]


def subject_info(
    session: Session, subject_ids: Collection[int]
) -> dict[int, tuple[tuple[str, ...], int | None]]:
    """Subject id → (its folded name and aliases, its unit id)."""
    if not subject_ids:
        return {}
    rows = session.execute(
        select(Subject.id, Subject.name, Subject.aliases, Subject.unit_id).where(
            Subject.id.in_(subject_ids)
        )
    )
    return {
        sid: (tuple(to_match_text(n) for n in [name, *(aliases or [])] if n), unit_id)
        for sid, name, aliases, unit_id in rows
    }


def all_subject_names(session: Session) -> list[tuple[str, ...]]:
    """The folded name and aliases of every subject, one tuple per subject."""
    return [
        tuple(to_match_text(n) for n in [name, *(aliases or [])] if n)
        for name, aliases in session.execute(select(Subject.name, Subject.aliases))
    ]


def story_events(session: Session, story_ids: Collection[int]) -> dict[int, int]:
    """Story id → the event its members belong to (the oldest one if several)."""
    if not story_ids:
        return {}
    rows = session.execute(
        select(Item.story_id, func.min(Item.event_id))
        .where(Item.story_id.in_(story_ids), Item.event_id.is_not(None))
        .group_by(Item.story_id)
    )
    return {story_id: event_id for story_id, event_id in rows if story_id and event_id}


def open_events(
    session: Session, subject_ids: Collection[int], since: datetime, until: datetime
) -> list[OpenEvent]:
    """Events active between `since` and `until` whose subject, or one of whose items'
    subjects, is among `subject_ids`; each with every subject its items matched."""
    if not subject_ids:
        return []
    active = (Event.last_seen_at >= since) & (Event.first_seen_at <= until)
    via_items = (
        select(Item.event_id)
        .join(ItemSubject, ItemSubject.item_id == Item.id)
        .where(ItemSubject.subject_id.in_(subject_ids), Item.event_id.is_not(None))
    )
    events = session.execute(
        select(
            Event.id,
            Event.first_seen_at,
            Event.last_seen_at,
            Event.key_terms,
            Event.subject_id,
            Event.item_count,
        )
        .where(active, Event.subject_id.in_(subject_ids) | Event.id.in_(via_items))
        .order_by(Event.id)
    ).all()
    found = {
        e[0]: OpenEvent(e[0], e[1], e[2], list(e[3] or []), {e[4]} if e[4] else set(), e[5])
        for e in events
    }
    if found:
        for event_id, subject_id in session.execute(
            select(Item.event_id, ItemSubject.subject_id)
            .join(ItemSubject, ItemSubject.item_id == Item.id)
            .where(Item.event_id.in_(found))
            .distinct()
        ):
            if event_id is not None:
                found[event_id].subjects.add(subject_id)
    return list(found.values())


def sample_items(session: Session, event_ids: Collection[int], limit: int) -> dict[int, list[int]]:
    """Per event, its earliest item and its newest items, one per story, `limit` in all: the
    texts its key terms come from (reposts would only repeat their story's words)."""
    if not event_ids:
        return {}
    when = func.coalesce(Item.published_at, Item.discovered_at)
    ranked = (
        select(
            Item.event_id,
            Item.id,
            Item.story_id,
            func.row_number()
            .over(partition_by=Item.event_id, order_by=(when.desc(), Item.id.desc()))
            .label("new"),
            func.row_number()
            .over(partition_by=Item.event_id, order_by=(when, Item.id))
            .label("old"),
        )
        .where(Item.event_id.in_(event_ids))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.event_id, ranked.c.id, ranked.c.story_id, ranked.c.old)
        .where((ranked.c.new <= limit * 4) | (ranked.c.old == 1))
        .order_by(ranked.c.event_id, ranked.c.new)
    ).all()
    picked: dict[int, list[int]] = {}
    stories: dict[int, set[int | None]] = {}
    for event_id, item_id, story_id, old in rows:
        if old == 1:
            picked.setdefault(event_id, []).insert(0, item_id)
            stories.setdefault(event_id, set()).add(story_id)
    for event_id, item_id, story_id, old in rows:
        chosen, seen = picked[event_id], stories[event_id]
        if old == 1 or len(chosen) >= limit or (story_id is not None and story_id in seen):
            continue
        seen.add(story_id)
        chosen.append(item_id)
    return picked


def create_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert new, empty events (subject, unit, time span) in one statement; their ids in
    order. `refresh_events` fills titles and figures.

    SQLite cannot batch `INSERT … RETURNING` in order, so there the ids are assigned inside
    the write transaction (as for items); PostgreSQL returns them in parameter order.
    """
    if not rows:
        return []
    now = utcnow()
    empty = {
        "title": "",
        "key_terms": [],
        "item_count": 0,
        "site_count": 0,
        "platform_count": 0,
        "views": 0,
        "reposts": 0,
        "comments": 0,
        "likes": 0,
        "created_at": now,
        "updated_at": now,
    }
    values = [{**empty, **row} for row in rows]
    if session.get_bind().dialect.name != "sqlite":
        return list(
            session.scalars(
                insert(Event).returning(Event.id, sort_by_parameter_order=True), values
            ).all()
        )
    first = (session.scalar(select(func.max(Event.id))) or 0) + 1
    ids = list(range(first, first + len(values)))
    session.execute(insert(Event), [{**v, "id": i} for v, i in zip(values, ids, strict=True)])
    return ids


def link_items(
    session: Session, item_events: Mapping[int, int], story_events: Mapping[int, int]
) -> None:
    """Put items in events, and every story member not yet in one into its story's event."""
    if item_events:
        session.execute(
            update(Item), [{"id": i, "event_id": e} for i, e in sorted(item_events.items())]
        )
    for story_id, event_id in sorted(story_events.items()):
        session.execute(
            update(Item)
            .where(Item.story_id == story_id, Item.event_id.is_(None))
            .values(event_id=event_id)
        )


def update_events(session: Session, values: Mapping[int, Mapping[str, Any]]) -> None:
    """Write column values per event id (key terms, time span)."""
    if values:
        session.execute(update(Event), [{"id": e, **v} for e, v in sorted(values.items())])


def events_of_items(session: Session, item_ids: Collection[int]) -> dict[int, int]:
    """Item id → event id, for the given items that are in an event."""
    if not item_ids:
        return {}
    rows = session.execute(
        select(Item.id, Item.event_id).where(Item.id.in_(item_ids), Item.event_id.is_not(None))
    )
    return {item_id: event_id for item_id, event_id in rows if event_id is not None}


def effective(machine: str | None, human: str | None) -> str | None:
    """A monitor's value wins over the machine's."""
    return human or machine


def title_of(title: str | None, content: str | None) -> str:
    """An item's title, or the first sentence of its content (Weibo posts have no title)."""
    text = " ".join((title or "").split())
    if not text:
        first = _SENTENCE_END.split((content or "").strip(), maxsplit=1)[0]
        text = " ".join(first.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def _main_category(members: Sequence[tuple[str | None, str | None]], top: str | None) -> str | None:
    """The most common category among the members with the top grade (smallest code on ties)."""
    pool = [c for g, c in members if c and (top is None or g == top)] or [
        c for _, c in members if c
    ]
    if not pool:
        return None
    counts = Counter(pool)
    return min(counts, key=lambda c: (-counts[c], c))


def refresh_events(session: Session, event_ids: Iterable[int]) -> None:
    """Recompute origin, first/last seen, counts, spread totals, grade, category and title.

    Call it after items join an event, after their metrics grow, and after a re-grade or a
    human override. An event left without items is deleted.
    """
    ids = sorted(set(event_ids))
    if not ids:
        return
    rank = {g.code.value: g.rank for g in load_standard().grades}
    members: dict[int, list[Any]] = {e: [] for e in ids}
    for row in session.execute(
        select(
            Item.event_id,
            Item.id,
            Item.host,
            Item.platform,
            Item.published_at,
            Item.discovered_at,
            Item.views,
            Item.reposts,
            Item.comments,
            Item.likes,
            Item.grade,
            Item.human_grade,
            Item.category,
            Item.human_category,
        ).where(Item.event_id.in_(ids))
    ):
        if row[0] is not None:
            members[row[0]].append(row)
    present = [e for e, rows in members.items() if rows]
    gone = [e for e, rows in members.items() if not rows]
    if gone:
        session.execute(delete(Event).where(Event.id.in_(gone)))
    origins = {e: min(members[e], key=lambda r: (_when(r[4], r[5]), r[1]))[1] for e in present}
    texts = {
        item_id: (title, content)
        for item_id, title, content in session.execute(
            select(Item.id, Item.title, func.substr(Item.content, 1, 400)).where(
                Item.id.in_(origins.values())
            )
        )
    }
    now = utcnow()
    values = []
    for event_id in present:
        rows = members[event_id]
        origin = next(r for r in rows if r[1] == origins[event_id])
        grades = [(effective(r[10], r[11]), effective(r[12], r[13])) for r in rows]
        known = [g for g, _ in grades if g in rank]
        top = max(known, key=lambda g: rank[g]) if known else None
        values.append(
            {
                "id": event_id,
                "title": title_of(*texts[origin[1]]),
                "origin_item_id": origin[1],
                "first_seen_at": _when(origin[4], origin[5]),
                "last_seen_at": max(_when(r[4], r[5]) for r in rows),
                "item_count": len(rows),
                "site_count": len({r[2] or f"item:{r[1]}" for r in rows}),
                "platform_count": len({r[3] for r in rows}),
                "views": sum(r[6] or 0 for r in rows),
                "reposts": sum(r[7] or 0 for r in rows),
                "comments": sum(r[8] or 0 for r in rows),
                "likes": sum(r[9] or 0 for r in rows),
                "grade": top,
                "category": _main_category(grades, top),
                "updated_at": now,
            }
        )
    if values:
        session.execute(update(Event), values)
