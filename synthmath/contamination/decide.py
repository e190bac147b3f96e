"""Where ``same_problem`` is decided: the level of one (text, benchmark item) pair, once retrieval has
proposed the item and :func:`~synthmath.contamination.mathsig.compare` has compared their mathematics.

``same_problem`` needs the same mathematics *and* evidence that the pair is one problem: the same
wording (a lexical match whose changed words are not mathematical, :mod:`.wording`), a score at the
benchmark's calibrated problem threshold, or the text's nearest item standing out (:func:`nearest`).
A distance alone never decides; in word-problem benchmarks (GSM8K) the calibrated score, which weighs
the numbers, does (see :mod:`.check`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .mathsig import RARE_ATOMS, MathAgreement, formulas_differ, signs_changed, written_as_item
from .results import Level
from .scoring import BenchmarkStats, TextProfile
from .settings import Thresholds
from .wording import near_copy, wording_changed

__all__ = ["RIVALS", "kept_math", "nearest", "pair_level"]

Scored = tuple[int, float, float, Any]  # (item row, cosine, score, MathAgreement or None), best first
RIVALS = 8  # items after the best whose math the nearest rule compares, looking for a rival
_DRAWN = 12  # numbers in a diagram that a text keeps whole to keep its math (the trapezoid's corners)
_KEPT_LATEX = 0.7  # share of the item's LaTeX atoms a text keeps, in order, to keep its math


def pair_level(
    text: TextProfile,
    item: TextProfile,
    stats: BenchmarkStats,
    bars: tuple[float | None, float | None],
    lexical: bool,
    score: float,
    agreement: MathAgreement | None,
    alone: bool,
) -> Level | None:
    """The level of one pair. ``bars``: the benchmark's (problem, template) thresholds (None without the
    embedding stage); ``lexical``: an n-gram or exact stage matched the item; ``alone``: the item is the
    text's nearest and stands out (:func:`nearest`)."""
    if agreement is None:  # under every threshold, and not the best-scoring item
        return None
    if (
        lexical
    ):  # the item's wording: the same problem only with the same math and no mathematical word swapped
        same = (agreement.same_math or alone) and not _changes_problem(text, item)
        return "same_problem" if same else "same_template"
    problem, template = bars
    assert problem is not None and template is not None  # only the embedding stage proposes others
    # word problems: the calibrated score, which weighs the numbers, decides
    same_math = True if stats.skeleton_weight else agreement.same_math
    bar = template if stats.skeleton_weight else problem
    if (same_math and score >= bar) or alone:  # unless it is the item's wording with a word swapped
        return "same_template" if _changes_problem(text, item) else "same_problem"
    if score >= template:
        return "same_template"
    return None


def _changes_problem(text: TextProfile, item: TextProfile) -> bool:
    """The text is the item's wording with a change that makes another problem: a word swapped, a
    condition or negation added or dropped, numbers exchanged (:func:`wording_changed`), the very
    same words and numbers with other signs between them (:func:`signs_changed`, which the words do not
    show: ``$-3$`` and ``$3$`` are the same tokens), or a near-copy whose LaTeX brings letters, numbers
    or operations the item's lacks (:func:`formulas_differ`)."""
    if list(text.tokens) == list(item.tokens):
        return signs_changed(text.math, item.math)
    # as the item writes it: a quantity in other units, an angle in radians or letters renamed one for
    # one change words and numbers, not the problem (``$\frac{\pi}{2}$`` / ``$90^\circ$``, "2 feet" /
    # "24 inches", triangle ``ABC`` / ``PQR``)
    math = written_as_item(text.math, item.math)
    if wording_changed(text.tokens, item.tokens, numbers=math.numbers == text.math.numbers):
        return True
    # the item's words with math of its own added (``x^2+y^2`` asked for ``xy``); math said in words,
    # or a "$" left open, only takes some away
    return formulas_differ(math, item.math) and near_copy(text.tokens, item.tokens)


