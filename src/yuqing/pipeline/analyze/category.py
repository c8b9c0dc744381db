"""Category by the taxonomy's keywords (SPEC 2.2): one scan, scored per top-level category."""

from __future__ import annotations

from collections.abc import Sequence

from yuqing.pipeline.analyze.terms import TermIndex
from yuqing.standard import Standard


class KeywordCategorizer:
    """Pick the category whose keywords the text mentions most.

    A top-level category scores the distinct keywords found of its own and of its
    subcategories, a title hit counting twice (titles name the matter); the best one wins, and
    inside it the subcategory with most hits, if any hit. Ties go to the longer matched text, then
    to taxonomy order. No keyword at all gives the taxonomy's fallback (000 其他).
    """

    def __init__(self, standard: Standard) -> None:
        self.fallback = standard.fallback_category.code
        lists: dict[str, tuple[str, ...]] = {}
        self._parent: dict[str, str] = {}
        self._order: dict[str, int] = {}
        for index, category in enumerate(standard.iter_categories()):
            lists[category.code] = category.keywords
            self._order[category.code] = index
            parent = standard.parent_category(category.code)
            self._parent[category.code] = parent.code if parent else category.code
        self._index = TermIndex(lists)

    def categorize(self, title: str, content: str) -> str:
        """Category code for a folded title and content."""
        return self.categorize_many([title], [content])[0]

    def categorize_many(self, titles: Sequence[str], contents: Sequence[str]) -> list[str]:
        """`categorize` for each (title, content) pair, in two searches."""
        return [
            self._choose(title_found, content_found)
            for title_found, content_found in zip(
                self._index.find_many(titles), self._index.find_many(contents), strict=True
            )
        ]

    def _choose(
        self,
        title_found: dict[str, tuple[str, ...]],
        content_found: dict[str, tuple[str, ...]],
    ) -> str:
        scores: dict[str, list[int]] = {}
        for found, weight in ((title_found, 2), (content_found, 1)):
            for code, terms in found.items():
                score = scores.setdefault(code, [0, 0])
                score[0] += weight * len(terms)
                score[1] += sum(len(t) for t in terms)
        if not scores:
            return self.fallback
        totals: dict[str, list[int]] = {}
        for code, (hits, length) in scores.items():
            total = totals.setdefault(self._parent[code], [0, 0])
            total[0] += hits
            total[1] += length
        top = max(totals, key=lambda c: (totals[c][0], totals[c][1], -self._order[c]))
        children = [c for c in scores if self._parent[c] == top and c != top]
        if not children:
            return top
        return max(children, key=lambda c: (scores[c][0], scores[c][1], -self._order[c]))
