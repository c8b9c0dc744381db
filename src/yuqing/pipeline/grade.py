"""The grading engine (SPEC 2.1): rules from `grading.yaml` over an item's facts.

Every rule whose conditions hold fires and becomes a reason with its evidence. The grade is the
most severe negative grade among fired rules (by rank); when no negative rule fired, a fired
non-negative rule of lower rank wins over the default (a positive signal beats "general").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from yuqing.domain import Analysis, Grading, Reason
from yuqing.pipeline.base import Batch
from yuqing.standard import Standard
from yuqing.standard.grading import Condition, Rule

# The content signals that make an item "negative" for rules that ask {negative: true}.
_NEGATIVE_SIGNALS = ("crisis", "attack")


@dataclass(frozen=True, slots=True)
class Spread:
    """How far an item (and the story it belongs to) has travelled."""

    views: int = 0
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    sites: int = 1
    story_items: int = 1
    institutions: int = 0
    regions: int = 0
    media_tier: str = "other"
    platform: str = "other"

    @property
    def engagement(self) -> int:
        return self.reposts + self.comments + self.likes


@dataclass(frozen=True, slots=True)
class GradeFacts:
    """Everything the rules look at for one item."""

    analysis: Analysis
    spread: Spread = field(default_factory=Spread)
    about_subject: bool = False
    subjects: tuple[str, ...] = ()
    special_period: bool = False
    # What reads as negative content, worked out once: several rules ask.
    negative: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "negative", tuple(_negative_signals(self.analysis)))


Evidence = dict[str, Any]
_Test = Callable[[Condition, GradeFacts, "Grader"], Evidence | None]


def _negative_signals(a: Analysis) -> list[str]:
    found = []
    if a.sentiment == "negative":
        found.append("sentiment")
    if a.rumor:
        found.append("rumor")
    if a.offensive:
        found.append("offensive")
    if a.harms:
        found.append("harms")
    found.extend(name for name in _NEGATIVE_SIGNALS if a.signals.get(name))
    return found


def _sentiment(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
    a = f.analysis
    if c.sentiment is not None and a.sentiment in c.sentiment:
        return {"sentiment": a.sentiment, "sentiment_score": round(a.sentiment_score, 3)}
    return None


def _sentiment_score(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
    limit = c.sentiment_score_at_most
    score = f.analysis.sentiment_score
    if limit is not None and score <= limit:
        return {"sentiment_score": round(score, 3), "at_most": limit}
    return None


def _rumor_score(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
    floor = c.rumor_score_at_least
    score = f.analysis.rumor_score
    if floor is not None and score >= floor:
        return {"rumor_score": round(score, 3), "at_least": floor}
    return None


def _flag(name: str) -> _Test:
    def test(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
        value = bool(getattr(f.analysis, name))
        if value is getattr(c, name):
            return {f"{name}_score": round(float(getattr(f.analysis, f"{name}_score")), 3)}
        return None

    return test


def _harm(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
    wanted = c.harm
    hits = {
        h.type: list(h.terms)
        for h in f.analysis.harms
        if wanted == "any" or h.type in (wanted or ())
    }
    return {"harms": hits} if hits else None


def _harm_illegal(c: Condition, f: GradeFacts, g: Grader) -> Evidence | None:
    hits = {h.type: list(h.terms) for h in f.analysis.harms if g.is_illegal(h.type)}
    if bool(hits) is c.harm_illegal:
        return {"harms": hits} if hits else {"harms": {}}
    return None


def _signal(c: Condition, f: GradeFacts, g: Grader) -> Evidence | None:
    name = c.signal or ""
    terms = f.analysis.signals.get(name)
    return {name: list(terms)} if terms else None


def _negative(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
    found = f.negative
    if bool(found) is c.negative:
        return {"negative": list(found)}
    return None


def _about_subject(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
    if f.about_subject is c.about_subject:
        return {"subjects": list(f.subjects)}
    return None


def _category(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
    code = f.analysis.category
    if any(code.startswith(prefix) for prefix in c.category or ()):
        return {"category": code}
    return None


def _special_period(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
    return {"special_period": True} if f.special_period is c.special_period else None


def _in(attribute: str) -> _Test:
    def test(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
        value = getattr(f.spread, attribute)
        return {attribute: value} if value in (getattr(c, attribute) or ()) else None

    return test


def _at_least(attribute: str) -> _Test:
    key = f"{attribute}_at_least"

    def test(c: Condition, f: GradeFacts, _: Grader) -> Evidence | None:
        threshold = getattr(c, key)
        value = getattr(f.spread, attribute)
        return {attribute: value, "at_least": threshold} if value >= threshold else None

    return test


def _media_reach(c: Condition, f: GradeFacts, g: Grader) -> Evidence | None:
    reach = g.reach(f.spread.media_tier)
    threshold = c.media_reach_at_least or 0
    if reach >= threshold:
        return {"media_tier": f.spread.media_tier, "reach": reach, "at_least": threshold}
    return None


_TESTS: dict[str, _Test] = {
    "sentiment": _sentiment,
    "sentiment_score_at_most": _sentiment_score,
    "rumor_score_at_least": _rumor_score,
    "rumor": _flag("rumor"),
    "offensive": _flag("offensive"),
    "harm": _harm,
    "harm_illegal": _harm_illegal,
    "signal": _signal,
    "negative": _negative,
    "about_subject": _about_subject,
    "category": _category,
    "special_period": _special_period,
    "platform": _in("platform"),
    "media_tier": _in("media_tier"),
    "views_at_least": _at_least("views"),
    "reposts_at_least": _at_least("reposts"),
    "comments_at_least": _at_least("comments"),
    "likes_at_least": _at_least("likes"),
    "engagement_at_least": _at_least("engagement"),
    "sites_at_least": _at_least("sites"),
    "story_items_at_least": _at_least("story_items"),
    "institutions_at_least": _at_least("institutions"),
    "regions_at_least": _at_least("regions"),
    "media_reach_at_least": _media_reach,
}


_Step = tuple[_Test, Condition]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A rule with each condition's test looked up once, not per item."""

    id: str
    grade: str
    text: str
    when: tuple[_Step, ...]
    groups: tuple[tuple[_Step, ...], ...]
    needs_negative: bool  # cannot fire unless the content reads negative (GradeFacts.negative)


