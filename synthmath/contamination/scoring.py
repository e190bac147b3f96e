"""The embedding stage's match score of a (text, benchmark item) pair, and what it compares.

    score = cosine + 0.3 * numbers_recall + 0.2 * numbers_precision + 0.2 * numbers_in_order
                   + 0.5 * words_precision + 0.03 * numbers_information * numbers_recall * numbers_precision
                   + skeleton_weight * skeleton

Rephrasing keeps a problem's numbers (often in the same order), its rare words and the shape of its
sentences while it changes everything else, which is what defeats n-gram checks and what the score
looks for. ``numbers_recall`` is the share of the item's distinct numbers found in the text,
``numbers_precision`` the share of the text's numbers found in the item, ``numbers_in_order`` the
longest common subsequence of the two number sequences over the item's count, ``words_precision`` the
IDF-weighted share of the text's content words that the item uses, ``numbers_information`` the summed
IDF of the shared numbers (sharing 220 and 4500 says more than sharing 2 and 3), and ``skeleton`` the
longest common subsequence of the two sentence skeletons over the longer one. A skeleton keeps the
function words (found in at least ``function_df`` of the benchmark's items: "each", "more", "than",
"total") and the numbers, in order, with one slot for each run of other words: a rewording that
renames every person, object and activity keeps it. ``skeleton_weight`` is 1 for benchmarks of word
problems and 0 where most items hold LaTeX (:func:`skeleton_weight`). Each benchmark is scored with
its own statistics (:class:`BenchmarkStats`), so its matches do not depend on what else is loaded.
The weights were chosen on labelled GSM8K data (see docs/contamination.md).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any

from .benchmarks import Benchmark
from .mathsig import MathProfile, lcs, math_profile

__all__ = [
    "BenchmarkStats",
    "PairScorer",
    "Ranking",
    "TextProfile",
    "best_scores",
    "lcs",
    "match_score",
    "skeleton_weight",
]

_STOP_WORDS = """a an the of to and in on at for is are was were be been it its this that these those with as
by from or how many much what which who if each per he she they his her their them has have had do does
did will would can could then than there so but not all some more less one into after before when"""
_STOP = frozenset(_STOP_WORDS.split())


class TextProfile:
    """What the scores compare: distinct numbers, number sequence, content words, per benchmark the
    sentence skeleton, and the mathematics (:class:`~synthmath.contamination.mathsig.MathProfile`)."""

    __slots__ = ("math", "numbers", "sequence", "skeletons", "tokens", "totals", "words")

    def __init__(self, text: str, tokens: Sequence[str], function_words: dict[str, frozenset[str]]) -> None:
        self.tokens = tokens
        self.totals: dict[str, float] = {}  # per benchmark: the summed IDF of the words (kept, not redone)
        self.sequence = [t for t in tokens if t[0].isdigit()]
        self.numbers = set(self.sequence)
        self.words = {t for t in tokens if t not in _STOP}
        self.skeletons = {name: skeleton(tokens, words) for name, words in function_words.items()}
        self.math: MathProfile = math_profile(text, list(tokens))


@dataclass
class BenchmarkStats:
    """One benchmark's scoring statistics: IDF of words and numbers, function words, skeleton weight."""

    idf: dict[str, float]
    function_words: frozenset[str]
    skeleton_weight: float

    @classmethod
    def of(cls, benchmark: Benchmark, tokens: Sequence[Sequence[str]], function_df: float) -> BenchmarkStats:
        """The statistics of ``benchmark`` (``tokens``: the normalised tokens of its items)."""
        weight = skeleton_weight(benchmark)
        df: Counter[str] = Counter()
        content: Counter[str] = Counter()
        for tok in tokens:
            distinct = set(tok)
            df.update(distinct)
            content.update(distinct - _STOP)
        n = len(tokens)
        idf = {w: math.log((n + 1) / (c + 1)) + 1 for w, c in content.items()}
        idf[""] = math.log(n + 1) + 1  # any word or number the benchmark does not use
        least = function_df * n
        words = (
            frozenset(w for w, c in df.items() if c >= least and not w[0].isdigit())
            if weight
            else frozenset()
        )
        return cls(idf, words, weight)


def skeleton_weight(benchmark: Benchmark) -> float:
    """1 for a benchmark of word problems, 0 where most items hold LaTeX math. In MATH-style
    benchmarks many items have a twin with the same setup and another ask ("the smallest" / "the
    largest" value of one expression), which shares the whole skeleton: there the term raises the
    calibrated threshold more than it raises rewordings, and costs recall (docs/contamination.md)."""
    math_items = sum("$" in it.text or "\\(" in it.text for it in benchmark.items)
    return 0.0 if math_items * 2 > len(benchmark.items) else 1.0


