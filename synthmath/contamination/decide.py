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
from typing import Any

from .mathsig import RARE_ATOMS, MathAgreement
from .results import Level
from .scoring import BenchmarkStats, TextProfile
from .settings import Thresholds
from .wording import wording_changed

__all__ = ["kept_math", "nearest", "pair_level"]

Scored = tuple[int, float, float, Any]  # (item row, cosine, score, MathAgreement or None), best first
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
        same = (agreement.same_math or alone) and not wording_changed(text.tokens, item.tokens)
        return "same_problem" if same else "same_template"
    problem, template = bars
    assert problem is not None and template is not None  # only the embedding stage proposes others
    # word problems: the calibrated score, which weighs the numbers, decides
    same_math = True if stats.skeleton_weight else agreement.same_math
    bar = template if stats.skeleton_weight else problem
    if (same_math and score >= bar) or alone:  # unless it is the item's wording with a word swapped
        return "same_template" if wording_changed(text.tokens, item.tokens) else "same_problem"
    if score >= template:
        return "same_template"
    return None


def nearest(
    scored: list[Scored], text: TextProfile, profiles: Any, stats: BenchmarkStats, t: Thresholds
) -> int:
    """The row of the text's best-scoring item when it stands out (``profiles``: every item's profile,
    by row): a rewording sits far closer to its item than to any other whose mathematics it could be.
    The margin is taken over the next item that is a rival: one whose math the text does not
    contradict (:attr:`MathAgreement.replaced`: a template sibling of the text's problem, with other
    numbers or operators, is no rival however close its words). The item stands out

    - with its mathematics (:attr:`MathAgreement.same_math`), a margin of ``nearest_margin`` and a
      score of ``nearest_score``;
    - with its mathematics *kept* (:func:`kept_math`: the text adds none of its own, keeps at least
      half of the item's numbers and something specific; real rewordings drop a diagram's labels or
      the answer choices), a cosine of ``kept_cosine`` and a margin of ``nearest_margin`` over rivals;
    - with nothing of the item replaced, ``clear_score`` and ``clear_margin``.

    -1 when no item stands out."""
    if not scored:
        return -1
    j, cos, score, agreement = scored[0]
    if agreement.replaced:  # the best item is a sibling of the text's problem: is the next one it?
        return _kept_beyond_siblings(scored, text, profiles, stats, t)
    margin = score - scored[1][2] if len(scored) > 1 else score
    rival = next((r for r in scored[1:] if r[3] is None or not r[3].replaced), None)
    over_rivals = score - rival[2] if rival is not None else score
    if cos < t.nearest_cosine:
        return -1
    if agreement.same_math and score >= t.nearest_score and margin >= t.nearest_margin:
        return j
    if (
        cos >= t.kept_cosine
        and over_rivals >= t.nearest_margin
        and kept_math(agreement, text, profiles[j], stats, t.kept_information)
    ):
        return j
    return j if score >= t.clear_score and margin >= t.clear_margin else -1


def _kept_beyond_siblings(
    scored: list[Scored], text: TextProfile, profiles: Any, stats: BenchmarkStats, t: Thresholds
) -> int:
    """The best-scoring item whose math the text does not contradict, when the text keeps its math and
    it stands out over the other such items: a rewording of an item that has template twins may score
    nearer to a twin (same words, another function or number) than to its own item."""
    kept = [r for r in scored if r[3] is not None and not r[3].replaced]
    if not kept or any(r[3] is None for r in scored[: scored.index(kept[0])]):
        return -1  # an item above it was never compared
    j, cos, score, agreement = kept[0]
    over_rivals = score - kept[1][2] if len(kept) > 1 else score
    if (
        cos >= t.kept_cosine
        and over_rivals >= t.nearest_margin
        and kept_math(agreement, text, profiles[j], stats, t.kept_information)
    ):
        return j
    return -1


def kept_math(
    agreement: MathAgreement, text: TextProfile, item: TextProfile, stats: BenchmarkStats, information: float
) -> bool:
    """The text keeps the item's mathematics, or a part of it, and adds none of its own: nothing
    replaced, no number, symbol or formula the item lacks, at least half of the item's numbers, and
    something specific kept: numbers worth ``information`` (summed IDF: 220 and 4500 say more than 2
    and 3) or most of the item's LaTeX (``_KEPT_LATEX`` of it in order, at least :data:`RARE_ATOMS`
    atoms)."""
    a = agreement
    if a.replaced or a.extra or a.extra_symbols or a.atom_precision < 1.0:
        return False
    if a.size and len(a.missing) * 2 > a.size:
        return False
    idf = stats.idf
    shared = math.fsum(idf.get(n, idf[""]) for n in text.numbers & item.numbers)
    longer = max(len(text.math.atoms), len(item.math.atoms))
    return shared >= information or (a.expressions >= _KEPT_LATEX and a.expressions * longer >= RARE_ATOMS)
