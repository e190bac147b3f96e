"""Backward questions (MetaMath's FOBAR and SV), the part made by code: which number to mask, and how.

A backward question hides one number of the seed problem behind a variable and gives the answer
instead, so the hidden number becomes the question's answer and can be verified exactly. A number
qualifies when the problem states it once, in digits, standing alone (not an exponent, not glued to a
letter as in ``3x``, not part of ``1,000``, not inside a diagram), is neither 0 nor 1 (they are mostly
structure, not data), and the seed's solution uses it: a number the solution never touches is
unlikely to decide the answer. Which qualifying numbers are masked, when there are more than asked
for, is decided by a hash of the seed id, so reruns mask the same ones.

Whether the masked number is really determined by the problem and the answer is checked later, by
solving the backward question from scratch (:mod:`synthmath.steps.solve_check`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ..mathtext import normalize_number, numbers_in

__all__ = [
    "Mask",
    "code_masks",
    "fobar_question",
    "pick_variable",
    "stated_answer",
    "sv_question",
    "uses_variable",
]

# a number standing alone: not after a letter, digit, dot, comma-group, exponent or subscript mark,
# not before a letter, digit or a decimal part
_NUMBER = re.compile(r"(?<![\w.,^_])(?<!\^\{)(?<!_\{)(\d+(?:\.\d+)?)(?![\w]|\.\d|,\d{3})")
_ASY = re.compile(r"\[asy\].*?(?:\[/asy\]|$)", re.DOTALL)
_MATH_SPAN = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)", re.DOTALL)
_VARIABLES = ("x", "X", "y", "n", "k", "t", "u")


@dataclass(frozen=True)
class Mask:
    """One number of a seed problem hidden behind ``variable``: ``text`` is the problem with it masked,
    ``value`` the hidden number (the backward question's gold answer)."""

    value: str
    variable: str
    text: str
    made_by: str = "code"  # or "model" (steps/backward.py)


def uses_variable(text: str, variable: str) -> bool:
    """Whether ``text`` uses the letter ``variable`` on its own (not inside a word or a LaTeX command)."""
    return re.search(rf"(?<![A-Za-z\\]){re.escape(variable)}(?![A-Za-z])", text) is not None


def pick_variable(text: str) -> str:
    """The first of x, X, y, n, k, t, u that ``text`` does not already use as a letter of its own."""
    return next((v for v in _VARIABLES if not uses_variable(text, v)), "x")


def _in_math(text: str, start: int) -> bool:
    return any(m.start() < start < m.end() for m in _MATH_SPAN.finditer(text))


def code_masks(seed_id: str, problem: str, solution: str, k: int) -> list[Mask]:
    """Up to ``k`` masks of different numbers of ``problem`` (see the module's rules), in a stable
    order. Empty when no number qualifies: the model is asked to mask one instead."""
    body = _ASY.sub(lambda m: " " * len(m.group(0)), problem)  # keep offsets, drop diagram numbers
    found: dict[str, list[re.Match[str]]] = {}
    for m in _NUMBER.finditer(body):
        found.setdefault(normalize_number(m.group(1)), []).append(m)
    used = numbers_in(solution, words=False)
    written = numbers_in(problem, words=True) - numbers_in(problem, words=False)  # in words as well
    qualifying = [
        (value, ms[0])
        for value, ms in found.items()
        if len(ms) == 1 and value not in ("0", "1") and value in used and value not in written
    ]
    qualifying.sort(key=lambda vm: hashlib.sha256(f"{seed_id}\x00{vm[0]}".encode()).digest())
    variable = pick_variable(problem)
    masks = []
    for value, m in qualifying[:k]:
        inline = variable if _in_math(problem, m.start()) or "$" not in problem else f"${variable}$"
        masks.append(Mask(value, variable, problem[: m.start()] + inline + problem[m.end() :]))
    return masks


def stated_answer(gold: str) -> str:
    """The gold answer as a question states it: plain when it is a plain number, else as ``$math$``."""
    plain = gold.strip()
    return plain if re.fullmatch(r"-?\d+(?:\.\d+)?", plain) else f"${plain}$"


def fobar_question(mask: Mask, gold: str) -> str:
    """MetaMath's FOBAR question: the masked problem, the answer given, the masked number asked for."""
    return (
        f"{mask.text.rstrip()}\n\nIf we know the answer to the above question is {stated_answer(gold)}, "
        f"what is the value of the unknown variable {mask.variable}?"
    )


def sv_question(statement: str, variable: str) -> str:
    """MetaMath's SV question: the model's declarative statement, and the masked number asked for."""
    return f"{statement.rstrip()} What is the value of the unknown variable {variable}?"