def nearest(
    scored: list[Scored],
    text: TextProfile,
    profiles: Any,
    stats: BenchmarkStats,
    t: Thresholds,
    agreement_at: Callable[[int], MathAgreement],
) -> int:
    """The row of the text's best-scoring item when it stands out (``profiles``: every item's profile,
    by row; ``agreement_at(k)``: the math comparison of ``scored[k]``, made when first asked for): a
    rewording sits far closer to its item than to any other whose mathematics it could be. The item
    stands out

    - with its mathematics (:attr:`MathAgreement.same_math`), a margin of ``nearest_margin`` over the
      next item and a score of ``nearest_score``;
    - with its mathematics *kept* (:func:`kept_math`: the text adds none of its own, keeps at least
      half of the item's numbers and something specific; real rewordings drop a diagram's labels or
      the answer choices), a cosine of ``kept_cosine`` and a margin of ``nearest_margin`` over the next
      **rival**: an item whose mathematics the text keeps too. A template twin of the item (same
      words, other numbers or operators) is no rival however close its words: the text contradicts
      its math. The rivals are looked for among the next :data:`RIVALS` items; past them, the next
      item counts as one;
    - with nothing of the item replaced, ``clear_score`` and ``clear_margin``.

    -1 when no item stands out."""
    if not scored:
        return -1
    j, cos, score, _ = scored[0]
    beyond = _near_beyond(scored, t)
    if not beyond and (cos < t.nearest_cosine or (score < t.nearest_score and cos < t.kept_cosine)):
        return -1  # no rule below can hold, whatever the math says: nothing to compare

    def kept_and_alone(k: int) -> bool:
        """``scored[k]`` keeps its math (:func:`kept_math`), near in words, over the rivals after it."""
        row, near, best, _ = scored[k]
        return (
            near >= t.kept_cosine
            and kept_math(agreement_at(k), text, profiles[row], stats, t.kept_information)
            and best - _rival(scored, k + 1, agreement_at) >= t.nearest_margin
        )

    agreement = agreement_at(0)
    if agreement.replaced:
        # the best item is a sibling of the text's problem: the next item whose math the text does not
        # contradict may be its own (a rewording of an item with template twins, nearer to a twin)
        if not beyond:
            return -1  # none of the next items is near enough in words to stand out
        end = min(len(scored), RIVALS + 1)
        first = next((k for k in range(1, end) if not agreement_at(k).replaced), None)
        return scored[first][0] if first is not None and kept_and_alone(first) else -1
    if cos < t.nearest_cosine:
        return -1
    margin = score - scored[1][2] if len(scored) > 1 else score
    if agreement.same_math and score >= t.nearest_score and margin >= t.nearest_margin:
        return j
    if kept_and_alone(0):
        return j
    return j if score >= t.clear_score and margin >= t.clear_margin else -1


def _near_beyond(scored: list[Scored], t: Thresholds) -> bool:
    """One of the next :data:`RIVALS` items after the best has the cosine the kept-math rule needs."""
    return any(scored[k][1] >= t.kept_cosine for k in range(1, min(len(scored), RIVALS + 1)))


def _rival(scored: list[Scored], start: int, agreement_at: Callable[[int], MathAgreement]) -> float:
    """The score of the first item from ``start`` on whose mathematics the text keeps (0 when none)."""
    for k in range(start, min(len(scored), start + RIVALS)):
        if agreement_at(k).same_math:
            return scored[k][2]
    return scored[start + RIVALS][2] if len(scored) > start + RIVALS else 0.0


def kept_math(
    agreement: MathAgreement, text: TextProfile, item: TextProfile, stats: BenchmarkStats, information: float
) -> bool:
    """The text keeps the item's mathematics, or a part of it, and adds none of its own: nothing
    replaced, no number, symbol or formula the item lacks, at least half of the item's numbers, and
    something specific kept: numbers worth ``information`` (summed IDF: 220 and 4500 say more than 2
    and 3), most of the item's LaTeX (``_KEPT_LATEX`` of it in order, at least :data:`RARE_ATOMS`
    atoms), or the item's diagram, whole (at least ``_DRAWN`` numbers in its code)."""
    a = agreement
    if a.replaced or a.extra or a.extra_symbols or a.atom_precision < 1.0:
        return False
    if a.size and len(a.missing) * 2 > a.size:
        return False
    longer = max(len(text.math.atoms), len(item.math.atoms))
    if a.expressions >= _KEPT_LATEX and a.expressions * longer >= RARE_ATOMS:
        return True
    idf = stats.idf
    shared = math.fsum(idf.get(n, idf[""]) for n in text.numbers & item.numbers)
    drawn = item.math.diagram
    return shared >= information or (
        drawn is not None and drawn.total() >= _DRAWN and text.math.diagram == drawn
    )
