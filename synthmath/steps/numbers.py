"""The number checks: a rewording keeps every number of its problem and writes none of its own.

``missing_numbers`` (a number of the original that the rewording mentions neither in digits nor in
words) and ``added_numbers`` (the same test the other way round: a rewording that writes new numbers
has usually started solving the problem, or changed it). Numbers are read by
:func:`synthmath.mathtext.numbers_in`: LaTeX as LaTeX, number words as numbers, a diagram's labels but
never its drawing code.

What a faithful rewording may leave out without losing a number of the problem, each measured on real
rewordings (docs/verification.md):

- the answer choices of a multiple-choice problem whose gold answer is a value;
- a strict bound said inclusively ("greater than 9" as "from 10");
- the inner terms of a list or sum with an ellipsis whose first and last terms it keeps, also when the
  list is written as one formula per term (``$z_1,$ $z_2,$ $\\dots,$ $z_{20}$``);
- the numbers of a numbered list's items ("1. The tens digit is odd.");
- a worked example it drops ("For example, 102 is divisible by 1 and 2"): an example shows a
  definition the text states, and a rewording that keeps the definition keeps the problem. A rewording
  that gives an example must keep its numbers.
"""

from __future__ import annotations

import re

from ..mathtext import numbers_in
from .expressions import formulas

__all__ = ["added_numbers", "asked", "drop_choices", "examples", "missing_numbers"]


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


# one formula per term of a list: "$z_1,$ $z_2,$ $\\dots,$ $z_{20}$" (two dollars apart, commas between)
_LIST_GAP = re.compile(r"(?<=[^$])\$(\s*,?\s+|,\s*)\$(?=[^$])")


def _inner_terms(text: str, have: set[str]) -> set[str]:
    """Numbers of a formula with an ellipsis that lie strictly between its smallest and largest
    number, when ``have`` holds both ends: "$\\cos^2 0^\\circ + \\cos^2 1^\\circ + \\dots +
    \\cos^2 90^\\circ$" is "the sum from $0^\\circ$ to $90^\\circ$" without its 1. A list written as
    one formula per term counts as one formula."""
    inner: set[str] = set()
    for formula in formulas(_LIST_GAP.sub(r"\1", text)):
        if not _ELLIPSIS.search(formula):
            continue
        found = numbers_in(formula, words=False)
        values = {n: float(n) for n in found}
        low, high = min(values.values(), default=0.0), max(values.values(), default=0.0)
        ends = {n for n, v in values.items() if v in (low, high)}
        if ends <= have:
            inner |= {n for n, v in values.items() if low < v < high}
    return inner


# a worked example: from "for example" / "for instance" / "e.g." to the end of its sentence or bracket
_EXAMPLE = re.compile(r"\b(?:for (?:example|instance)|e\.\s?g\.)", re.I)
_MATH_DOLLARS = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.DOTALL)


def _blank(m: re.Match[str]) -> str:
    """A formula as as many letters (no full stop inside it ends a sentence), but for a full stop
    that ends it: ``$\\{2.7\\} = 0.7.$``."""
    span = m.group(0)
    return "x" * (len(span) - 1) + ("." if span.rstrip("$").endswith(".") else "x")


def examples(text: str) -> list[str]:
    """The worked examples of ``text``: each from "for example" (or "for instance", "e.g.") to the end
    of its sentence, or to the bracket that closes around it ("(so that, for example, if you roll 4,
    you win $\\$4$)"). Full stops inside formulas do not end a sentence."""
    masked = _MATH_DOLLARS.sub(_blank, text.replace("\\$", "xx"))
    found = []
    for m in _EXAMPLE.finditer(masked):
        depth = masked.count("(", 0, m.start()) - masked.count(")", 0, m.start())
        end, level = len(masked), 0
        for i in range(m.end(), len(masked)):
            c = masked[i]
            level += (c == "(") - (c == ")")
            if (c == ")" and level < 0 and depth > 0) or masked.startswith("\n\n", i):
                end = i
                break
            if c in ".!?" and level <= 0 and (i + 1 == len(masked) or masked[i + 1].isspace()):
                end = i + 1
                break
        found.append(text[m.start() : end])
    return found


def _dropped_examples(original: str, rephrased: str) -> set[str]:
    """The numbers only the original's worked examples write, when the rewording gives no example."""
    if _EXAMPLE.search(rephrased) is not None:
        return set()
    shown: set[str] = set()
    for example in examples(original):
        shown |= numbers_in(example, words=False) - numbers_in(original.replace(example, " "), words=False)
    return shown


# the number of an item of a numbered list ("1. The number is a two-digit integer."): no quantity
_LIST_MARK = re.compile(r"(?m)^[ \t]*\(?\d{1,2}[.)][ \t]+(?=[A-Za-z$\\])")


def asked(original: str, rephrased: str, gold: str | None) -> str:
    """The original as a rewording must keep it: without its answer choices when the rewording drops
    them all and the gold answer is a value, and without its worked examples when the rewording gives
    no example."""
    source = _choices_optional(original, rephrased, gold)
    if _EXAMPLE.search(rephrased) is None:
        for example in examples(source):
            source = source.replace(example, " ")
    return source


def missing_numbers(original: str, rephrased: str) -> list[str]:
    """Numbers ``original`` writes in digits that ``rephrased`` mentions neither in digits nor in words.

    Not missing: a strict bound said as an inclusive one ("greater than 9 and less than 100" as
    "between 10 and 99"), the inner terms of a formula with an ellipsis whose first and last
    terms the rewording keeps ("$25\\cdot 24\\cdot 23 \\cdots 2\\cdot 1$" as "the numbers from 25 down
    to 1"), and the numbers of a worked example the rewording drops whole."""
    original, rephrased = _LIST_MARK.sub(" ", original), _LIST_MARK.sub(" ", rephrased)
    have = numbers_in(rephrased, hints=True)
    missing = numbers_in(original, words=False) - have
    if missing:
        pairs = _same_bounds(original, rephrased)
        missing = {n for n in missing if not any(n in p and p - {n} <= have for p in pairs)}
    if missing:
        missing -= _inner_terms(original, have)
    if missing:
        missing -= _dropped_examples(original, rephrased)
    return sorted(missing, key=lambda s: (len(s), s))


def added_numbers(original: str, rephrased: str) -> list[str]:
    """Numbers ``rephrased`` writes in digits that ``original`` mentions neither in digits nor in words.

    A rewording keeps the problem's numbers; one that writes new ones has usually started solving it
    (intermediate results, the answer itself) or changed it.
    """
    return missing_numbers(rephrased, original)  # the same test, the other way round
