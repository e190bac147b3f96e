"""The changed-math check: the seed's formulas must survive the rewording, compared as math.

A rewording may change every word of a problem, but not its mathematics: "Find $325_8-237_8$"
written as "subtract $325_8$ from $237_8$", or "Find $1+2\\cdot3-4+5$" turned into "add $1+2\\cdot3$
and $2+4\\cdot5$", asks something else, though every number is still there. The answer step sees the
original solution and copies its final answer, so the answer check cannot see the change; this check
can. Reject reason ``changed_math``.

Formulas are compared after normalisation (:func:`normalize_formula`), so that the same math written
another way matches: whitespace, ``\\left``/``\\right``, spacing and sizes dropped; ``\\dfrac`` and
``\\tfrac`` are ``\\frac``; ``\\frac34`` and ``3/4`` are ``\\frac{3}{4}``; ``998,\\!001`` is
``998001``; braces dropped (``x^{2}`` is ``x^2``; a brace lost in copying is a typo, not new math);
``\\le`` is ``\\leq``, ``\\times`` is ``\\cdot``; notation that prose says as well
(``\\triangle``, ``\\overline``, ``\\angle``) and words inside math (``\\text{ cm}``,
``30^{\\text{th}}``) dropped; trailing punctuation cut. Formulas of fewer than :data:`MIN_ATOMS` atoms
(``$x$``, ``$12$``, ``$p>q$``) and names (``$f(x)$``, ``$f^{-1}(x)$``) are left to the number checks.

The original's formulas are of two kinds, judged apart because real rewordings treat them apart
(measured on ``../shared/data/real``, see docs/verification.md):

- an **expression** to work on (``$1+2\\cdot3-4+5$``, ``$\\sqrt{36\\times\\sqrt{16}}$``) must occur in
  the rewording's math, whole or as the parts it lists (``a, b`` split at top-level commas);
- a **condition** (it holds ``=``, ``<``, ``\\leq``, ``\\equiv``, ...) may be said in words: faithful
  rewordings write "$x+y+z=1$" as "their sum is $1$" or "$BC=10$" as "$BC$ measures $10$". It fails
  only when the rewording writes a *different* condition in its place: a formula with a relation that
  is at least :data:`NEAR` alike (rapidfuzz) to the original's and none of the original's
  (``$x^2=y+3$`` for ``$x^2=y-3$``).

A relation stated in words is checked in one common form: a range "between A and B" (numbers or math)
has two bounds, and the rewording must keep both (say "between", "from ... to", "range", "interval",
or a lower bound and an upper one). "How many primes are between 30 and 40?" turned into "... less
than or equal to 40 that are less than or equal to 30" keeps the numbers and loses the lower bound.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from ..mathtext import drop_diagrams, latex_for_numbers, mask_math, numbers_in

__all__ = ["MIN_ATOMS", "NEAR", "changed_math", "formulas", "lost_bound", "normalize_formula"]

Failure = tuple[str, str]

MIN_ATOMS = 4  # shorter formulas ($x$, $12$, $p>q$) say nothing the number checks do not, or prose says them
NEAR = 80.0  # a rewording's condition this alike to one of the original's, and not equal, changed it
_MATH = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]"
    r"|\\begin\{(align|equation|eqnarray|gather|multline)\*?\}(.+?)\\end\{\5\*?\}",
    re.DOTALL,
)
_TEXT = r"\\(?:text|mbox|textbf|textit|mathrm|emph)\s*\{(?:[^{}]|\{[^{}]*\})*\}"
_DROP = re.compile(
    _TEXT + r"|[\^_]\{\}"  # words inside math: units, "th"
    r"|\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|displaystyle|textstyle|triangle|overline|angle"
    r"|mathbf|mathit|operatorname|quad|qquad)(?![a-zA-Z])"
    r"|\\[,;:! ]|&|\\\\|\s"
)
_SYNONYMS = {
    r"\le": r"\leq", r"\ge": r"\geq", r"\ne": r"\neq", r"\times": r"\cdot", r"\ast": r"\cdot",
    r"\leqslant": r"\leq", r"\geqslant": r"\geq", r"\lvert": "|", r"\rvert": "|", r"\vert": "|",
    r"\dbinom": r"\binom", r"\tbinom": r"\binom", r"\ldots": r"\dots", r"\cdots": r"\dots",
    r"\dotsb": r"\dots", r"\dotsc": r"\dots", r"\lbrace": r"\{", r"\rbrace": r"\}", r"\colon": ":",
}  # fmt: skip
_COMMAND = re.compile(r"\\[a-zA-Z]+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")  # 998,001 (998,\!001 once spacing is gone)
_SLASH = re.compile(r"(?<![\d.])(\d+)/(\d+)(?![\d.])")  # 5/4 is \frac{5}{4}
_NAME = re.compile(r"[a-zA-Z](?:\^-1)?\([^()]*\)")  # f(x), f(11), f^{-1}(x): a name, not work to do
_ATOM = re.compile(r"\\[a-zA-Z]+|\d+(?:\.\d+)?|[a-zA-Z]|[^\s{}]")
_PIECES = re.compile(r",(?![^()\[\]{}]*[)\]}])|" + _TEXT + r"|\\quad|\\qquad")
# "between 30 and 40", "between $-2$ and $5$": a range with two bounds (not "the angle between them")
_BETWEEN = re.compile(
    r"\bbetween\s+(?:\$[^$]{1,40}\$|-?\d[\d,.]*)\s+and\s+(?:\$[^$]{1,40}\$|-?\d[\d,.]*)", re.I
)
_TWO_BOUNDS = re.compile(r"\b(?:between|range|interval|inclusive)\b|\bfrom\b[^.?;]*?\b(?:to|through)\b", re.I)
_LOWER = re.compile(
    r"\b(?:greater|more|larger|bigger|higher|exceeds?|exceeding|above|over|at least|no less|not less)\b"
    r"|\\geq?|>",
    re.I,
)
_UPPER = re.compile(
    r"\b(?:less|fewer|smaller|lower|below|under|at most|no more|not more|up to)\b|\\leq?|<", re.I
)
_RELATION = re.compile(
    r"[=<>]|\\(?:leq|geq|neq|equiv|in|notin|subset|subseteq|approx|sim|cong|parallel|perp|mid|pmod)(?![a-zA-Z])"
)


def normalize_formula(tex: str) -> str:
    """One formula's LaTeX in a canonical form, so that the same math written two ways compares equal."""
    s = _THOUSANDS.sub("", latex_for_numbers(tex))
    s = _COMMAND.sub(lambda m: _SYNONYMS.get(m.group(0), m.group(0)), s)
    s = _DROP.sub("", s.replace(r"\dfrac", r"\frac").replace(r"\tfrac", r"\frac"))
    s = _DROP.sub("", s)  # a ^{} left by a dropped \text{th}
    s = _SLASH.sub(r"\\frac{\1}{\2}", s)
    s = s.replace("{", "").replace("}", "")  # grouping only; a lost or moved brace is a typo
    return s.strip(".,;:?!")


