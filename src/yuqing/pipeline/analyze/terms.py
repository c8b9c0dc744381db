"""Named term lists found in one Aho-Corasick scan: grading signals, category keywords."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from yuqing.domain.text import to_match_text
from yuqing.pipeline.match import term_automaton


class TermIndex:
    """Which listed terms occur in a folded text, grouped by list name.

    Terms are folded with `to_match_text` like the texts they are searched in; a term in
    several lists counts for each. Overlapping occurrences are found (银行 and 农商银行).
    """

    def __init__(self, lists: Mapping[str, Iterable[str]]) -> None:
        owners: dict[str, list[str]] = {}
        for name, terms in lists.items():
            for term in terms:
                folded = to_match_text(term).strip()
                if folded and name not in owners.setdefault(folded, []):
                    owners[folded].append(name)
        self._patterns = list(owners)
        self._owners = [tuple(owners[p]) for p in self._patterns]
        self._automaton = term_automaton(self._patterns)

    def find(self, text: str) -> dict[str, tuple[str, ...]]:
        """List name → distinct terms found, in order of first occurrence."""
        if self._automaton is None or not text:
            return {}
        found: dict[str, dict[str, None]] = {}
        for index, _start, _end in self._automaton.find_matches_as_indexes(text, overlapping=True):
            term = self._patterns[index]
            for name in self._owners[index]:
                found.setdefault(name, {})[term] = None
        return {name: tuple(terms) for name, terms in found.items()}
