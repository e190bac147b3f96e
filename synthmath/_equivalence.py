"""Strict answer equivalence: normalise, split into structure, compare exactly.

1. Both answers are normalised (spacing commands, ``\\left``/``\\right``, ``\\dfrac``, degree, percent
   and dollar signs, text wrappers, a trailing unit in ``\\text{}``, a trailing full stop, thousands
   separators). Equal normalised strings are equal answers.
2. Each answer is split into its structure: a multiple-choice letter (or set of letters), an ordered
   tuple or interval, a set, an unbracketed list, a union of intervals, a matrix, an equation
   ``lhs = rhs``, or a scalar. Structures of different kinds are different answers.
3. Ordered tuples, intervals and matrices are compared element by element, in order, brackets
   included; sets and unbracketed lists (``1, 2``: "all the solutions") as multisets.
4. Scalars are parsed in full (never a prefix) to exact sympy values; a scalar that does not parse is
   only equal to the same normalised string. Exact values are compared exactly. A decimal matches an
   exact value only to the decimal's own precision (``3.14`` for ``\\pi``); a decimal candidate for an
   exact gold needs at least three significant digits (``0.3`` is not ``\\frac13``, ``0.333`` is).
   Two decimals are compared as the exact numbers they write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sympy

from ._latex import ParseError, TooLarge, Unsupported, parse_scalar

__all__ = ["Node", "equivalent_normalized", "normalize_answer", "split_unit", "structure"]

_SPACING = re.compile(
    r"\\(?:left|right|big|Big|bigg|Bigg|displaystyle|textstyle|quad|qquad)(?![a-zA-Z])|(?<!\\)\\[!,;: ]|~"
)
_DEGREE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|\^\s*\{\s*\}")
_WRAP = re.compile(r"\\(?:text|textbf|textrm|textit|textnormal|mathrm|mathbf|mathit|mbox)\s*\{([^{}]*)\}")
_UNIT = re.compile(
    r"\\(?:text|mbox|mathrm|textnormal)\s*\{\s*(?P<unit>[A-Za-z][A-Za-z .]*?)\s*\}"
    r"\s*(?P<power>\^\s*\{?\s*[23]\s*\}?)?\s*$"
)
_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_MIXED = re.compile(r"(-?)(\d+)\\frac(?:\{(\d+)\}\{(\d+)\}|(\d)(\d))")
# an integer right before a numeric fraction: a mixed number (2\frac12) or a product? only whole answers
# are read as mixed numbers; inside an expression it is too ambiguous to compare
_INT_FRAC = re.compile(r"(?<![\d.}^_])\d+\\frac(?:\{\d+\}|\d)(?:\{\d+\}|\d)")
_FRAC_SHORT = re.compile(r"\\frac(\d)(\d)(?!\d)")
_UNICODE = str.maketrans({"−": "-", "–": "-", "×": "\\times ", "·": "\\cdot ", "π": "\\pi ", "∞": "\\infty "})
_SUB_SHORT = re.compile(r"_\{(\w)\}")
_SQRT_SHORT = re.compile(r"\\sqrt(\d)(?!\d)")
_DECIMAL = re.compile(r"[+-]?(\d*)\.(\d+)")
_LETTERS = re.compile(r"\(?([A-Z])\)?(?:,\(?[A-Z]\)?)*")
_SIMPLE_LHS = re.compile(r"[a-zA-Z](?:_\{?\w+\}?)?|\\[a-zA-Z]+")
_MATRIX = re.compile(r"\\begin\{([pbvB]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}", re.S)


def split_unit(ans: str) -> tuple[str, str | None]:
    """``ans`` without a trailing ``\\text{ unit}`` (and its ``^2``), and the unit (lower case, singular)."""
    text = ans.strip().rstrip(".").rstrip()
    m = _UNIT.search(text)
    math = text[: m.start()].rstrip() if m else ""
    if m is None or not math or math[-1] in "\\{([,=+-":
        return ans, None  # no unit, or the text is the answer itself (\text{odd}, x\text{ and }...)
    unit = " ".join(m.group("unit").lower().rstrip(".").split())
    if unit.endswith("s") and len(unit) > 2:
        unit = unit[:-1]
    return math, unit + (m.group("power") or "").replace(" ", "")


def _squeeze(s: str) -> str:
    """Drop whitespace, except between two digits and between a command and a following letter."""
    parts = s.split()
    out = parts[0] if parts else ""
    for p in parts[1:]:
        if (out[-1].isdigit() and p[0].isdigit()) or (re.search(r"\\[a-zA-Z]+$", out) and p[0].isalpha()):
            out += " "
        out += p
    return out


def normalize_answer(ans: str) -> str:
    """A canonical string form of an answer, for exact comparison.

    Removes spacing commands, ``\\left``/``\\right``, dollar signs, degree and percent signs, a
    trailing unit and text wrappers; maps ``\\dfrac``/``\\tfrac`` to ``\\frac``; drops whitespace (but
    not between two digits), a trailing full stop and thousands separators (``1,000``).
    """
    s = ans.strip().translate(_UNICODE).replace("\\!", "")
    s = _SPACING.sub(" ", s)
    s = s.replace("\\$", "").replace("$", "").replace("\\%", "").replace("%", "")
    s = _DEGREE.sub("", s)
    s = split_unit(s)[0]
    for _ in range(3):
        s = _WRAP.sub(r"\1", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.replace("\\dbinom", "\\binom").replace("\\tbinom", "\\binom")
    s = s.strip().rstrip(".").strip()
    if _THOUSANDS.fullmatch(s):  # 1,000 but not "81, 256" (a list)
        s = s.replace(",", "")
    s = _squeeze(s)
    s = _SUB_SHORT.sub(r"_\1", s)  # 1011_{2} is 1011_2; but x_{12} stays (x_12 is x_1 times 2)
    return _SQRT_SHORT.sub(r"\\sqrt{\1}", _FRAC_SHORT.sub(r"\\frac{\1}{\2}", s))


@dataclass(frozen=True)
class Node:
    """One answer's structure. ``kind`` is one of: text, letters, tuple, set, list, union, matrix, eq,
    scalar."""

    kind: str
    text: str
    items: tuple[Node, ...] = ()
    brackets: str = ""  # tuple: opening and closing bracket; eq: the left-hand side
    value: Any = None  # scalar: exact sympy value
    decimal: tuple[int, int] | None = None  # scalar written as a decimal: (places, significant digits)
    rows: tuple[int, ...] = field(default=())  # matrix: row lengths


_OPEN = {"(": ")", "[": "]", "{": "}"}


def _split_top(s: str, sep: str) -> list[str]:
    """``s`` split at ``sep`` where no bracket of any kind is open (``\\{`` counts as a bracket)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in "{}":
            depth += 1 if s[i + 1] == "{" else -1
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            parts.append(s[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(s[start:])
    return parts


def _closes_at_end(s: str) -> bool:
    """Whether the bracket opening ``s`` is the one its last character closes."""
    depth = 0
    for i, c in enumerate(s):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i == len(s) - 1
    return False


@lru_cache(maxsize=65536)
def structure(s: str) -> Node:
    """The structure of a normalised answer."""
    if not s:
        return Node("text", s)
    if _LETTERS.fullmatch(s):
        return Node("letters", "".join(sorted(set(re.findall(r"[A-Z]", s)))))
    m = _MATRIX.fullmatch(s)
    if m:
        rows = [r for r in m.group(2).split("\\\\") if r.strip()]
        cells = [[structure(c.strip()) for c in r.split("&")] for r in rows]
        return Node("matrix", s, tuple(c for r in cells for c in r), rows=tuple(len(r) for r in cells))
    union = _split_top(s, "\\cup")
    if len(union) > 1:
        return Node("union", s, tuple(structure(p) for p in union))
    if s.startswith("\\{") and s.endswith("\\}") and len(_split_top(s, "\\cup")) == 1:
        elements = _split_top(s[2:-2], ",") if s[2:-2] else []
        return Node("set", s, tuple(structure(p) for p in elements))
    if s[0] in "([" and s[-1] in ")]" and _closes_at_end(s):
        elements = _split_top(s[1:-1], ",")
        if len(elements) > 1:
            return Node("tuple", s, tuple(structure(p) for p in elements), brackets=s[0] + s[-1])
    items = _split_top(s, ",")
    if len(items) > 1:
        return Node("list", s, tuple(structure(p) for p in items))
    sides = _split_top(s, "=")
    if len(sides) == 2:
        return Node("eq", s, (structure(sides[1]),), brackets=sides[0])
    if len(sides) > 2:
        return Node("text", s)
    return _scalar(s)


def _scalar(s: str) -> Node:
    m = _MIXED.fullmatch(s)
    if m:  # 1\frac{2}{3}: a mixed number, 1 + 2/3
        num, den = int(m.group(3) or m.group(5)), int(m.group(4) or m.group(6))
        if den == 0:
            return Node("text", s)
        value = (-1 if m.group(1) else 1) * (int(m.group(2)) + sympy.Rational(num, den))
        return Node("scalar", s, value=value)
    if _INT_FRAC.search(s):
        return Node("text", s)
    try:
        value = parse_scalar(s)
    except TooLarge:
        return Node("text", s)
    except (ParseError, Unsupported, ZeroDivisionError):
        value = _fallback(s)
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        value = None
    if value is None or not isinstance(value, sympy.Expr) or value.has(sympy.nan, sympy.zoo):
        return Node("text", s)
    d = _DECIMAL.fullmatch(s)
    decimal = None
    if d:
        digits = (d.group(1) + d.group(2)).lstrip("0")
        decimal = (len(d.group(2)), len(digits))
    return Node("scalar", s, value=value, decimal=decimal)


_FALLBACK_CHARS = re.compile(r"[\w\s+\-*/^(){}\[\].\\]*")
_FALLBACK_COMMANDS = {
    *(f"\\{f}" for f in ("sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan")),
    *(f"\\{f}" for f in ("sinh", "cosh", "tanh", "log", "ln", "exp", "frac", "sqrt", "binom", "pi")),
    *(f"\\{c}" for c in ("cdot", "times", "div", "infty", "alpha", "beta", "gamma", "theta", "phi")),
}


def _fallback(s: str) -> Any:
    """latex2sympy's whole-input parse, for constructs outside our own parser (``\\sin``, ``\\log``)."""
    # latex2sympy reads "2 3" as 5, folds upper-case variables to lower case, and reads 10_9 (a numeral
    # in base 9) as 10: not for us
    if re.search(r"(?<![_^\d])\d+\s+\d|\d_", s) or re.search(r"(?<![\\a-zA-Z])[A-Z]", s) or "\\text" in s:
        return None
    if re.search(r"\^\s*\{?\s*\d{5,}|\d{5,}\s*!|\^\s*\{[^{}]*\^", s):
        return None  # numbers too big to evaluate in bounded time
    if not set(re.findall(r"\\[a-zA-Z]+", s)) <= _FALLBACK_COMMANDS or not _FALLBACK_CHARS.fullmatch(s):
        return None  # relations, ratios, |x| and the like: latex2sympy reads some as a part of the input
    from latex2sympy2_extended import latex2sympy

    try:
        value = latex2sympy(s, normalization_config=None)
    except Exception:  # latex2sympy raises plain Exception on a syntax error
        return None
    if isinstance(value, sympy.Expr) and value.has(sympy.Float):
        value = sympy.nsimplify(value, rational=True)
    return value


def equivalent_normalized(cand: Node, gold: Node) -> bool:
    """Whether two answer structures are the same answer (``cand`` is the candidate's)."""
    if cand.text == gold.text and cand.kind == gold.kind and cand.kind not in ("letters",):
        return True
    if cand.kind == "eq" and gold.kind != "eq":
        return bool(_SIMPLE_LHS.fullmatch(cand.brackets)) and equivalent_normalized(cand.items[0], gold)
    if gold.kind == "eq" and cand.kind != "eq":
        return bool(_SIMPLE_LHS.fullmatch(gold.brackets)) and equivalent_normalized(cand, gold.items[0])
    unordered = {"set", "list"}
    if cand.kind != gold.kind and not (cand.kind in unordered and gold.kind in unordered):
        return False
    kind = cand.kind
    if kind == "text":
        return cand.text.lower() == gold.text.lower() and cand.text.isalpha()
    if kind == "letters":
        return cand.text == gold.text
    if kind == "eq":
        return cand.brackets == gold.brackets and equivalent_normalized(cand.items[0], gold.items[0])
    if kind in ("tuple", "matrix"):
        if cand.brackets != gold.brackets or cand.rows != gold.rows or len(cand.items) != len(gold.items):
            return False
        return all(equivalent_normalized(c, g) for c, g in zip(cand.items, gold.items, strict=True))
    if kind in ("set", "list", "union"):
        return _same_multiset(cand.items, gold.items, dedupe=kind == "set" or gold.kind == "set")
    return _scalars_equal(cand, gold)


def _same_multiset(cands: tuple[Node, ...], golds: tuple[Node, ...], *, dedupe: bool) -> bool:
    if dedupe:
        cands = tuple({c.text: c for c in cands}.values())
        golds = tuple({g.text: g for g in golds}.values())
    if len(cands) != len(golds):
        return False
    left = list(golds)
    for c in cands:
        for j, g in enumerate(left):
            if equivalent_normalized(c, g):
                del left[j]
                break
        else:
            return False
    return True


def _scalars_equal(cand: Node, gold: Node) -> bool:
    x, y = cand.value, gold.value
    if cand.decimal and gold.decimal:
        return bool(x == y)
    if x == y:
        return True
    if cand.decimal:
        return cand.decimal[1] >= 3 and _rounds_to(y, x, cand.decimal[0])
    if gold.decimal:
        return _rounds_to(x, y, gold.decimal[0])
    return _exactly_equal(x, y)


def _rounds_to(exact: Any, decimal: Any, places: int) -> bool:
    """Whether ``exact`` rounded to ``places`` decimal places is ``decimal``."""
    if exact.free_symbols or not exact.is_finite:
        return False
    diff = sympy.N(exact - decimal, 30)
    if not diff.is_real:
        return False
    return bool(abs(diff) <= sympy.Rational(5, 10 ** (places + 1)))


_POINTS = (sympy.Rational(7, 3), sympy.Rational(-11, 5), sympy.Rational(13, 17))


def _exactly_equal(x: Any, y: Any) -> bool:
    if x.is_Rational and y.is_Rational:
        return False  # equal rationals were caught by x == y
    if x.has(sympy.oo, -sympy.oo) or y.has(sympy.oo, -sympy.oo):
        return False
    d = x - y
    if d == 0:
        return True
    if d.is_Rational:
        return False
    symbols = sorted(d.free_symbols, key=str)
    rounds = 3 if symbols else 1
    points = [{s: _POINTS[(i + k) % 3] + k for i, s in enumerate(symbols)} for k in range(rounds)]
    tested = 0
    for point in points:
        value = sympy.N(d.subs(point), 50)
        scale = sympy.N(x.subs(point), 50)
        if not value.is_number or value.has(sympy.nan, sympy.zoo, sympy.oo):
            continue
        tested += 1
        if abs(value) > sympy.Float(10) ** -40 * max(1, abs(scale)):
            return False
    return tested > 0