# Conditions that hold for most items, tried last in a rule's `when`: a rule fails at its first
# failing condition, and evidence built for conditions before it is thrown away. The order
# changes nothing but speed (all of `when` must hold).
_USUALLY_TRUE = ("about_subject",)


def _compile(rule: Rule) -> _Compiled:
    def steps(conditions: tuple[Condition, ...]) -> tuple[_Step, ...]:
        ordered = sorted(conditions, key=lambda c: c.key in _USUALLY_TRUE)
        return tuple((_TESTS[c.key], c) for c in ordered)

    return _Compiled(
        rule.id,
        rule.grade.value,
        rule.text,
        steps(rule.when),
        tuple(steps(group) for group in (rule.any, rule.spread) if group),
        any(map(_needs_negative, rule.when))
        or any(group and all(map(_needs_negative, group)) for group in (rule.any, rule.spread)),
    )


def _needs_negative(c: Condition) -> bool:
    """Whether a condition can hold only for content with a negative signal."""
    return (
        c.negative is True
        or c.rumor is True
        or c.offensive is True
        or c.harm is not None
        or c.harm_illegal is True
        or c.signal in _NEGATIVE_SIGNALS
        or (c.sentiment is not None and set(c.sentiment) <= {"negative"})
    )


class Grader:
    """Applies the standard's grading rules; one instance per standard, reused across items."""

    def __init__(self, standard: Standard) -> None:
        self.standard = standard
        self.rules = standard.grading.rules
        self._rank = {g.code.value: g.rank for g in standard.grades}
        self._negative = {g.code.value for g in standard.grades if g.negative}
        self._illegal = {h.code for h in standard.harm_types if h.illegal}
        self._reach = {t.code.value: t.reach for t in standard.media_tiers}
        self._compiled = [_compile(rule) for rule in self.rules]
        # Most items read neutral or positive; the rules about negative content are skipped
        # for them without evaluating a condition.
        self._not_negative = [rule for rule in self._compiled if not rule.needs_negative]
        self._default = min(
            (g for g in standard.grades if not g.negative), key=lambda g: -g.rank
        ).code.value

    def is_illegal(self, harm_type: str) -> bool:
        return harm_type in self._illegal

    def reach(self, media_tier: str) -> int:
        return self._reach.get(media_tier, 0)

    def _fires(self, rule: _Compiled, facts: GradeFacts) -> Evidence | None:
        evidence: Evidence = {}
        for test, condition in rule.when:
            found = test(condition, facts, self)
            if found is None:
                return None
            evidence.update(found)
        for group in rule.groups:
            held = [e for test, c in group if (e := test(c, facts, self)) is not None]
            if not held:
                return None
            for found in held:
                evidence.update(found)
        return evidence

    def grade(self, facts: GradeFacts) -> Grading:
        """Every fired rule as a reason, most severe first; the grade as the module says."""
        reasons = [
            Reason(rule.id, rule.grade, rule.text, evidence)
            for rule in (self._compiled if facts.negative else self._not_negative)
            if (evidence := self._fires(rule, facts)) is not None
        ]
        negative = [r for r in reasons if r.grade in self._negative]
        if negative:
            code = max(negative, key=lambda r: self._rank[r.grade]).grade
        elif reasons:
            code = min(reasons, key=lambda r: self._rank[r.grade]).grade
        else:
            code = self._default
        reasons.sort(key=lambda r: (r.grade not in self._negative, -self._rank[r.grade]))
        return Grading(code, reasons)

    def rank(self, code: str) -> int:
        return self._rank[code]


