"""Final answers: extraction from solutions, the gold answer of a seed, and strict equivalence.

Equivalence never says yes to a different answer: each answer is parsed in full (never a prefix) into
its structure (tuple, interval, set, list, equation, matrix, multiple-choice letters, scalar) and
compared exactly; see ``_equivalence.py`` for the rules. An answer that does not parse is only equal to
the same normalised string. docs/verification.md gives the rules and their measured rates.

Checking can call sympy on arbitrary model output, so :func:`answers_equivalent` takes a ``timeout``.
It is enforced with ``SIGALRM``, which only works in a process's main thread: a build runs the checks
in a pool of worker processes (whose main thread is the one that runs them), never on the event loop.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._equivalence import normalize_answer

__all__ = [
    "GoldAnswer",
    "VerificationTimeout",
    "answers_equivalent",
    "boxed_answers",
    "extract_boxed",
    "extract_gsm8k_answer",
    "gold_answer",
    "normalize_answer",
]

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


def boxed_answers(text: str) -> list[str]:
    """The content of every complete ``\\boxed{...}`` / ``\\fbox{...}`` in ``text``, in order."""
    out = []
    for m in _BOX_RE.finditer(text):
        i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "{":
            end = _match_braces(text, i)
            if end is not None:
                out.append(text[i + 1 : end - 1].strip())
    return out


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


class VerificationTimeout(TimeoutError):
    """Checking one answer took longer than its timeout (the caller rejects it as ``verify_timeout``)."""


@contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise VerificationTimeout in the block after ``seconds``; a no-op outside the main thread."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if seconds is None or seconds <= 0 or not usable:
        yield
        return

    expired = False

    def expire(signum: int, frame: FrameType | None) -> None:
        nonlocal expired
        expired = True
        raise VerificationTimeout(f"checking the answer took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if expired:  # the parser or sympy caught the timeout as a failure and went on: still a timeout
        raise VerificationTimeout(f"checking the answer took more than {seconds:g} s")


def _equivalence() -> ModuleType:
    """The sympy-backed comparison, imported on first use: sympy takes about half a second to import,
    which a process that never compares answers (the ``synthmath`` command, a worker that has not
    verified anything yet) should not pay."""
    from . import _equivalence as module

    return module


def __getattr__(name: str) -> Any:
    if name == "normalize_answer":
        return _equivalence().normalize_answer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def answers_equivalent(candidate: str, gold: str, *, timeout: float | None = None) -> bool:
    """Whether ``candidate`` is the same answer as ``gold`` (both bare answers: the content of a box).

    Strict: a different answer is never accepted, while the same answer written another way is
    (``\\dfrac12``/``0.5``, ``x = 3``/``3``, units, degrees, spacing, ``1,000``/``1000``).

    ``timeout`` (seconds) bounds the check; past it, :class:`VerificationTimeout` is raised. It relies
    on ``SIGALRM`` and is only enforced in a process's main thread (a worker process of a pool is
    fine); elsewhere the check runs unbounded, apart from the parser's own limits on huge numbers.
    """
    eq = _equivalence()  # sympy loads on the first check, outside its time budget
    with _deadline(timeout):
        cand_math, cand_unit = eq.split_unit(candidate)
        gold_math, gold_unit = eq.split_unit(gold)
        if cand_unit and gold_unit and cand_unit != gold_unit:
            return False  # 5 cm is not 5 m; a unit on one side only is ignored
        c, g = eq.normalize_answer(cand_math), eq.normalize_answer(gold_math)
        if c == g:
            return True
        try:
            return bool(eq.equivalent_normalized(eq.structure(c), eq.structure(g)))
        except VerificationTimeout:
            raise
        except Exception:  # sympy can fail on exotic input: an answer we cannot check is not verified
            return False


_PLAIN_NUMBER = re.compile(r"(-?)(?:(\d+(?:\.\d+)?)|(\d+)/(\d+)|\\[dt]?frac\{(\d+)\}\{(\d+)\})")


def _plain(answer: str) -> tuple[Fraction, ...] | None:
    """A bare answer that is a number, or a tuple of numbers, written plainly (``12``, ``-0.5``,
    ``16/5``, ``\\dfrac{1}{6}``, ``(-2, 18)``), read exactly; None for anything else."""
    s = answer.replace(" ", "").replace("$", "")
    if s.startswith("(") and s.endswith(")"):
        s = s[1:-1]
    values = []
    for part in s.split(","):
        m = _PLAIN_NUMBER.fullmatch(part)
        if m is None:
            return None
        sign, number, top, bottom, ftop, fbottom = m.groups()
        if number is not None:
            value = Fraction(number)
        else:
            den = int(bottom or fbottom)
            if den == 0:
                return None
            value = Fraction(int(top or ftop), den)
        values.append(-value if sign else value)
    return tuple(values)


def _same_box(a: str, b: str) -> bool:
    """Whether two boxes of one solution hold the same answer: read exactly when both are plain
    numbers (most are, and the seeds are read in the main process, which need not load sympy for
    them), else by :func:`answers_equivalent`."""
    if a == b:
        return True
    plain_a, plain_b = _plain(a), _plain(b)
    if plain_a is not None and plain_b is not None:
        return plain_a == plain_b
    return answers_equivalent(a, b, timeout=None)


@dataclass(frozen=True)
class GoldAnswer:
    """A seed solution's gold answer, or why it has none a check can trust.

    ``answer`` is the last box when every box of the solution holds the same answer; otherwise it is
    None and ``reason`` says why: ``no_answer`` (no complete box) or ``ambiguous_gold`` (boxes holding
    different answers: alternatives, several solutions or an intermediate result, which one
    comparison cannot tell apart).
    """

    answer: str | None
    reason: str | None = None
    detail: str = ""
    boxes: tuple[str, ...] = ()


def gold_answer(solution: str) -> GoldAnswer:
    """The gold answer of a boxed (MATH-style) solution under the ambiguity rule of :class:`GoldAnswer`."""
    last = extract_boxed(solution)
    boxes = tuple(boxed_answers(solution))
    if not last:
        detail = "the final \\boxed{} is empty" if last == "" else "no complete \\boxed{} answer"
        return GoldAnswer(None, "no_answer", detail, boxes)
    distinct: list[str] = []
    for b in boxes:
        if b and not any(_same_box(b, d) for d in distinct):
            distinct.append(b)
    if len(distinct) > 1:
        shown = ", ".join(repr(d) for d in distinct[:5])
        detail = f"the solution boxes {len(distinct)} different answers: {shown}"
        return GoldAnswer(None, "ambiguous_gold", detail, boxes)
    return GoldAnswer(last, None, "", boxes)
