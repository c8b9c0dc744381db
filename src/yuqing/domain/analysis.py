"""What the analyze and grade stages conclude about an item."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Harm:
    """A harm type of the standard (SPEC 2.3) and the terms that signalled it."""

    type: str
    terms: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "terms": list(self.terms)}


@dataclass(slots=True)
class Analysis:
    """Model and lexicon outputs for one item; the grading engine's inputs besides spread."""

    sentiment: str  # negative | neutral | positive
    sentiment_score: float  # -1..1: P(positive) - P(negative)
    rumor_score: float
    rumor: bool
    offensive_score: float
    offensive: bool
    harms: list[Harm] = field(default_factory=list)
    category: str = "000"
    # Crisis and malicious-attack terms found by the grading lexicon: name -> terms.
    signals: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reason:
    """One grading rule that fired, with its evidence (terms, metrics, tier …)."""

    rule: str
    grade: str
    text: str
    evidence: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "grade": self.grade,
            "text": self.text,
            "evidence": self.evidence,
        }


@dataclass(slots=True)
class Grading:
    """A machine grade with every rule that fired; the highest fired grade wins."""

    code: str
    reasons: list[Reason]
