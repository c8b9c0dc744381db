"""Events: items and stories about one matter, formed after the items are stored.

An item joins an event when

1. it belongs to a story (near-duplicates) whose items are already in an event; or
2. it matched a monitored subject that an open event's items also matched — open meaning the
   event was active within `event_window_hours` of the item — and it shares enough key terms
   with the event: at least `event_min_shared_terms`, or one crisis, attack or harm term.

Otherwise an item that matched a subject starts a new event; an item that matched none and
has no story in an event forms none. When an item joins, the other members of its story join
too, so reposts seen before the matter became an event are not left out.

Key terms are an item's salient words: rjieba tokens of its title (counted twice) and the
start of its content, weighted by term frequency × IDF (the table `training/build_idf.py`
builds from the labelled corpora), minus the names and aliases of the subjects it matched —
those say who, not what. An event's key terms are the terms most shared among its origin and
newest items (one per story), crisis and harm terms first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import rjieba
from sqlalchemy.orm import Session

from yuqing.pipeline.base import Batch
from yuqing.pipeline.store import SessionHolder
from yuqing.settings import Settings
from yuqing.store import events as event_store
from yuqing.store.events import ItemFacts, refresh_events

__all__ = [
    "IDF_FILE",
    "Events",
    "IdfTable",
    "KeyTerms",
    "assign_events",
    "is_candidate_term",
    "load_idf",
    "refresh_events",
]

IDF_FILE = Path(__file__).parent / "analyze" / "artifacts" / "idf.tsv"
TEXT_CHARS = 3000
"""Characters of content read for key terms: the lead of an article says what it is about."""
SAMPLE_ITEMS = 30
"""Items (one per story) an event's key terms are computed from: its origin and newest."""
MIN_IDF = 5.0
"""Words more common than this (IDF below 5: in more than ~2% of texts) are never key terms."""
_KEPT_TAGS = ("n", "v", "s", "j", "i", "l", "eng", "an")
"""Part-of-speech tags (jieba's tag set) of words that can say what a matter is: nouns, verbs,
places, abbreviations, idioms, Latin words. Pronouns, adverbs, conjunctions, time words,
numerals and particles cannot."""

_TERM = re.compile(r"[\u4e00-\u9fff]{2,12}|[a-z][a-z0-9]{1,19}")


def is_candidate_term(word: str) -> bool:
    """A word that may be a key term: two or more Chinese characters, or a Latin word."""
    return _TERM.fullmatch(word) is not None


@dataclass(frozen=True, slots=True)
class IdfTable:
    """Inverse document frequency by word; a word not listed is rare and gets `default`."""

    weights: Mapping[str, float]
    default: float

    def __call__(self, term: str) -> float:
        return self.weights.get(term, self.default)


