"""A monitored subject as the matcher sees it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, frozen=True)
class SubjectSpec:
    """A subject to watch: a name, aliases, exclusion terms and an optional boolean rule.

    Matching: with no rule, the subject matches when its name or an alias occurs; with a rule,
    when the rule holds (`(农商行 | 农信社) & (挤兑 | 取不出) & !招聘`, `near(a, b, 20)`).
    Either way an exclusion term anywhere in the item vetoes the match (homonyms, job ads).
    """

    id: int
    name: str
    aliases: tuple[str, ...] = ()
    exclude: tuple[str, ...] = field(default=())
    rule: str | None = None
    unit_id: int | None = None
