"""Checks on candidates: is a rephrased question usable, is an answer verified against the gold answer.

Each check returns None for a pass, or a ``(reason, detail)`` pair that becomes a reject. The copy
checks behind ``question_copies_seed``, ``duplicate_rephrasing`` and ``answer_copies_original`` live in
``similarity.py``, the diagram checks (``adds_diagram``, ``drops_diagram``) in ``diagrams.py``, the
formula check (``changed_math``) in ``expressions.py``, the condition check (``changed_condition``) in
``conditions.py``, the number checks (``missing_numbers``, ``added_numbers``) in ``numbers.py``; answer
equivalence in ``synthmath.answers``.
Checking an answer runs sympy: call :func:`check_answer` in a worker process, with a timeout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..answers import VerificationTimeout, answers_equivalent, extract_boxed
from ..mathtext import numbers_in
from .conditions import changed_condition
from .diagrams import adds_diagram, drops_diagram
from .expressions import changed_math
from .numbers import added_numbers, asked, drop_choices, missing_numbers
from .similarity import (
    ANSWER_COPY_THRESHOLD,
    DUPLICATE_THRESHOLD,
    QUESTION_COPY_THRESHOLD,
    answer_copies_original,
    duplicate_rephrasing,
    question_copies_seed,
)

__all__ = [
    "added_numbers",
    "asked",
    "check_answer",
    "check_question",
    "clean_question",
    "drop_choices",
    "missing_numbers",
    "numbers_in",
]

Failure = tuple[str, str]

_PREFIX = re.compile(
    r"^\s*(?:\*\*)?\s*(?:(?:rephrased|rephrasing|reworded|rewording|rewritten|restated|paraphrased|"
    r"paraphrase|new|revised)\s*(?:version|question|problem)?|question|problem|version)"
    r"(?:\s*(?:#|no\.\s*)?\d{1,2})?"  # a numbered label: "Rephrased question 2:", "Version #3:"
    r"\s*(?:\*\*)?\s*:\s*(?:\*\*)?\s*",
    re.I,
)
_ANNOUNCE = re.compile(r"rephras|reword|rewrit|restat|paraphras|question|problem|version", re.I)


def clean_question(text: str) -> str:
    """A model's rephrasing without a leading label or wrapping quotes.

    Removes ``Rephrased question:`` and the like at the start, and a short first line that only
    announces the rephrasing (``Here is the rephrased problem:``).
    """
    s = text.strip()
    first, sep, rest = s.partition("\n")
    announces = first.rstrip().endswith(":") and len(first) < 60 and not re.search(r"[\d$\\]", first)
    if sep and rest.strip() and announces and _ANNOUNCE.search(first):
        s = rest.strip()
    m = _PREFIX.match(s)
    if m and m.end() < len(s) and len(s) - m.end() > 10:
        s = s[m.end() :].strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1].strip()
    return s


def check_question(
    original: str,
    candidate: str,
    finish_reason: str | None,
    earlier: Sequence[str],
    *,
    require_numbers: bool = True,
    check_math: bool = True,
    check_conditions: bool = True,
    copy_threshold: float = QUESTION_COPY_THRESHOLD,
    duplicate_threshold: float = DUPLICATE_THRESHOLD,
    gold: str | None = None,
) -> Failure | None:
    """Whether a rephrased question is usable: complete, non-empty, not a copy of the seed problem, not
    a near-duplicate of an ``earlier`` kept rephrasing of the same seed, drawing no diagram of its own
    and keeping the diagrams the problem needs, keeping every number of the original and adding none
    (``require_numbers``), keeping its formulas (``check_math``) and its conditions and qualifiers
    (``check_conditions``). The checks run in that order and the first failure is the reason.

    ``gold``, the seed's gold answer, lets a rewording drop the answer choices of a multiple-choice
    problem whose gold answer is a value: the choices' numbers are then not asked for. A rewording
    that gives no example may drop the original's worked examples (see :func:`asked`)."""
    if finish_reason == "length":
        return "truncated", "the reply hit max_tokens before it ended"
    if not candidate.strip():
        return "empty", "the reply was empty"
    copy = question_copies_seed(original, candidate, threshold=copy_threshold)
    if copy.copied:
        return "question_copies_seed", copy.detail("the seed problem")
    dup, score = duplicate_rephrasing(candidate, earlier, threshold=duplicate_threshold)
    if dup is not None:
        return "duplicate_rephrasing", f"near-duplicate of kept rephrasing {dup} (similarity {score:.1f})"
    failure = adds_diagram(original, candidate) or drops_diagram(original, candidate)
    if failure is not None:
        return failure
    source = asked(original, candidate, gold)  # the original as the rewording must keep it
    if require_numbers:
        missing = missing_numbers(source, candidate)
        if missing:
            return "missing_numbers", f"drops number(s) of the original: {', '.join(missing[:10])}"
        added = added_numbers(original, candidate)
        if added:
            return "added_numbers", f"writes number(s) the original does not have: {', '.join(added[:10])}"
    if check_math:
        failure = changed_math(source, candidate)
        if failure is not None:
            return failure
    if check_conditions:
        return changed_condition(source, candidate)
    return None


def check_answer(
    text: str,
    finish_reason: str | None,
    gold: str,
    *,
    original: str | None = None,
    copy_threshold: float | None = ANSWER_COPY_THRESHOLD,
    timeout: float | None = None,
) -> tuple[str | None, Failure | None]:
    """The extracted final answer, and why the answer fails (None when it is verified).

    ``original`` is the seed's solution: an answer that copies it (a DPO pair whose chosen equals its
    rejected) fails as ``answer_copies_original``; ``copy_threshold`` None turns that check off.
    ``timeout`` bounds the equivalence check (see :func:`synthmath.answers_equivalent`); past it the
    answer fails as ``verify_timeout``.
    """
    if finish_reason == "length":
        return extract_boxed(text), ("truncated", "the reply hit max_tokens before it ended")
    if not text.strip():
        return None, ("empty", "the reply was empty")
    extracted = extract_boxed(text)
    if extracted is None:
        return None, ("no_boxed_answer", "no complete \\boxed{} final answer")
    if original is not None and copy_threshold is not None:
        copy = answer_copies_original(text, original, threshold=copy_threshold)
        if copy.copied:
            return extracted, ("answer_copies_original", copy.detail("the original solution"))
    try:
        same = answers_equivalent(extracted, gold, timeout=timeout)
    except VerificationTimeout:
        detail = f"checking {extracted!r} against the gold answer took over {timeout:g} s"
        return extracted, ("verify_timeout", detail)
    if not same:
        return extracted, ("wrong_answer", f"final answer {extracted!r} is not equivalent to gold {gold!r}")
    return extracted, None
