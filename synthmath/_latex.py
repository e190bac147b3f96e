"""A strict parser for the LaTeX of final answers: scalar expressions to exact sympy values.

It reads the whole input or fails: there is no prefix parse that ignores what follows. Numbers become
exact rationals (``0.5`` is ``1/2``), so nothing is compared through a float tolerance. It covers what
most final answers use (numbers, ``\\frac``, ``\\sqrt``, powers, ``\\pi``, ``\\infty``, ``i``,
variables, factorials, implicit products); :class:`Unsupported` marks input outside that subset (for
instance ``\\sin``), which the caller hands to latex2sympy instead, and :class:`ParseError` marks input
that is not an expression at all.
"""

from __future__ import annotations

import re
from typing import Any

import sympy

__all__ = ["ParseError", "TooLarge", "Unsupported", "parse_scalar"]


class ParseError(ValueError):
    """Not a well-formed scalar expression."""


class Unsupported(ValueError):
    """A construct this parser leaves to latex2sympy."""


class TooLarge(ValueError):
    """A number too large to evaluate in bounded time (``10^{10^{10}}``): not compared as a value."""


_TOKEN = re.compile(r"\s*(\d+\.?\d*|\.\d+|\\[a-zA-Z]+|\\.|[a-zA-Z]|[-+*/^_!()\[\]{}'|=,<>&])")
_CONSTANTS: dict[str, Any] = {"\\pi": sympy.pi, "\\infty": sympy.oo, "\\infinity": sympy.oo}
_GREEK = {
    "\\alpha",
    "\\beta",
    "\\gamma",
    "\\delta",
    "\\theta",
    "\\lambda",
    "\\mu",
    "\\phi",
    "\\varphi",
    "\\omega",
    "\\sigma",
    "\\tau",
    "\\rho",
}
_MUL = {"*", "\\cdot", "\\times"}
_DIV = {"/", "\\div"}
# numbers and factorials beyond these would make sympy compute for minutes inside C code, where no
# timeout can interrupt it
_MAX_EXPONENT = 10_000
_MAX_FACTORIAL = 5_000


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(f"unexpected character {text[pos]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.t = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise ParseError(f"expected {expected or 'more input'}, found {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        expr = self.expr()
        if self.i != len(self.t):
            raise ParseError(f"unread input from {self.t[self.i]!r}")
        return expr

    def expr(self) -> Any:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self) -> Any:
        value = self.unary()
        while True:
            tok = self.peek()
            if tok in _MUL:
                self.take()
                value = value * self.unary()
            elif tok in _DIV:
                self.take()
                value = value / self.unary()
            elif tok is not None and self.starts_primary(tok) and not tok[0].isdigit() and tok[0] != ".":
                # an implicit product (2x, 3\sqrt2, (a)(b)); a number right after a factor is not one
                value = value * self.power()
            else:
                return value

    def starts_primary(self, tok: str) -> bool:
        return (
            tok[0].isdigit()
            or tok[0] == "."
            or (len(tok) == 1 and tok.isalpha())
            or tok in ("(", "{", "\\frac", "\\sqrt", "\\pi", "\\infty")
            or tok in _GREEK
        )

    def unary(self) -> Any:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Any:
        base = self.postfix()
        if self.peek() == "^":
            self.take()
            exponent = self.argument(signed=True)
            if exponent.is_Number and abs(exponent) > _MAX_EXPONENT:
                raise TooLarge("exponent too large to evaluate")
            big = base.is_Number and exponent.is_Rational and exponent > 1 and abs(base) > 1
            if big and float(exponent) * float(sympy.log(abs(base), 10)) > 5_000:
                raise TooLarge("power too large to evaluate")
            return base**exponent
        return base

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek() == "!":
            self.take()
            if not (value.is_Integer and 0 <= value <= _MAX_FACTORIAL):
                raise TooLarge("factorial of a non-integer or a huge integer")
            value = sympy.factorial(value)
        return value

    def number(self, tok: str) -> Any:
        return sympy.Rational(tok.rstrip(".") if tok.endswith(".") else tok)

    def argument(self, signed: bool = False) -> Any:
        """A macro argument: a brace group, or a single token (``\\frac12``, ``x^2``, ``\\sqrt x``)."""
        tok = self.peek()
        if tok == "{":
            self.take()
            value = self.expr()
            self.take("}")
            return value
        if tok is None:
            raise ParseError("missing argument")
        if signed and tok == "-":
            self.take()
            return -self.argument()
        if tok[0].isdigit():
            self.take()
            if len(tok) > 1:  # \frac123 is \frac{1}{2}3: an unbraced argument is one character
                self.t.insert(self.i, tok[1:])
            return sympy.Integer(tok[0])
        if (len(tok) == 1 and tok.isalpha()) or tok in _CONSTANTS or tok in _GREEK:
            return self.primary()
        raise ParseError(f"bad argument {tok!r}")

    def primary(self) -> Any:
        tok = self.take()
        if tok[0].isdigit() or tok[0] == ".":
            return self.number(tok)
        if tok == "(" or tok == "{":
            value = self.expr()
            self.take(")" if tok == "(" else "}")
            return value
        if tok == "\\frac":
            num = self.argument()
            den = self.argument()
            if den == 0:
                raise ParseError("division by zero")
            return num / den
        if tok == "\\sqrt":
            index: Any = 2
            if self.peek() == "[":
                self.take()
                index = self.expr()
                self.take("]")
            return sympy.root(self.argument(), index)
        if tok in _CONSTANTS:
            return _CONSTANTS[tok]
        if tok in _GREEK:
            return sympy.Symbol(tok[1:])
        if len(tok) == 1 and tok.isalpha():
            if tok == "i":
                return sympy.I
            if tok == "e":  # Euler's number, as latex2sympy reads it
                return sympy.E
            name = tok
            if self.peek() == "_":  # a subscripted variable: x_1, a_{10}
                self.take()
                sub = self.take()
                if sub == "{":
                    parts = []
                    while self.peek() not in ("}", None):
                        parts.append(self.take())
                    self.take("}")
                    sub = "".join(parts)
                name = f"{tok}_{sub}"
            return sympy.Symbol(name)
        if tok.startswith("\\") and tok[1:].isalpha():
            raise Unsupported(f"command {tok}")
        raise ParseError(f"unexpected {tok!r}")


def parse_scalar(text: str) -> Any:
    """The exact sympy value of a scalar LaTeX expression read in full.

    Raises ParseError when ``text`` is not one expression, Unsupported when it uses a construct outside
    this parser's subset.
    """
    tokens = _tokenize(text)
    if not tokens:
        raise ParseError("empty expression")
    return _Parser(tokens).parse()