def _spans(text: str) -> list[tuple[int, str]]:
    """(offset, LaTeX) of each formula of ``text`` (diagrams already dropped)."""
    found = []
    for m in _MATH.finditer(text):
        body = next((g for g in (m.group(1), m.group(2), m.group(3), m.group(4), m.group(6)) if g), "")
        if body.strip():
            found.append((m.start(), body))
    return found


def formulas(text: str) -> list[str]:
    """The LaTeX of each formula in ``text`` outside its diagrams, as written."""
    return [body for _, body in _spans(drop_diagrams(text))]


_ELLIPSIS = re.compile(r"\\[lc]?dots[bmc]?|\.\.\.")


def _ends(tex: str) -> set[str]:
    """The smallest and the largest number of a formula."""
    values = {n: float(n) for n in numbers_in(tex, words=False)}
    if not values:
        return set()
    low, high = min(values.values()), max(values.values())
    return {n for n, v in values.items() if v in (low, high)}


def _atoms(normalized: str) -> int:
    return len(_ATOM.findall(normalized))


def _pieces(tex: str) -> list[str]:
    """The parts a formula lists (``a=17, b=21``; ``x>0 \\text{ and } y>0``), normalised."""
    parts = [normalize_formula(p) for p in _PIECES.split(tex) if p and p.strip()]
    return [p for p in parts if p]


def _changed_condition(condition: str, ours: list[str], theirs: list[str]) -> str | None:
    """A condition of the rewording that looks like ``condition`` edited: alike, and none of ours."""
    for t in theirs:
        if t in condition or t in ours or not _RELATION.search(t):
            continue  # a part of the original's condition, or another condition of the original
        if fuzz.ratio(condition, t) >= NEAR:
            return t
    return None


