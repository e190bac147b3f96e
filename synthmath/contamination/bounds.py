"""Upper bounds of the match scores of a whole batch of (text, candidate item) pairs at once, with NumPy.

A screened text has ~17 candidates in each benchmark, and the decision rules read the exact scores
of a few of them (see :func:`~synthmath.contamination.scoring.best_scores`). Computed one pair at a
time in Python, even the cheap terms of a score (shared numbers, shared words) cost ~3 µs a pair,
most of a text's screening; here they come for the whole batch from a few array operations, and
Python computes exact scores only for the pairs whose bound can still pass the bar.

A bound is :func:`~synthmath.contamination.scoring.match_score`'s sum with its number and word terms
as they are (summed in another order: they may differ from the exact ones in the last bits, hence
``_MARGIN``) and the two common subsequences at their longest (the shorter sequence's length).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .scoring import BenchmarkStats, TextProfile

__all__ = ["ScoreBounds", "item_arrays"]

_MARGIN = 1e-9  # over any difference of float summation order (the terms are sums of a few dozen)


@dataclass
class _Items:
    """One benchmark's items as arrays: their words and distinct numbers as sparse rows (vocabulary
    ids and IDF weights), and the lengths of their sequences."""

    words: dict[str, int]
    word_ptr: Any
    word_ids: Any
    word_idf: Any
    numbers: dict[str, int]
    number_ptr: Any
    number_ids: Any
    number_idf: Any
    need: Any  # count of distinct numbers
    sequence: Any  # length of the number sequence
    skeleton: Any  # length of the sentence skeleton (word-problem benchmarks)


def item_arrays(
    profiles: Sequence[TextProfile], rows: dict[str, tuple[int, int]], stats: dict[str, BenchmarkStats]
) -> dict[str, _Items]:
    """Each benchmark's items as arrays (``profiles``: every item's, by row; ``rows``: each
    benchmark's range of rows), for :class:`ScoreBounds`; kept in the index cache with the profiles
    (building them takes ~50 ms, reading them a few)."""
    return {name: _arrays(profiles[lo:hi], name, stats[name]) for name, (lo, hi) in rows.items()}


def _arrays(profiles: Sequence[TextProfile], benchmark: str, stats: BenchmarkStats) -> _Items:
    import numpy as np

    idf = stats.idf
    unknown = idf[""]
    words: dict[str, int] = {}
    numbers: dict[str, int] = {}
    word_rows = [[words.setdefault(w, len(words)) for w in p.words] for p in profiles]
    number_rows = [[numbers.setdefault(n, len(numbers)) for n in p.numbers] for p in profiles]
    word_idf = [idf.get(w, unknown) for w in words]
    number_idf = [idf.get(n, unknown) for n in numbers]
    word_ids = np.array([i for row in word_rows for i in row], np.int64)
    number_ids = np.array([i for row in number_rows for i in row], np.int64)
    return _Items(
        words,
        np.concatenate(([0], np.cumsum([len(r) for r in word_rows], dtype=np.int64))),
        word_ids,
        np.array(word_idf, np.float64)[word_ids],
        numbers,
        np.concatenate(([0], np.cumsum([len(r) for r in number_rows], dtype=np.int64))),
        number_ids,
        np.array(number_idf, np.float64)[number_ids],
        np.array([len(p.numbers) for p in profiles], np.float64),
        np.array([len(p.sequence) for p in profiles], np.float64),
        np.array([len(p.skeletons[benchmark]) if stats.skeleton_weight else 0 for p in profiles], np.float64),
    )


class ScoreBounds:
    """Bounds of the match scores of pairs of a batch's texts and one benchmark's items.
    ``rows``: each benchmark's range of rows; ``arrays``: :func:`item_arrays`."""

    def __init__(
        self, rows: dict[str, tuple[int, int]], stats: dict[str, BenchmarkStats], arrays: dict[str, _Items]
    ) -> None:
        self.rows = rows
        self.stats = stats
        self.arrays = arrays

    def bounds(
        self, texts: Sequence[TextProfile], benchmark: str, ks: Sequence[int], rows: Sequence[int], sims: Any
    ) -> list[float]:
        """A bound of the score of each pair of text ``ks[i]`` and item row ``rows[i]`` (``sims``: the
        texts' cosines with every item, by row), at least
        :func:`~synthmath.contamination.scoring.match_score`."""
        import numpy as np

        if not ks:
            return []
        items = self.arrays[benchmark]
        stats = self.stats[benchmark]
        idf, unknown, weight = stats.idf, stats.idf[""], stats.skeleton_weight
        k = np.array(ks, np.int64)
        j = np.array(rows, np.int64)
        cos = sims[k, j].astype(np.float64)
        j -= self.rows[benchmark][0]
        total = np.zeros(len(texts))
        for t, text in enumerate(texts):
            got = text.totals.get(benchmark)
            if got is None:  # as PairScorer does: the summed IDF of the text's words
                got = text.totals[benchmark] = math.fsum(idf.get(w, unknown) for w in text.words)
            total[t] = got
        found, owner, at = _found(k, j, items.word_ptr, items.word_ids, texts, lambda p: p.words, items.words)
        common = np.bincount(owner, weights=found * items.word_idf[at], minlength=len(k))
        found, owner, at = _found(
            k, j, items.number_ptr, items.number_ids, texts, lambda p: p.numbers, items.numbers
        )
        shared = np.bincount(owner, weights=found, minlength=len(k))
        information = np.bincount(owner, weights=found * items.number_idf[at], minlength=len(k))
        have = np.array([len(text.numbers) for text in texts], np.float64)[k]
        length = np.array([len(text.sequence) for text in texts], np.float64)[k]
        need, sequence = items.need[j], items.sequence[j]
        recall = shared / np.maximum(need, 1)
        precision = shared / np.maximum(have, 1)
        total = total[k]
        words = np.where(total > 0, common / np.where(total > 0, total, 1), 0.0)
        in_order = np.where(
            (shared > 0) & (sequence > 0), np.minimum(sequence, length) / np.maximum(sequence, 1), 0.0
        )
        bound = cos + 0.3 * recall + 0.2 * precision + 0.2 * in_order + 0.5 * words
        bound += 0.03 * information * recall * precision + _MARGIN
        if weight:
            mine = np.array([len(text.skeletons[benchmark]) for text in texts], np.float64)[k]
            theirs = items.skeleton[j]
            bound += weight * np.minimum(mine, theirs) / np.maximum(np.maximum(mine, theirs), 1)
        out: list[float] = bound.tolist()
        return out


def _found(
    k: Any, j: Any, ptr: Any, ids: Any, texts: Sequence[TextProfile], of: Any, vocabulary: dict[str, int]
) -> tuple[Any, Any, Any]:
    """For the entries (words or numbers) of each pair's item: whether the pair's text has it, the
    pair it belongs to, and its place in ``ids``."""
    import numpy as np

    size = len(vocabulary)
    has = np.zeros(len(texts) * size, bool)  # by text, then vocabulary id
    get = vocabulary.get
    has[[t * size + i for t, text in enumerate(texts) for i in map(get, of(text)) if i is not None]] = True
    starts = ptr[j]
    counts = ptr[j + 1] - starts
    owner = np.repeat(np.arange(len(j)), counts)
    ends = np.cumsum(counts)
    at = np.arange(int(ends[-1])) - np.repeat(ends - counts - starts, counts)
    return has[k[owner] * size + ids[at]], owner, at
