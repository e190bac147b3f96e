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
  rewording of a MATH problem rewrites the prose around the formula and keeps the formula; and so
  by the expression's shape, its letters named by order of appearance (held by at most ``top_k``
  items): a rewording may also rename the letters (``a^2+b^2+c^2=1`` for ``x^2+y^2+z^2=1``);
- its items whose diagram (Asymptote code) has exactly the text's numbers (unless more than ``top_k``
  have them): a rewording keeps the figure and may rewrite everything around it.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .scoring import BenchmarkStats, TextProfile

__all__ = ["CandidateIndex"]

_BLOCK = 64  # items per block in the nearest-items selection (CandidateIndex.nearest)


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
        self.by_diagram: dict[str, defaultdict[frozenset[tuple[str, int]], list[int]]] = {}
        for name, (lo, hi) in rows.items():
            by_number = self.by_number[name] = defaultdict(list)
            by_numbers = self.by_numbers[name] = defaultdict(list)
            by_expression = self.by_expression[name] = defaultdict(list)
            by_diagram = self.by_diagram[name] = defaultdict(list)
            for i in range(lo, hi):
                p = profiles[i]
                for number in p.numbers:
                    by_number[number].append(i)
                if len(p.numbers) >= 2:
                    by_numbers[frozenset(p.numbers)].append(i)
                for expr in p.math.rare | p.math.shapes:
                    by_expression[expr].append(i)
                if p.math.diagram:
                    by_diagram[frozenset(p.math.diagram.items())].append(i)

    def number_neighbours(self, profile: TextProfile, benchmark: str, k: int, exclude: int = -1) -> list[int]:
        """The k items of ``benchmark`` sharing the most information in numbers with ``profile``."""
        by_number, idf = self.by_number[benchmark], self.stats[benchmark].idf
        lo, hi = self.rows[benchmark]
        common = max(50, (hi - lo) // 50)
        weights: defaultdict[int, float] = defaultdict(float)
        for number in sorted(profile.numbers):  # a fixed order: the same sums, the same ties, in any process
            holders = by_number.get(number, ())
            if len(holders) <= common:
                w = idf.get(number, idf[""])
                for j in holders:
                    weights[j] += w
        weights.pop(exclude, None)
        return heapq.nlargest(k, weights, key=lambda j: (weights[j], -j))  # of equal weights, lower rows

    def nearest(self, sims: Any, benchmark: str) -> Any:
        """For each row of ``sims`` (texts by items, cosines), the rows of the ``nearest_k + 1`` items of
        ``benchmark`` with the highest cosines, best first (of equal cosines, the lower row first).

        One selection for a batch of texts, in a few passes over the matrix: the ``nearest_k + 1``-th
        largest of the maxima of blocks of 64 items bounds the ``nearest_k + 1``-th largest cosine from
        below (each of those maxima is a cosine), and only the cosines at that bound or over it, a few
        dozen, are sorted. (``argpartition`` row by row cost 60 µs a text, most of the retrieval.)"""
        import numpy as np

        lo, hi = self.rows[benchmark]
        block = sims[:, lo:hi]
        n, m = block.shape
        want = min(self.nearest_k + 1, m)
        if m <= _BLOCK * want:  # a small benchmark: sort it all
            order = np.lexsort((np.broadcast_to(np.arange(m), block.shape), -block), axis=1)
            return order[:, :want] + lo
        blocks = -(-m // _BLOCK)
        padded = np.full((n, blocks * _BLOCK), -np.inf, dtype=block.dtype)
        padded[:, :m] = block
        maxima = padded.reshape(n, blocks, _BLOCK).max(axis=2)
        bound = np.partition(maxima, blocks - want, axis=1)[:, blocks - want]
        rows, cols = np.nonzero(block >= bound[:, None])
        order = np.lexsort((cols, -block[rows, cols], rows))  # by text, then cosine, then row
        rows, cols = rows[order], cols[order]
        first = np.searchsorted(rows, np.arange(n))  # every text has at least ``want`` of them
        return cols[first[:, None] + np.arange(want)] + lo

    def candidates(
        self, profile: TextProfile, sims: Any, benchmark: str, exclude: int = -1, nearest: Any = None
    ) -> list[int]:
        """Rows of the items of ``benchmark`` to score (``sims``: one row of cosines over all items;
        ``nearest``: its row of :meth:`nearest`, when the batch's were taken at once)."""
        lo, hi = self.rows[benchmark]
        if min(self.nearest_k, hi - lo - 1) < 1:
            return [j for j in range(lo, hi) if j != exclude]
        if nearest is None:
            nearest = self.nearest(sims[None, :], benchmark)[0]
        top = [j for j in nearest.tolist() if j != exclude][: self.nearest_k]
        seen = set(top)
        more = self.number_neighbours(profile, benchmark, self.top_k, exclude)
        if len(profile.numbers) >= 2:
            same = self.by_numbers[benchmark].get(frozenset(profile.numbers), ())
            if len(same) <= self.top_k:
                more += same
        by_expression = self.by_expression[benchmark]
        for expr in profile.math.rare | profile.math.shapes:
            holders = by_expression.get(expr, ())
            if len(holders) <= self.top_k:
                more += holders
        if profile.math.diagram:
            same = self.by_diagram[benchmark].get(frozenset(profile.math.diagram.items()), ())
            if len(same) <= self.top_k:
                more += same
        for j in more:
            if j != exclude and j not in seen:
                seen.add(j)
                top.append(j)
        return top
