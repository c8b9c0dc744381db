"""An item as it travels through the pipeline, from raw input to a stored row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from yuqing.domain.analysis import Analysis, Grading
from yuqing.domain.enums import MediaTier, Platform


@dataclass(slots=True)
class Metrics:
    """Spread counters as a source reports them at one moment; None means not reported."""

    views: int | None = None
    reposts: int | None = None
    comments: int | None = None
    likes: int | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in (self.views, self.reposts, self.comments, self.likes))

    def as_dict(self) -> dict[str, int | None]:
        return {
            "views": self.views,
            "reposts": self.reposts,
            "comments": self.comments,
            "likes": self.likes,
        }


@dataclass(slots=True)
class RawItem:
    """One validated input record, before normalization.

    `published` is kept as the source wrote it ("3小时前", "2026-11-03 08:00", an ISO string or
    an aware datetime); the normalize stage turns it into a datetime against `discovered_at`.
    `origin` names where the record came from ("file.jsonl:17") for error messages.
    """

    content: str
    title: str = ""
    url: str | None = None
    author: str | None = None
    platform: Platform = Platform.OTHER
    media_tier: MediaTier = MediaTier.OTHER
    region: str | None = None
    published: str | datetime | None = None
    discovered_at: datetime | None = None
    metrics: Metrics = field(default_factory=Metrics)
    external_id: str | None = None
    source_id: int | None = None
    origin: str = ""
    is_html: bool = False
    # The record's `id` exactly as the input wrote it (a number stays a number), for answers
    # that must echo it (`yuqing analyze`); `external_id` is its text form.
    input_id: str | int | float | None = field(default=None, compare=False)


@dataclass(slots=True)
class MatchSpan:
    """One occurrence of a subject term in the normalized title or content."""

    field: str  # "title" or "content"
    start: int
    end: int
    term: str


@dataclass(slots=True)
class SubjectMatch:
    """A monitored subject that an item matched, with the spans that made it match."""

    subject_id: int
    spans: list[MatchSpan]


@dataclass(slots=True)
class Item:
    """A normalized item; stages fill the fields after `content_hash` in order."""

    raw: RawItem
    title: str
    content: str
    url: str | None
    canonical_url: str | None
    host: str | None
    author: str | None
    platform: Platform
    media_tier: MediaTier
    region: str | None
    published_at: datetime | None
    discovered_at: datetime
    metrics: Metrics
    # Simplified, case-folded, width-folded forms used for matching and hashing.
    match_title: str
    match_content: str
    content_hash: str
    # Filled by dedupe: the item this one repeats (a stored id, or an earlier item of the same
    # batch), the item it is a near-copy of (same forms), and its MinHash signature.
    duplicate_of: Item | int | None = None
    similar_to: Item | int | None = None
    similarity: float | None = None
    signature: bytes | None = None
    story_id: int | None = None
    # Filled by match.
    subjects: list[SubjectMatch] = field(default_factory=list)
    # Filled by analyze, grade and events.
    analysis: Analysis | None = None
    grading: Grading | None = None
    event_id: int | None = None
    # Filled by store.
    id: int | None = None


def ref_id(ref: Item | int | None) -> int | None:
    """The stored id behind a `duplicate_of` / `similar_to` reference (None if not stored)."""
    return ref.id if isinstance(ref, Item) else ref
