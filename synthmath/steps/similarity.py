"""Copy checks: is a rephrased question the seed problem again, or a chosen answer the original solution?

Two texts are compared in two ways:

- **containment**: the original (at least 20 characters), lower-cased and with whitespace collapsed,
  occurs inside the candidate (``Solve this: <seed problem>`` is a copy, whatever is around it).
  Score 100.
- **near-duplicate**: rapidfuzz's normalised Indel similarity (``fuzz.ratio``, 0 to 100), the lower of
  two: between the *prose* of the texts (lower case, whitespace collapsed, Asymptote code dropped,
  every math span replaced by one marker) and between the whole texts (lower case, whitespace
  collapsed). Prose, because an honest rewording keeps the formulas verbatim (the prompt asks for
  that): on formula-heavy problems whole-text similarity of honest rewordings reaches 96. The whole
  text too, so that two texts that are nothing but different formulas do not look alike.

Default thresholds come from measurements on real model output (docs/verification.md,
``benchmarks/question_checks.py``, ``benchmarks/copy_checks.py``). A real model's faithful rewordings
of formula-heavy problems change few prose words ("Find" -> "Determine") and score up to 94 against
the seed, so a rewording is a copy from 95 on (the seed with a word or two changed). Real reworded
solutions sit at 90-94 against the original for the same reason; a chosen answer is a copy from 95
on too. Two rewordings of one seed are duplicates from 90 on: the first is kept, and the bar is
lower because the seed itself has survived the question copy check by then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from ..mathtext import drop_diagrams, mask_math

__all__ = [
    "ANSWER_COPY_THRESHOLD",
    "DUPLICATE_THRESHOLD",
    "QUESTION_COPY_THRESHOLD",
    "CopyCheck",
    "answer_copies_original",
    "duplicate_rephrasing",
    "prose",
    "question_copies_seed",
    "similarity",
]

QUESTION_COPY_THRESHOLD = 95.0
DUPLICATE_THRESHOLD = 90.0
_MIN_CONTAINED = 20
ANSWER_COPY_THRESHOLD = 95.0


@dataclass(frozen=True)
class CopyCheck:
    """The outcome of one copy check: ``copied`` and the similarity ``score`` (0-100) behind it."""

    copied: bool
    score: float
    how: str = ""  # "contains" or "near_duplicate" when copied

    def detail(self, what: str) -> str:
        """A one-line reason for a reject."""
        if self.how == "contains":
            return f"contains {what} verbatim"
        return f"near-copy of {what} (similarity {self.score:.1f})"


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


def prose(text: str) -> str:
    """The prose of ``text`` for similarity: lower case, diagrams dropped, math spans masked."""
    return _flat(mask_math(drop_diagrams(text)))


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0 (nothing shared) to 100 (the same prose and the same math)."""
    score = min(fuzz.ratio(prose(a), prose(b)), fuzz.ratio(_flat(a), _flat(b)))
    return round(float(score), 2)


def _copy_check(original: str, candidate: str, threshold: float) -> CopyCheck:
    flat_original = _flat(original).rstrip(".?! ")
    # below this length containment says little: a one-line solution "$2+3=\\boxed{5}$" fits in many
    if len(flat_original) >= _MIN_CONTAINED and flat_original in _flat(candidate):
        return CopyCheck(True, 100.0, "contains")
    score = similarity(original, candidate)
    return CopyCheck(score >= threshold, score, "near_duplicate" if score >= threshold else "")


def question_copies_seed(
    seed_problem: str, question: str, *, threshold: float = QUESTION_COPY_THRESHOLD
) -> CopyCheck:
    """Whether a rephrased question contains the seed problem verbatim or is a near-duplicate of it."""
    return _copy_check(seed_problem, question, threshold)


def duplicate_rephrasing(
    question: str, earlier: Sequence[str], *, threshold: float = DUPLICATE_THRESHOLD
) -> tuple[int | None, float]:
    """The index of the first earlier rephrasing ``question`` near-duplicates (None if none), and the
    highest similarity to any earlier one. The first of two near-duplicates is the one to keep."""
    best, found = 0.0, None
    flat = _flat(question)
    for i, e in enumerate(earlier):
        score = 100.0 if _flat(e) == flat else similarity(e, question)
        if score >= threshold and found is None:
            found = i
        best = max(best, score)
    return found, best


def answer_copies_original(
    answer: str, original_solution: str, *, threshold: float = ANSWER_COPY_THRESHOLD
) -> CopyCheck:
    """Whether a chosen answer contains the original solution verbatim or is a near-copy of it."""
    return _copy_check(original_solution, answer, threshold)
