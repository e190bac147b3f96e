"""Candidate retrieval for the embedding and math stages: which benchmark items to score for a text.

For each benchmark, the candidates of a text are
- its ``nearest_k`` nearest items by cosine (static embeddings place a rewording that renames every
  person and object a little further than a transformer did);
- its ``top_k`` items sharing the most information in numbers with the text (summed IDF of the
  shared numbers; numbers held by many items, such as 2 or 10, are not looked up): a rewording that
  moves a problem to a new setting keeps its numbers, and the embedding model may not place it near
  the original at all;
- its items whose distinct numbers are exactly the text's (unless more than ``top_k`` have them);
- its items sharing a rare expression with the text (a normalised LaTeX expression of at least
  :data:`~synthmath.contamination.mathsig.RARE_ATOMS` atoms held by at most ``top_k`` items): a heavy
  rewording of a MATH problem rewrites the prose around the formula and keeps the formula.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .scoring import BenchmarkStats, TextProfile

__all__ = ["CandidateIndex"]


class CandidateIndex:
    """Per benchmark, its items (a contiguous range of rows) by number, by set of numbers and by rare
    expression. ``profiles``: the items' profiles, in row order; ``rows``: each benchmark's range."""

    def __init__(
        self,
        profiles: Sequence[TextProfile],
        rows: dict[str, tuple[int, int]],
        stats: dict[str, BenchmarkStats],
        top_k: int,
        nearest_k: int = 15,
    ) -> None:
        self.rows = rows
        self.nearest_k = nearest_k
        self.stats = stats
        self.top_k = top_k
        self.by_number: dict[str, defaultdict[str, list[int]]] = {}
        self.by_numbers: dict[str, defaultdict[frozenset[str], list[int]]] = {}
        self.by_expression: dict[str, defaultdict[str, list[int]]] = {}
        for name, (lo, hi) in rows.items():
            by_number = self.by_number[name] = defaultdict(list)
            by_numbers = self.by_numbers[name] = defaultdict(list)
            by_expression = self.by_expression[name] = defaultdict(list)
            for i in range(lo, hi):
                p = profiles[i]
                for number in p.numbers:
                    by_number[number].append(i)
                if len(p.numbers) >= 2:
                    by_numbers[frozenset(p.numbers)].append(i)
                for expr in p.math.rare:
                    by_expression[expr].append(i)

    def number_neighbours(self, profile: TextProfile, benchmark: str, k: int, exclude: int = -1) -> list[int]:
        """The k items of ``benchmark`` sharing the most information in numbers with ``profile``."""
        by_number, idf = self.by_number[benchmark], self.stats[benchmark].idf
        lo, hi = self.rows[benchmark]
        common = max(50, (hi - lo) // 50)
        weights: defaultdict[int, float] = defaultdict(float)
        for number in profile.numbers:
            holders = by_number.get(number, ())
            if len(holders) <= common:
                w = idf.get(number, idf[""])
                for j in holders:
                    weights[j] += w
        weights.pop(exclude, None)
        return heapq.nlargest(k, weights, key=weights.__getitem__)

    def candidates(self, profile: TextProfile, sims: Any, benchmark: str, exclude: int = -1) -> list[int]:
        """Rows of the items of ``benchmark`` to score (``sims``: one row of cosines over all items)."""
        import numpy as np

        lo, hi = self.rows[benchmark]
        k = min(self.nearest_k, hi - lo - 1)
        if k < 1:
            return [j for j in range(lo, hi) if j != exclude]
        nearest = np.argpartition(-sims[lo:hi], k)[: k + 1] + lo
        top = [int(j) for j in nearest if j != exclude][: self.nearest_k]
        seen = set(top)
        more = self.number_neighbours(profile, benchmark, self.top_k, exclude)
        if len(profile.numbers) >= 2:
            same = self.by_numbers[benchmark].get(frozenset(profile.numbers), ())
            if len(same) <= self.top_k:
                more += same
        by_expression = self.by_expression[benchmark]
        for expr in profile.math.rare:
            holders = by_expression.get(expr, ())
            if len(holders) <= self.top_k:
                more += holders
        for j in more:
            if j != exclude and j not in seen:
                seen.add(j)
                top.append(j)
        return top
