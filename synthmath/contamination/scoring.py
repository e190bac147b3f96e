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

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .benchmarks import Benchmark
from .mathsig import MathProfile, lcs, math_profile

__all__ = ["BenchmarkStats", "TextProfile", "lcs", "match_score", "skeleton_weight"]

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
    need, have = item.numbers, text.numbers
    shared = len(need & have)
    recall = shared / len(need) if need else 0.0
    precision = shared / len(have) if have else 0.0
    in_order = lcs(item.sequence, text.sequence) / len(item.sequence) if item.sequence and shared else 0.0
    idf = stats.idf
    unknown = idf[""]
    total = text.totals.get(benchmark)
    if total is None:
        total = text.totals[benchmark] = math.fsum(idf.get(w, unknown) for w in text.words)
    common = math.fsum(idf[w] for w in text.words & item.words if w in idf)
    words = common / total if total else 0.0
    information = math.fsum(idf.get(n, unknown) for n in need & have) if shared else 0.0
    weight = stats.skeleton_weight
    shape = 0.0
    if weight:
        mine, theirs = text.skeletons[benchmark], item.skeletons[benchmark]
        shape = lcs(theirs, mine) / max(len(theirs), len(mine), 1)
    return (
        cosine + 0.3 * recall + 0.2 * precision + 0.2 * in_order + 0.5 * words
        + 0.03 * information * recall * precision + weight * shape
    )  # fmt: skip