@cache
def load_idf(path: Path = IDF_FILE) -> IdfTable:
    """The table written by `training/build_idf.py` (header line, then `term<TAB>idf`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = dict(part.split("=", 1) for part in lines[0].lstrip("# ").split() if "=" in part)
    weights = {}
    for line in lines[1:]:
        term, value = line.split("\t")
        weights[term] = float(value)
    return IdfTable(weights, float(header["default"]))


class KeyTerms:
    """The salient words of a folded text, best first."""

    def __init__(self, idf: IdfTable, count: int) -> None:
        self.idf = idf
        self.count = count

    def of(
        self,
        text: str,
        exclude: Collection[str],
        alarms: Collection[str],
        stop: Collection[str] = (),
    ) -> list[str]:
        """Top `count` words by tf × IDF, without the `exclude` names and `stop` words;
        alarm terms (crisis, attack, harm) found in the text come first."""
        for name in sorted(exclude, key=len, reverse=True):
            text = text.replace(name, " ")
        counts = Counter(
            w for w, tag in rjieba.tag(text) if tag.startswith(_KEPT_TAGS) and is_candidate_term(w)
        )
        scores = {
            w: n * self.idf(w)
            for w, n in counts.items()
            if self.idf(w) >= MIN_IDF and w not in exclude and w not in stop
        }
        found = sorted(a for a in alarms if a in text)
        ranked = sorted(scores, key=lambda w: (-scores[w], w))
        return [*found, *(w for w in ranked if w not in found)][: self.count]

    def common(self, docs: Sequence[list[str]], alarms: Collection[str]) -> list[str]:
        """The key terms of a set of documents: most documents × IDF; alarms first (a third)."""
        counts = Counter(t for doc in docs for t in set(doc))
        ranked = sorted(counts, key=lambda t: (-counts[t] * self.idf(t), t))
        first = [t for t in ranked if t in alarms][: max(1, self.count // 3)]
        return [*first, *(t for t in ranked if t not in first)][: self.count]


def name_parts(names: Iterable[Sequence[str]]) -> frozenset[str]:
    """Words found in the names of two or more subjects (云岭, 农商, 支行 of 云岭农商银行陆良支行
    and 云岭农商银行宣威支行): they name the organization, not a matter. A word of one subject
    only (陆良) stays: it tells where the matter is."""
    counts: Counter[str] = Counter()
    for aliases in names:
        counts.update({w for name in aliases for w in rjieba.cut(name) if is_candidate_term(w)})
    return frozenset(w for w, n in counts.items() if n >= 2)


@dataclass(slots=True)
class _Open:
    """An event that items of this batch may join, as formation sees it in memory."""

    id: int
    first: datetime
    last: datetime
    subjects: set[int]
    # Term → weight standing in for "documents of the event with this term" within the batch;
    # assign_events recomputes the real key terms from stored items at the end.
    profile: Counter[str] = field(default_factory=Counter)
    _terms: set[str] | None = None

    def terms(self, count: int, idf: IdfTable) -> set[str]:
        if self._terms is None:
            ranked = sorted(self.profile, key=lambda t: (-self.profile[t] * idf(t), t))
            self._terms = set(ranked[:count])
        return self._terms

    def add(self, when: datetime, subjects: Iterable[int], terms: Iterable[str]) -> None:
        self.first = min(self.first, when)
        self.last = max(self.last, when)
        self.subjects.update(subjects)
        self.profile.update(set(terms))
        self._terms = None


class _Formation:
    """One call of `assign_events`: the state shared by the items of a batch."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.window = timedelta(hours=settings.event_window_hours)
        self.min_shared = settings.event_min_shared_terms
        self.keys = KeyTerms(load_idf(), settings.event_key_terms)
        self.subjects: dict[int, tuple[tuple[str, ...], int | None]] = {}
        self.opens: dict[int, _Open] = {}
        self.new: dict[int, dict[str, object]] = {}
        self.stop = name_parts(event_store.all_subject_names(session))

    def names(self, subject_ids: Iterable[int]) -> set[str]:
        return {n for s in subject_ids for n in self.subjects.get(s, ((), None))[0]}

    def item_terms(self, fact: ItemFacts) -> list[str]:
        return self.keys.of(fact.text, self.names(fact.subjects), fact.alarms, self.stop)

    def best(self, fact: ItemFacts, terms: list[str]) -> int | None:
        """The open event this item is most about, or None."""
        wanted = set(terms)
        best: tuple[float, datetime, int] | None = None
        for state in self.opens.values():
            if not state.subjects & fact.subjects.keys():
                continue
            if not state.first - self.window <= fact.when <= state.last + self.window:
                continue
            shared = wanted & state.terms(self.keys.count, self.keys.idf)
            if len(shared) < self.min_shared and not shared & fact.alarms:
                continue
            score = (sum(self.keys.idf(t) for t in shared), state.last, -state.id)
            if best is None or score > best:
                best = score
        return -best[2] if best is not None else None

    def create(self, fact: ItemFacts) -> int:
        """A new event, under a provisional negative id until `assign` writes them all."""
        # The most specific subject (the longest name matched) is what the event is about.
        subject_id = max(fact.subjects, key=lambda s: (fact.subjects[s], -s))
        event_id = -(len(self.new) + 1)
        self.new[event_id] = {
            "subject_id": subject_id,
            "unit_id": self.subjects.get(subject_id, ((), None))[1],
            "first_seen_at": fact.when,
            "last_seen_at": fact.when,
        }
        self.opens[event_id] = _Open(event_id, fact.when, fact.when, set(fact.subjects))
        return event_id

    def assign(self, item_ids: Sequence[int]) -> set[int]:
        facts = [
            f
            for f in event_store.item_facts(self.session, item_ids, TEXT_CHARS)
            if f.event_id is None
        ]
        if not facts:
            return set()
        facts.sort(key=lambda f: (f.when, f.id))
        subject_ids = {s for f in facts for s in f.subjects}
        self.subjects = event_store.subject_info(self.session, subject_ids)
        by_story = event_store.story_events(
            self.session, {f.story_id for f in facts if f.story_id is not None}
        )
        since = facts[0].when - self.window
        until = facts[-1].when + self.window
        for found in event_store.open_events(self.session, subject_ids, since, until):
            # Stored key terms stand for about half the documents they were computed from.
            weight = max(1, min(found.item_count, SAMPLE_ITEMS) // 2)
            self.opens[found.id] = _Open(
                found.id,
                found.first_seen_at,
                found.last_seen_at,
                found.subjects,
                Counter(dict.fromkeys(found.key_terms, weight)),
            )
        joined: dict[int, int] = {}
        story_links: dict[int, int] = {}
        for fact in facts:
            event_id = by_story.get(fact.story_id) if fact.story_id is not None else None
            if event_id is None and not fact.subjects:
                continue
            terms = self.item_terms(fact)
            if event_id is None:
                event_id = self.best(fact, terms) or self.create(fact)
            joined[fact.id] = event_id
            if fact.story_id is not None:
                by_story[fact.story_id] = story_links[fact.story_id] = event_id
            if event_id in self.opens:
                self.opens[event_id].add(fact.when, fact.subjects, terms)
        created = event_store.create_events(self.session, list(self.new.values()))
        real = dict(zip(self.new, created, strict=True))
        joined = {i: real.get(e, e) for i, e in joined.items()}
        story_links = {s: real.get(e, e) for s, e in story_links.items()}
        self.opens = {real.get(e, e): state for e, state in self.opens.items()}
        touched = set(joined.values())
        event_store.link_items(self.session, joined, story_links)
        # Time spans now, so that the next batch sees them even before `refresh_events`.
        values: dict[int, dict[str, object]] = {
            e: {"key_terms": terms} for e, terms in self.event_terms(touched).items()
        }
        for event_id in touched & self.opens.keys():
            state = self.opens[event_id]
            values[event_id].update(first_seen_at=state.first, last_seen_at=state.last)
        event_store.update_events(self.session, values)
        return touched

    def event_terms(self, event_ids: Collection[int]) -> dict[int, list[str]]:
        """Key terms of each event from its stored origin and newest items."""
        samples = event_store.sample_items(self.session, event_ids, SAMPLE_ITEMS)
        facts = event_store.item_facts(
            self.session, {i for ids in samples.values() for i in ids}, TEXT_CHARS
        )
        by_id = {f.id: f for f in facts}
        missing = {s for f in facts for s in f.subjects} - self.subjects.keys()
        self.subjects.update(event_store.subject_info(self.session, missing))
        result: dict[int, list[str]] = {}
        for event_id, ids in samples.items():
            members = [by_id[i] for i in ids if i in by_id]
            names = self.names({s for f in members for s in f.subjects})
            alarms = {a for f in members for a in f.alarms}
            docs = [self.keys.of(f.text, names, f.alarms, self.stop) for f in members]
            result[event_id] = self.keys.common(docs, alarms)
        return result


def assign_events(session: Session, item_ids: Sequence[int], settings: Settings) -> set[int]:
    """Put stored items into events (new or existing) inside the caller's transaction.

    Items already in an event are left alone. Returns the ids of the events that gained
    items; call `refresh_events` on them to recount their figures.
    """
    return _Formation(session, settings).assign(item_ids)


class Events:
    """The stage after store: form events from the batch's new items, recount the events
    they joined and those whose items were seen again with new metrics."""

    name = "events"

    def __init__(self, context: SessionHolder, settings: Settings) -> None:
        self.context = context
        self.settings = settings

    def process(self, batch: Batch) -> Batch:
        session = self.context.session
        fresh = [i.id for i in batch.items if i.id is not None and i.duplicate_of is None]
        touched = assign_events(session, fresh, self.settings)
        seen_again = [d for i in batch.items if isinstance(d := i.duplicate_of, int)]
        touched |= set(event_store.events_of_items(session, seen_again).values())
        refresh_events(session, touched)
        placed = event_store.events_of_items(session, fresh)
        for item in batch.items:
            if item.id is not None and item.duplicate_of is None:
                item.event_id = placed.get(item.id)
        return batch
