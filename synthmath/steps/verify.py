"""Checks on candidates: is a rephrased question usable, is an answer verified against the gold answer.

Each check returns None for a pass, or a ``(reason, detail)`` pair that becomes a reject.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..answers import answers_equivalent, extract_boxed

__all__ = ["check_answer", "check_question", "clean_question", "missing_numbers", "numbers_in"]

Failure = tuple[str, str]

_PREFIX = re.compile(
    r"^\s*(?:\*\*)?\s*(?:(?:rephrased|reworded|rewritten|restated|paraphrased|new|revised)\s*"
    r"(?:version|question|problem)?|question|problem)\s*(?:\*\*)?\s*:\s*(?:\*\*)?\s*",
    re.I,
)
_ANNOUNCE = re.compile(r"rephras|reword|rewrit|restat|paraphras|question|problem|version", re.I)
_NUMBER = re.compile(r"(?<![A-Za-z])\d+(?:\.\d+)?")
_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "seventy": "70",
    "eighty": "80",
    "ninety": "90",
    "hundred": "100",
    "thousand": "1000",
    "once": "1",
    "twice": "2",
    "thrice": "3",
    "double": "2",
    "triple": "3",
    "half": "2",
    "halves": "2",
    "third": "3",
    "thirds": "3",
    "quarter": "4",
    "quarters": "4",
    "fourth": "4",
    "fifth": "5",
    "sixth": "6",
    "seventh": "7",
    "eighth": "8",
    "ninth": "9",
    "tenth": "10",
    "first": "1",
    "second": "2",
    "dozen": "12",
    "pair": "2",
    "square": "2",
    "squared": "2",
    "cube": "3",
    "cubed": "3",
}
_WORD_RE = re.compile(r"[a-z]+")


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


def _canon(text: str) -> str:
    return " ".join(text.lower().split())


def numbers_in(text: str) -> set[str]:
    """The numbers written in ``text`` as digits (thousands separators dropped, ``2.50`` -> ``2.5``)."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    out = set()
    for m in _NUMBER.findall(text):
        if "." in m:
            m = m.rstrip("0").rstrip(".") or "0"
        out.add(m.lstrip("0") or "0")
    return out


def missing_numbers(original: str, rephrased: str) -> list[str]:
    """Numbers of ``original`` that ``rephrased`` writes neither as digits nor as a number word."""
    have = numbers_in(rephrased) | {_WORDS[w] for w in _WORD_RE.findall(rephrased.lower()) if w in _WORDS}
    return sorted(numbers_in(original) - have, key=lambda s: (len(s), s))


def check_question(
    original: str,
    candidate: str,
    finish_reason: str | None,
    earlier: Iterable[str],
    *,
    require_numbers: bool = True,
) -> Failure | None:
    """Whether a rephrased question is usable: complete, non-empty, new, unique and faithful."""
    if finish_reason == "length":
        return "truncated", "the reply hit max_tokens before it ended"
    if not candidate.strip():
        return "empty", "the reply was empty"
    canon = _canon(candidate)
    if canon == _canon(original):
        return "identical", "the rephrasing is the original question"
    if any(canon == _canon(e) for e in earlier):
        return "duplicate", "the same rephrasing was produced earlier for this seed"
    if require_numbers:
        missing = missing_numbers(original, candidate)
        if missing:
            return "missing_numbers", f"drops number(s) of the original: {', '.join(missing[:10])}"
    return None


def check_answer(text: str, finish_reason: str | None, gold: str) -> tuple[str | None, Failure | None]:
    """The extracted final answer, and why the answer fails (None when it is verified)."""
    if finish_reason == "length":
        return extract_boxed(text), ("truncated", "the reply hit max_tokens before it ended")
    if not text.strip():
        return None, ("empty", "the reply was empty")
    extracted = extract_boxed(text)
    if extracted is None:
        return None, ("no_boxed_answer", "no complete \\boxed{} final answer")
    if not answers_equivalent(extracted, gold):
        return extracted, ("wrong_answer", f"final answer {extracted!r} is not equivalent to gold {gold!r}")
    return extracted, None