def skeleton(tokens: Sequence[str], function_words: frozenset[str]) -> list[str]:
    """Function words and numbers in order, with one empty slot for each run of other words."""
    out: list[str] = []
    for t in tokens:
        if t in function_words or t[0].isdigit():
            out.append(t)
        elif not out or out[-1]:
            out.append("")
    return out


def match_score(
    text: TextProfile, item: TextProfile, cosine: float, benchmark: str, stats: BenchmarkStats
) -> float:
    """The embedding stage's score of one (text, item of ``benchmark``) pair; see the module docstring."""
    return PairScorer(text, benchmark, stats).score(item, cosine)


def best_scores(
    text: TextProfile,
    profiles: Sequence[TextProfile],
    pairs: Sequence[tuple[int, float]],
    benchmark: str,
    stats: BenchmarkStats,
    *,
    keep: Container[int] = (),
    least: float = math.inf,
    best: int | None = None,
    floor: float = -math.inf,
    bounds: Sequence[float] | None = None,
) -> Ranking:
    """The ``(row, cosine)`` pairs of ``text`` and items of ``benchmark``, best first, as a
    :class:`Ranking`: ``(row, cosine, score, None)``, scores :func:`match_score` rounded to 4 places
    (of equal scores the lower row first). ``profiles``: every item's profile, by row.

    Scored at once: every pair whose row is in ``keep``, every pair whose score reaches ``least``,
    and, of the others, the ``best`` best-scoring ones that score over ``floor`` (all of them when
    ``best`` is None); the rest when a place past the beginning known to be exact is read.

    A text has ~17 candidates in each benchmark, most of them far from the best. A pair is scored
    only when a bound of its score can still pass the bar of the moment (the ``best``-th best score
    so far, ``floor`` or ``least``), best bound first: ``bounds``, one for each pair (a batch's at
    once: :class:`~synthmath.contamination.bounds.ScoreBounds`), or else its number and word terms
    with the two common subsequences, the dearer terms, at their longest (:meth:`PairScorer.staged`)."""
    scorer = PairScorer(text, benchmark, stats)
    out = []
    staged: list[tuple[float, Terms | None, int, float]] = []
    for at, (j, cos) in enumerate(pairs):
        if best is None or j in keep:
            out.append((j, cos, round(scorer.score(profiles[j], cos), 4), None))
        elif bounds is not None:
            staged.append((bounds[at], None, j, cos))
        else:
            staged.append((*scorer.staged(profiles[j], cos), j, cos))
    rest: list[tuple[float, Terms | None, int, float]] = []
    if staged:
        assert best is not None
        staged.sort(key=_first, reverse=True)
        ranked: list[float] = []  # the ``best`` best scores under ``least`` so far (a heap: least first)
        for at, (bound, terms, j, cos) in enumerate(staged):
            top = (ranked[0] if ranked else math.inf) if len(ranked) >= best else -math.inf
            if bound + _SLACK < min(least, max(floor, top)):
                rest = staged[at:]  # so are all the bounds after it
                break
            score = round(scorer.score(profiles[j], cos, terms), 4)
            out.append((j, cos, score, None))
            if score < least:
                if len(ranked) < best:
                    heapq.heappush(ranked, score)
                elif score > ranked[0]:
                    heapq.heapreplace(ranked, score)
    out.sort(key=_best_first)
    return Ranking(out, rest, scorer, profiles)


class Ranking:
    """A benchmark's pairs with a text, best first, as ``(row, cosine, score, agreement)`` (the
    agreement None until the caller compares the math), read as a list: ``len`` counts every pair,
    and ``ranking[k]`` is the whole list's place ``k``. The places before :attr:`known` are exact as
    scored: every pair :func:`best_scores` left unscored ranks after them (its bound is under their
    scores). Reading a place from :attr:`known` on scores the rest first (:meth:`score_all`).
    :attr:`pairs`: the pairs scored so far, in order; the others are not lexical, under ``least``,
    and were never read."""

    __slots__ = ("known", "pairs", "profiles", "rest", "scorer")

    def __init__(
        self,
        pairs: list[tuple[int, float, float, Any]],
        rest: list[tuple[float, Terms | None, int, float]],
        scorer: PairScorer,
        profiles: Sequence[TextProfile],
    ) -> None:
        self.pairs = pairs  # the scored pairs, best first
        self.rest = rest  # the others: (bound, terms, row, cosine), the highest bound first
        self.scorer = scorer
        self.profiles = profiles
        # every pair left unscored scores under its bound, so under a score over every bound
        over = rest[0][0] + _SLACK if rest else -math.inf
        self.known = next((k for k, p in enumerate(pairs) if p[2] <= over), len(pairs))

    def __len__(self) -> int:
        return len(self.pairs) + len(self.rest)

    def __getitem__(self, k: int) -> tuple[int, float, float, Any]:
        if k >= self.known and self.rest:
            self.score_all()
        return self.pairs[k]

    def __setitem__(self, k: int, pair: tuple[int, float, float, Any]) -> None:
        assert k < self.known
        self.pairs[k] = pair

    def score_all(self) -> None:
        """Score the pairs left unscored: every place is then known."""
        profiles, score = self.profiles, self.scorer.score
        self.pairs += [
            (j, cos, round(score(profiles[j], cos, terms), 4), None) for _, terms, j, cos in self.rest
        ]
        self.pairs.sort(key=_best_first)
        self.rest = []
        self.known = len(self.pairs)