@dataclass(frozen=True, slots=True)
class SubjectContext:
    """The monitored subjects of a run: names for evidence, units and regions for spread.

    With no subjects at all (a bare `yuqing analyze`), every item counts as about the
    organization: the input is taken to be already filtered to it.
    """

    names: Mapping[int, str] = field(default_factory=dict)
    units: Mapping[int, tuple[int | None, str | None]] = field(default_factory=dict)
    # The unit tree (unit → parent unit, unit → region): a unit and the units above it are
    # one institution in one place, not several across regions.
    parents: Mapping[int, int | None] = field(default_factory=dict)
    regions: Mapping[int, str] = field(default_factory=dict)
    # Unit → the regions of it and every unit below it: places inside its territory.
    territory: Mapping[int, frozenset[str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        places: dict[int, set[str]] = {}
        for unit in set(self.parents) | set(self.regions):
            region = self.regions.get(unit)
            if region:
                for owner in (unit, *self._above(unit)):
                    places.setdefault(owner, set()).add(region)
        object.__setattr__(self, "territory", {u: frozenset(r) for u, r in places.items()})

    def facts(
        self,
        analysis: Analysis,
        subject_ids: Sequence[int],
        spread: Spread,
        extra_regions: Iterable[str] = (),
        special_period: bool = False,
    ) -> GradeFacts:
        institutions, regions = self.reach(subject_ids, extra_regions)
        if (institutions, regions) != (spread.institutions, spread.regions):
            spread = replace(spread, institutions=institutions, regions=regions)
        return GradeFacts(
            analysis=analysis,
            spread=spread,
            about_subject=bool(subject_ids) or not self.names,
            subjects=tuple(self.names.get(s, str(s)) for s in subject_ids),
            special_period=special_period,
        )

    def _above(self, unit_id: int) -> list[int]:
        out: list[int] = []
        current = self.parents.get(unit_id)
        while current is not None and current not in out:
            out.append(current)
            current = self.parents.get(current)
        return out

    def reach(
        self, subject_ids: Sequence[int], extra_regions: Iterable[str] = ()
    ) -> tuple[int, int]:
        """How many institutions (units) and regions the matched subjects span.

        A unit matched together with a unit above it (the head office and its branch) counts
        once, as the lower one. An item's own region adds a region only when it lies outside
        the matched units' places: their regions, those of the units above them and those of
        the units below them (a post from 曲靖 about the provincial bank stays in the bank's
        territory, since 曲靖 has a branch).
        """
        if not subject_ids and not extra_regions:
            return 0, 0
        matched = [self.units.get(s, (None, None)) for s in subject_ids]
        units = {unit for unit, _region in matched if unit is not None}
        above = {a for unit in units for a in self._above(unit)}
        kept = units - above
        institutions = len(kept) + sum(unit is None for unit, _region in matched)
        regions = {r for unit, r in matched if r and (unit is None or unit in kept)}
        covered = regions | {r for a in above if (r := self.regions.get(a))}
        covered |= {r for unit, r in matched if r}
        covered = covered.union(*(self.territory.get(unit, ()) for unit in units))
        regions.update(r for r in extra_regions if r and r not in covered)
        return institutions, len(regions)


class Grade:
    """Stage: the machine grade of each new item from its own analysis and spread.

    Story-level spread is not known until store has linked the item to its story; the
    `regrade` stage after store grades again with it (and records escalations).
    """

    name = "grade"

    def __init__(self, grader: Grader, subjects: SubjectContext) -> None:
        self.grader = grader
        self.subjects = subjects

    def process(self, batch: Batch) -> Batch:
        for item in batch.items:
            if item.analysis is None:
                continue
            m = item.metrics
            spread = Spread(
                views=m.views or 0,
                reposts=m.reposts or 0,
                comments=m.comments or 0,
                likes=m.likes or 0,
                media_tier=item.media_tier.value,
                platform=item.platform.value,
            )
            facts = self.subjects.facts(
                item.analysis,
                [s.subject_id for s in item.subjects],
                spread,
                [item.region] if item.region else (),
            )
            item.grading = self.grader.grade(facts)
        return batch