def _said_in_words(expression: str, rephrased: str) -> bool:
    """Whether ``rephrased`` states ``expression`` (normalised) as its operands in math joined by words:
    "the product of the matrices $A$ and $B$" for ``$AB$``, "$1121_5$ divided by $12_5$" for
    ``$1121_5 \\div 12_5$``, "the sixth root of $N$" for ``$\\sqrt[6]{N}$``.

    Every number and letter of the expression must lie in a formula the rewording writes (matched as
    whole atoms), except numbers the rewording's prose says in words ("sixth" for the 6 of a root);
    what is left are operators, brackets and names of functions, which words say. An operation whose
    operands do not commute (``-``, ``\\div``, ``/``, a power) must keep their order: "subtract $A$
    from $B$" is B - A, so "from" between them reverses it."""
    text = drop_diagrams(rephrased)
    atoms = _ATOM.findall(expression)
    covered: list[int | None] = [None] * len(atoms)  # the offset, in the rewording, of what covers an atom
    parts = []
    for start, body in _spans(text):
        for f in {normalize_formula(body), *_pieces(body)}:
            tokens = _ATOM.findall(f)
            if any(t[0].isalnum() for t in tokens):
                parts.append((len(tokens), start, tokens))
    for n, start, tokens in sorted(parts, key=lambda p: -p[0]):
        for i in range(len(atoms) - n + 1):
            if atoms[i : i + n] == tokens and all(c is None for c in covered[i : i + n]):
                covered[i : i + n] = [start] * n
    spoken = numbers_in(mask_math(text), hints=True)
    for atom, at in zip(atoms, covered, strict=True):
        if at is None and atom[0].isalnum() and not (atom[0].isdigit() and atom in spoken):
            return False
    order = [at for at in dict.fromkeys(c for c in covered if c is not None)]
    if len(order) >= 2 and any(
        a in ("-", r"\div", "/", "^") for a, c in zip(atoms, covered, strict=True) if c is None
    ):
        first, second = order[0], order[1]
        reversed_ = second < first
        says_from = re.search(r"\bfrom\b", text[min(first, second) : max(first, second)], re.I) is not None
        if reversed_ != says_from:
            return False
    return True


def lost_bound(original: str, rephrased: str) -> str | None:
    """The "between A and B" of ``original`` when ``rephrased`` keeps at most one of its two bounds:
    it says neither "between", "from ... to", "range" nor "interval", and lacks a lower bound
    ("greater", "at least", ``>``, ...) or an upper one ("less", "at most", ``<``, ...)."""
    m = _BETWEEN.search(drop_diagrams(original))
    if m is None:
        return None
    text = drop_diagrams(rephrased)
    if _TWO_BOUNDS.search(text) or (_LOWER.search(text) and _UPPER.search(text)):
        return None
    return " ".join(m.group(0).split())


def changed_math(original: str, rephrased: str) -> Failure | None:
    """``changed_math`` when an expression of ``original`` is missing from the math of ``rephrased``,
    a condition of it is written as a different condition, or a range "between A and B" lost one of
    its bounds (see the module's docstring)."""
    bound = lost_bound(original, rephrased)
    if bound is not None:
        return "changed_math", f"the rewording keeps at most one bound of the original's {bound!r}"
    mine = formulas(original)
    ours = [normalize_formula(f) for f in mine] + [p for f in mine for p in _pieces(f)]
    found = formulas(rephrased)
    theirs = [normalize_formula(f) for f in found] + [p for f in found for p in _pieces(f)]
    pool = "\u241e".join(theirs) + "\u241e" + normalize_formula(drop_diagrams(rephrased))
    lost: list[str] = []
    for tex in mine:
        whole = normalize_formula(tex)
        if _atoms(whole) < MIN_ATOMS or whole in pool or _NAME.fullmatch(whole):
            continue
        if _ELLIPSIS.search(whole) and _ends(tex) <= numbers_in(rephrased, hints=True):
            continue  # "$1+2+\\dots+50$" as "the integers from 1 to 50": its first and last terms kept
        if _RELATION.search(whole):
            edited = _changed_condition(whole, ours, theirs)
            if edited is not None:
                lost.append(f"${' '.join(tex.split())[:60]}$ became ${edited[:60]}$")
            continue
        pieces = _pieces(tex)
        if (len(pieces) <= 1 or any(_atoms(p) >= MIN_ATOMS and p not in pool for p in pieces)) and not (
            _said_in_words(whole, rephrased)
        ):
            lost.append(f"${' '.join(tex.split())[:60]}$ is missing")
    if not lost:
        return None
    return "changed_math", f"the rewording changes the original's math: {'; '.join(lost[:3])}"
