"""Rows → JSON-ready dicts for the API and CLI; one shape everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from yuqing.store.attachments import attachment_summary, attachments_of
from yuqing.store.search import SearchQuery, highlight
from yuqing.store.tables import GradeChange, Item, MetricSnapshot, Story

SNIPPET_CHARS = 160


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def snippet(content: str, terms: tuple[str, ...]) -> str:
    """About SNIPPET_CHARS characters of `content`, starting a little before the first hit."""
    text = " ".join(content.split())
    start = 0
    if terms:
        pieces = highlight(text, terms)
        offset = 0
        for piece, hit in pieces:
            if hit:
                start = max(0, offset - 30)
                break
            offset += len(piece)
    cut = text[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + cut + ("…" if start + SNIPPET_CHARS < len(text) else "")


def item_summary(item: Item, query: SearchQuery | None = None) -> dict[str, Any]:
    terms = query.highlight_terms if query else ()
    return {
        "id": item.id,
        "external_id": item.external_id,
        "title": item.title,
        "snippet": snippet(item.content, terms),
        "url": item.url,
        "host": item.host,
        "author": item.author,
        "platform": item.platform,
        "media_tier": item.media_tier,
        "region": item.region,
        "published_at": _iso(item.published_at),
        "discovered_at": _iso(item.discovered_at),
        "metrics": {
            "views": item.views,
            "reposts": item.reposts,
            "comments": item.comments,
            "likes": item.likes,
        },
        "sightings": item.sightings,
        "story_id": item.story_id,
        "subjects": [s.subject_id for s in item.subjects],
        **judgement(item),
    }


def judgement(item: Item) -> dict[str, Any]:
    """Analysis, the machine grade and a monitor's review; `grade`/`category` are effective."""
    analyzed = item.sentiment is not None
    return {
        "grade": item.human_grade or item.grade,
        "category": item.human_category or item.category,
        "machine": {"grade": item.grade, "category": item.category} if analyzed else None,
        "review": (
            {
                "grade": item.human_grade,
                "category": item.human_category,
                "note": item.review_note,
                "by": item.reviewed_by,
                "at": _iso(item.reviewed_at),
            }
            if item.reviewed_at is not None
            else None
        ),
        "analysis": (
            {
                "sentiment": {"label": item.sentiment, "score": item.sentiment_score},
                "rumor": {"score": item.rumor_score, "label": item.rumor},
                "offensive": {"score": item.offensive_score, "label": item.offensive},
                "harms": item.harms,
                "signals": item.signals,
            }
            if analyzed
            else None
        ),
        "event_id": item.event_id,
    }


def grade_change(change: GradeChange) -> dict[str, Any]:
    return {
        "at": _iso(change.at),
        "by": change.by,
        "cause": change.cause,
        "previous": change.previous,
        "grade": change.grade,
        "category": change.category,
        "escalated": change.escalated,
        "actor": change.actor,
        "note": change.note,
    }


def item_detail(
    item: Item,
    snapshots: list[MetricSnapshot],
    story: Story | None,
    history: list[GradeChange] | None = None,
) -> dict[str, Any]:
    data = item_summary(item)
    data["grade_reasons"] = item.grade_reasons
    data["grade_history"] = [grade_change(c) for c in history or []]
    data.pop("snippet")
    data["content"] = item.content
    data["content_hash"] = item.content_hash
    data["matches"] = [{"subject_id": s.subject_id, "spans": s.spans} for s in item.subjects]
    data["snapshots"] = [
        {
            "captured_at": _iso(s.captured_at),
            "views": s.views,
            "reposts": s.reposts,
            "comments": s.comments,
            "likes": s.likes,
        }
        for s in snapshots
    ]
    data["story"] = (
        {
            "id": story.id,
            "origin_item_id": story.origin_item_id,
            "item_count": story.item_count,
            "site_count": story.site_count,
            "first_published_at": _iso(story.first_published_at),
        }
        if story
        else None
    )
    data["attachments"] = [attachment_summary(a) for a in attachments_of(item)]
    return data
