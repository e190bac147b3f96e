"""Final answers: extraction from solutions and equivalence to the gold answer.

Equivalence is decided by math-verify (symbolic, via sympy), after a cheap normalised string comparison
that also serves as the fallback for answers math-verify cannot parse (text answers, intervals written
oddly, units).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

__all__ = ["answers_equivalent", "extract_boxed", "extract_gsm8k_answer", "normalize_answer"]

_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")


def _match_braces(text: str, open_at: int) -> int | None:
    """Index just past the brace group opening at ``open_at``, or None if it never closes.

    Escaped braces (``\\{``, ``\\}``) are literal characters, not grouping.
    """
    depth = 0
    i = open_at
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def extract_boxed(text: str) -> str | None:
    """The content of the last complete ``\\boxed{...}`` or ``\\fbox{...}`` in ``text``.

    Nested braces are kept (``\\boxed{\\frac{1}{2}}`` gives ``\\frac{1}{2}``). ``\\boxed 5`` (no braces)
    gives ``5``. Returns None when there is no box or the last one never closes (a truncated answer).
    """
    matches = list(_BOX_RE.finditer(text))
    for m in reversed(matches):
        i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "{":
            end = _match_braces(text, i)
            if end is None:
                # the last box is unterminated: the answer is truncated, not an earlier box
                return None
            return text[i + 1 : end - 1].strip()
        tail = re.match(r"[^\s$]+", text[i:])
        if tail and i > m.end():
            return tail.group(0).rstrip(".")
    return None


_GSM8K_RE = re.compile(r"####\s*(.+?)\s*$", re.S)


def extract_gsm8k_answer(text: str) -> str | None:
    """The answer after the final ``####`` of a GSM8K solution, commas removed (``1,000`` -> ``1000``)."""
    m = _GSM8K_RE.search(text)
    if not m:
        return None
    ans = m.group(1).strip().replace(",", "").replace("$", "").rstrip(".")
    return ans or None


_TEXT_WRAP = re.compile(r"\\(?:text|textbf|mathrm|mbox|textnormal)\s*\{([^{}]*)\}")
_REMOVE = [
    "\\left",
    "\\right",
    "\\!",
    "\\,",
    "\\;",
    "\\:",
    "\\ ",
    "\\displaystyle",
    "$",
    "^\\circ",
    "^{\\circ}",
    "\\%",
    "%",
]


def normalize_answer(ans: str) -> str:
    """A canonical string form of an answer, for exact comparison.

    Removes spacing commands, ``\\left``/``\\right``, dollar signs, degree and percent signs and text
    wrappers; maps ``\\dfrac``/``\\tfrac`` to ``\\frac``; drops whitespace and a trailing full stop.
    """
    s = ans.strip()
    for _ in range(3):
        s = _TEXT_WRAP.sub(r"\1", s)
    for token in _REMOVE:
        s = s.replace(token, "")
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = re.sub(r"\s+", "", s)
    s = s.rstrip(".")
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", s):
        s = s.replace(",", "")
    return s


@lru_cache(maxsize=65536)
def _parse(expr: str) -> Any:
    from math_verify import parse

    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    # math-verify finds the boxed answer itself; wrapping makes a bare expression look like one
    return parse(f"\\boxed{{{expr}}}", parsing_timeout=timeout)


def answers_equivalent(candidate: str, gold: str) -> bool:
    """Whether ``candidate`` is mathematically the same answer as ``gold``.

    Both are bare answers (the content of a box, not whole solutions).
    """
    if normalize_answer(candidate) == normalize_answer(gold):
        return True
    from math_verify import verify

    gold_parsed = _parse(gold)
    cand_parsed = _parse(candidate)
    if not gold_parsed or not cand_parsed:
        return False
    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    try:
        return bool(verify(gold_parsed, cand_parsed, timeout_seconds=timeout))
    except Exception:  # math-verify can raise on exotic sympy objects: treat as not verified
        return False
