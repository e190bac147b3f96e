"""Checks on candidates: is a rephrased question usable, is an answer verified against the gold answer.

Each check returns None for a pass, or a ``(reason, detail)`` pair that becomes a reject. The copy
checks behind ``question_copies_seed``, ``duplicate_rephrasing`` and ``answer_copies_original`` live in
``similarity.py``, the diagram checks (``adds_diagram``, ``drops_diagram``) in ``diagrams.py``, the
formula check (``changed_math``) in ``expressions.py``, the condition check (``changed_condition``) in
``conditions.py``; answer equivalence in ``synthmath.answers``.
Checking an answer runs sympy: call :func:`check_answer` in a worker process, with a timeout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..answers import VerificationTimeout, answers_equivalent, extract_boxed
from ..mathtext import numbers_in
from .conditions import changed_condition
from .diagrams import adds_diagram, drops_diagram
from .expressions import changed_math, formulas
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
    "check_answer",
    "check_question",
    "clean_question",
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


# the answer choices of a multiple-choice problem: "$\\textbf{(A)}\\ 2128 \\qquad ... \\textbf{(E)}\\ 2300$"
_CHOICE = re.compile(r"\((?:[A-E])\)")
_CHOICES_START = re.compile(r"(?:\$\s*)?(?:\\(?:textbf|text|mathrm|mbox)\s*\{\s*)?\(A\)")
_LETTER_NOISE = re.compile(r"\\(?:textbf|text|mathrm|mbox)|[{}()\s,]|\\[,;! ]|\band\b")


def drop_choices(problem: str) -> str:
    """``problem`` without its multiple-choice answers (from "(A)" to the end of the line of the last
    choice), or ``problem`` when it has none."""
    start = _CHOICES_START.search(problem)
    if start is None or not _CHOICE.search(problem, start.end()):
        return problem
    last = list(_CHOICE.finditer(problem, start.end()))[-1]
    end = problem.find("\n", last.end())
    return problem[: start.start()] + (problem[end:] if end >= 0 else "")


def _choices_optional(original: str, rephrased: str, gold: str | None) -> str:
    """The original to take numbers from: without its answer choices when the rewording drops them all
    and the gold answer is a value, not a letter (the choices are then no part of the question)."""
    letters = _LETTER_NOISE.sub("", gold) if gold is not None else ""
    if gold is None or re.fullmatch(r"[A-E]+", letters) or _CHOICE.search(rephrased):
        return original
    return drop_choices(original)


# a strict bound: "greater than 9" is "at least 10" for whole numbers, "less than 100" is "at most 99"
_LOWER_STRICT = re.compile(
    r"(?:\b(?:greater|more|larger|bigger) than|\bexceeds?|\babove|\bover|>)\s*\$?\s*(\d+)(?![\d.])"
)
_UPPER_STRICT = re.compile(r"(?:\b(?:less|fewer|smaller) than|\bbelow|\bunder|<)\s*\$?\s*(\d+)(?![\d.])")
_ELLIPSIS = re.compile(r"\\[lc]?dots[bmc]?|\.\.\.")


def _same_bounds(*texts: str) -> set[frozenset[str]]:
    """Pairs of numbers that state one bound two ways: {9, 10} for "greater than 9" (then "10 or
    more" and "from 10" say it too), {99, 100} for "less than 100"."""
    pairs = set()
    for text in texts:
        pairs |= {frozenset({m.group(1), str(int(m.group(1)) + 1)}) for m in _LOWER_STRICT.finditer(text)}
        pairs |= {frozenset({m.group(1), str(int(m.group(1)) - 1)}) for m in _UPPER_STRICT.finditer(text)}
    return pairs


def _inner_terms(text: str, have: set[str]) -> set[str]:
    """Numbers of a formula with an ellipsis that lie strictly between its smallest and largest
    number, when ``have`` holds both ends: "$\\cos^2 0^\\circ + \\cos^2 1^\\circ + \\dots +
    \\cos^2 90^\\circ$" is "the sum from $0^\\circ$ to $90^\\circ$" without its 1."""
    inner: set[str] = set()
    for formula in formulas(text):
        if not _ELLIPSIS.search(formula):
            continue
        found = numbers_in(formula, words=False)
        values = {n: float(n) for n in found}
        low, high = min(values.values(), default=0.0), max(values.values(), default=0.0)
        ends = {n for n, v in values.items() if v in (low, high)}
        if ends <= have:
            inner |= {n for n, v in values.items() if low < v < high}
    return inner


def missing_numbers(original: str, rephrased: str) -> list[str]:
    """Numbers ``original`` writes in digits that ``rephrased`` mentions neither in digits nor in words.

    Not missing: a strict bound said as an inclusive one ("greater than 9 and less than 100" as
    "between 10 and 99"), and the inner terms of a formula with an ellipsis whose first and last
    terms the rewording keeps ("$25\\cdot 24\\cdot 23 \\cdots 2\\cdot 1$" as "the numbers from 25 down
    to 1")."""
    have = numbers_in(rephrased, hints=True)
    missing = numbers_in(original, words=False) - have
    if missing:
        pairs = _same_bounds(original, rephrased)
        missing = {n for n in missing if not any(n in p and p - {n} <= have for p in pairs)}
    if missing:
        missing -= _inner_terms(original, have)
    return sorted(missing, key=lambda s: (len(s), s))


def added_numbers(original: str, rephrased: str) -> list[str]:
    """Numbers ``rephrased`` writes in digits that ``original`` mentions neither in digits nor in words.

    A rewording keeps the problem's numbers; one that writes new ones has usually started solving it
    (intermediate results, the answer itself) or changed it.
    """
    return missing_numbers(rephrased, original)  # the same test, the other way round


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
    problem whose gold answer is a value: the choices' numbers are then not asked for."""
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
    source = _choices_optional(original, candidate, gold)  # the original as the rewording must keep it
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