_SLACK = 1e-4  # a bound under the bar by this much: its score rounded to 4 places is under it too
Terms = tuple[float, float, float, int, float]  # recall, precision, information, shared, words


def _best_first(pair: tuple[int, float, float, Any]) -> tuple[float, int]:
    return -pair[2], pair[0]


def _first(staged: tuple[float, Terms | None, int, float]) -> float:
    return staged[0]


class PairScorer:
    """The match scores of one text against items of one benchmark, with what the text brings
    computed once: :meth:`score` is :func:`match_score`; :meth:`staged` gives a pair's cheap terms
    and a bound of its score without the common subsequences."""

    __slots__ = (
        "benchmark", "have", "known", "length", "numbers", "sequence", "skeleton", "total", "weight",
        "words",
    )  # fmt: skip

    def __init__(self, text: TextProfile, benchmark: str, stats: BenchmarkStats) -> None:
        self.benchmark = benchmark
        idf = stats.idf
        unknown = idf[""]
        total = text.totals.get(benchmark)
        if total is None:
            total = text.totals[benchmark] = math.fsum(idf.get(w, unknown) for w in text.words)
        self.total = total
        self.known = {w: idf[w] for w in text.words if w in idf}  # the text's words the benchmark uses
        self.words = frozenset(self.known)
        self.have = text.numbers
        self.numbers = {n: idf.get(n, unknown) for n in text.numbers}  # their information
        self.sequence = text.sequence
        self.weight = stats.skeleton_weight
        self.skeleton = text.skeletons[benchmark] if self.weight else []
        self.length = len(self.skeleton)

    def terms(self, item: TextProfile) -> Terms:
        """``numbers_recall``, ``numbers_precision``, ``numbers_information``, the count of shared
        distinct numbers and ``words_precision``."""
        need = item.numbers
        both = need & self.have
        common = math.fsum(map(self.known.__getitem__, self.words & item.words))
        words = common / self.total if self.total else 0.0
        if not both:
            return 0.0, 0.0, 0.0, 0, words
        shared = len(both)
        information = math.fsum(map(self.numbers.__getitem__, both))
        return shared / len(need), shared / len(self.have), information, shared, words

    def score(self, item: TextProfile, cosine: float, terms: Terms | None = None) -> float:
        """The match score (``terms``: :meth:`terms`, when known)."""
        recall, precision, information, shared, words = self.terms(item) if terms is None else terms
        in_order = lcs(item.sequence, self.sequence) / len(item.sequence) if item.sequence and shared else 0.0
        shape = 0.0
        if self.weight:
            mine, theirs = self.skeleton, item.skeletons[self.benchmark]
            shape = lcs(theirs, mine) / max(len(theirs), len(mine), 1)
        return _sum(cosine, recall, precision, in_order, words, information, self.weight, shape)

    def staged(self, item: TextProfile, cosine: float) -> tuple[float, Terms]:
        """:meth:`terms`, and a bound of the score: at least :meth:`score`, with the common
        subsequences at their longest (the shorter sequence). (The score's own sum with larger
        terms: float rounding keeps it at least the score.)"""
        terms = self.terms(item)
        recall, precision, information, shared, words = terms
        size = len(item.sequence)
        in_order = min(size, len(self.sequence)) / size if shared and size else 0.0
        shape = 0.0
        weight = self.weight
        if weight:
            theirs, mine = len(item.skeletons[self.benchmark]), self.length
            shape = min(mine, theirs) / max(mine, theirs, 1)
        return _sum(cosine, recall, precision, in_order, words, information, weight, shape), terms


def _sum(
    cosine: float, recall: float, precision: float, in_order: float, words: float, information: float,
    weight: float, shape: float,
) -> float:  # fmt: skip
    """The score from its terms (one expression, so that a bound adds up in the same order)."""
    return (
        cosine + 0.3 * recall + 0.2 * precision + 0.2 * in_order + 0.5 * words
        + 0.03 * information * recall * precision + weight * shape
    )  # fmt: skip
