"""What a math problem *is*: its numbers, its expressions and what it asks (:class:`MathProfile`).
:mod:`.mathsig` compares two of them.

- numbers: every number of the text, as a multiset, with number words read as digits (see
  :func:`synthmath.contamination.ngrams.normalize_tokens`: "twelve", "a dozen", "one third",
  "squared", "the fourth power");
- expressions: the LaTeX of each ``$...$``, ``\\(...\\)``, ``\\[...\\]`` and display environment,
  normalised (``\\dfrac`` -> ``\\frac``, ``\\left``/``\\right``, spacing and sizing commands and
  whitespace dropped, ``x^{2}`` -> ``x^2``, ``\\le`` -> ``\\leq``, ``\\cdot`` -> ``\\times``, one notation
  for one thing), as a sequence of atoms (numbers, letters, commands, operators), and each expression
  with at least ``RARE_ATOMS`` atoms as a key for retrieval, as written and with its letters named in
  order of appearance (``shapes``: ``x^2+y^2+z^2=1`` and ``a^2+b^2+c^2=1`` are one shape);
- the ask: what the question sentence asks for, as groups on a few axes (largest / smallest, sum /
  product / difference / ratio / mean, positive / negative, area / perimeter / volume / ...);
- the numbers of its diagram (Asymptote code), and the units it names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from .ngrams import _FRAC_DIGITS, drop_diagrams, normalize_tokens
from .units import Quantity, quantities, units_in

__all__ = [
    "PUNCTUATION",
    "RARE_ATOMS",
    "WRITING",
    "MathProfile",
    "math_profile",
    "normalize_expression",
    "with_expressions",
]

RARE_ATOMS = 5  # an expression this long is specific enough to retrieve candidates by

_MATH = re.compile(
    r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]"
    r"|\\begin\{(align|equation|eqnarray|gather|multline)\*?\}(.+?)\\end\{\5\*?\}",
    re.DOTALL,
)
_NOISE = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|displaystyle|textstyle|quad|qquad|[!,;: ])(?![a-zA-Z])"
    r"|\\(?:mathrm|mathbf|mathbb|mathit|text|textbf|operatorname|boldsymbol|bm|vec|overrightarrow|hat)"
    r"(?![a-zA-Z])(?=\s*[{\\a-zA-Z0-9])|&|\\\\"
)
# one notation for one thing: \cos^{-1} is \arccos, \pmod and \mod are \bmod, \imath is i
_MOD_WORD = re.compile(r"\\(?:mathrm|text|operatorname)\s*\{\s*mod\s*\}")
# a reciprocal is one fraction however written: p^{-1} is \frac{1}{p}
_RECIPROCAL = re.compile(r"(?<![\\a-zA-Z])([a-zA-Z0-9])\s*\^\s*(?:\{\s*-\s*1\s*\}|-\s*1(?![0-9]))")
_INVERSE_TRIG = re.compile(r"\\(sin|cos|tan|sec|csc|cot)\s*\^\s*\{?\s*-\s*1\s*\}?")
_SYNONYMS = {
    r"\dfrac": r"\frac", r"\tfrac": r"\frac", r"\le": r"\leq", r"\ge": r"\geq", r"\ne": r"\neq",
    r"\cdot": r"\times", r"\ast": r"\times",
    r"\lvert": "|", r"\rvert": "|", r"\vert": "|", r"\lbrace": "{", r"\rbrace": "}",
    r"\dbinom": r"\binom", r"\tbinom": r"\binom", r"\colon": ":", r"\ldots": r"\dots", r"\cdots": r"\dots",
    r"\dotsm": r"\dots", r"\dotsb": r"\dots", r"\dotsc": r"\dots", r"\dotsi": r"\dots", r"\dotso": r"\dots",
    r"\pmod": r"\bmod", r"\mod": r"\bmod", r"\imath": "i", r"\jmath": "j", r"\div": "/",
    r"\geqq": r"\geq", r"\leqq": r"\leq", r"\leqslant": r"\leq", r"\geqslant": r"\geq",
}  # fmt: skip
# a multiple-choice list: "(A)", "(B)" and "(C)" in order, to the end of the problem
_CHOICES = re.compile(r"\(A\)(?=.*?\(B\).*?\(C\))", re.DOTALL)
_MIRROR = {"=": "=", r"\neq": r"\neq", "<": ">", ">": "<", r"\leq": r"\geq", r"\geq": r"\leq"}
_ATOM = re.compile(r"\\[a-zA-Z]+|\d+(?:\.\d+)?|[a-zA-Z]|[^\s{}]")
# words written inside the math are prose, not mathematics ("3-x & \\text{ if } x \\leq 3"); a function
# named in words is kept (\\text{lcm}, \\text{gcd}, \\text{mod})
_TEXT_WORDS = re.compile(r"\\(?:text|mbox)\s*\{\s*(?!(?:lcm|gcd|mod)\s*\})[^{}]*\}")
# a domain declared in symbols is one a rewording says in words: "$x,y \\in \\mathbb{R}$" / "real x, y"
_DOMAIN = re.compile(r"\\in\s*\\mathbb\s*\{?\s*[RZNQC]\s*\}?")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{[a-zA-Z*]+\}(?:\{[^{}]*\})?")
_BRACED = re.compile(r"([\^_])\{([^{}])\}")
_THOUSANDS = re.compile(r"(?<=\d)\{,\}(?=\d{3})")

_MAX = "largest greatest maximum max biggest highest maximal maximize maximized longest larger greater bigger"
_MIN = (
    "smallest least minimum min fewest lowest minimal minimize minimized shortest smaller lesser fewer lower"
)
_QUANTITIES = """area perimeter volume radius diameter circumference probability remainder slope degree
degrees angle height length width distance domain range"""
_OPERATIONS = {"sum": "sum", "product": "product", "difference": "difference", "ratio": "ratio"}
_OPERATIONS |= {"quotient": "ratio", "mean": "mean", "average": "mean", "median": "median", "mode": "mode"}
_ASK_AXES: dict[str, dict[str, str]] = {
    "extreme": {w: "max" for w in _MAX.split()} | {w: "min" for w in _MIN.split()},
    "operation": _OPERATIONS | {"count": "count"},
    "sign": {"positive": "positive", "negative": "negative", "nonnegative": "positive"},
    "quantity": {w: w for w in _QUANTITIES.split()},
}
_ASK_WORDS = {w: (axis, group) for axis, words in _ASK_AXES.items() for w, group in words.items()}
_QUESTION = re.compile(
    r"\b(?:what|which|how|find|compute|determine|evaluate|calculate|simplify|express|solve|give|write)\b"
)
_ASY_CODE = re.compile(r"\[asy\](.*?)(?:\[/asy\]|$)", re.DOTALL)
_DIAGRAM_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PROSE = re.compile(r"(?<![\\{a-zA-Z])[a-zA-Z]{3,} +[a-zA-Z]{2,}(?![a-zA-Z]*\})|\s[a-zA-Z]{4,}\s")
_WORDS_IN_MATH = re.compile(r"\\(?:text|mbox|mathrm|textbf|operatorname)")
PUNCTUATION = frozenset(".,;:!?()[]|'\"\\")
_AT_LEAST = re.compile(r"\bat (?:least|most)\b|\b[a-z]+er than\b")  # conditions, not asks
_INSTRUCTION = re.compile(r"\W*(?:express|enter|give|write|simplify|round) (?:your|the|all|each|it|as)\b")
_COUNT = re.compile(r"\bhow many\b|\bnumber of\b")
_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=[A-Z(\[])")


# how LaTeX is written, not what it says: a rewording adds or drops these freely
# (and how a figure's parts are named: "triangle $ABC$" / "$\\triangle ABC$", "$\\overline{AB}$" / "$AB$")
WRITING = frozenset(
    [*PUNCTUATION, "\\times", "\\frac", "/", "\\dots", "{", "}", "\\triangle", "\\angle", "\\overline"]
)


@dataclass(frozen=True, slots=True)
class MathProfile:
    """The mathematics of one text. ``numbers``: every number, with repeats; ``atoms``: the atoms of
    its expressions in order; ``rare``: its normalised expressions of at least ``RARE_ATOMS`` atoms;
    ``shapes``: those of them that hold letters, the letters named by their order of appearance in the
    expression (a rewording may rename them: the same key for ``f(x)=x+1`` and ``h(t)=t+1``);
    ``asks``: (axis, group) pairs of its question sentence (and, as ``stated <axis>``, of its whole
    prose); ``symbols``: the letters, commands and operators of its expressions; ``diagram``: the
    numbers of its Asymptote code (None without one): another diagram is another problem; ``units``:
    the units it names (:func:`~synthmath.contamination.units.units_in`); ``quantities``: its numbers
    written before a unit (:func:`~synthmath.contamination.units.quantities`)."""

    numbers: Counter[str]
    atoms: tuple[str, ...]
    rare: frozenset[str]
    asks: frozenset[tuple[str, str]]
    symbols: frozenset[str] = frozenset()
    diagram: Counter[str] | None = None
    expressions: tuple[str, ...] = ()
    units: frozenset[str] = frozenset()
    lengths: tuple[int, ...] = ()  # the atoms of each expression, in order (``atoms`` is their concatenation)
    shapes: frozenset[str] = frozenset()
    quantities: tuple[Quantity, ...] = ()  # the numbers written before a unit, as amounts
    choices: Counter[str] | None = None  # the numbers of its answer choices, "(A) 30 (B) 31 ..." (None: none)


def normalize_expression(expr: str) -> list[str]:
    """The atoms of one LaTeX expression, in a normal form."""
    s = _ENVIRONMENT.sub(" ", _THOUSANDS.sub("", expr))
    if "\\text" in s or "\\mbox" in s:
        s = _TEXT_WORDS.sub(" ", s)
    if "\\mathbb" in s:
        s = _DOMAIN.sub(" ", s)
    if "mod" in s:
        s = _MOD_WORD.sub(r"\\bmod ", s)
    s = _NOISE.sub("", s).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    if "^" in s:
        s = _RECIPROCAL.sub(r"\\frac{1}{\1}", _INVERSE_TRIG.sub(r"\\arc\1", s))
    s = _FRAC_DIGITS.sub(r"\\frac{\1}{\2}", s)
    s = _BRACED.sub(r"\1\2", re.sub(r"\s+", " ", s))
    atoms = [_SYNONYMS.get(a, a) for a in _ATOM.findall(s)]
    while atoms and atoms[-1] in {".", ",", ";"}:
        atoms.pop()  # sentence punctuation inside the math
    return _sides_in_order(atoms)


def _sides_in_order(atoms: list[str]) -> list[str]:
    """One relation between two sides, written either way round, in one order, the longer side
    first: ``14=(2x+5)(x-3)`` is ``(2x+5)(x-3)=14``, ``-9<6-x`` is ``6-x>-9`` (the relation turned
    with its sides, so ``6-x<-9`` stays another relation). Chains and systems (two relations or more)
    are left as written, and so are sides of one length (``c \\le 1`` may be the end of a chain that a
    ``$`` split)."""
    depth = 0
    at = -1
    for k, a in enumerate(atoms):
        if a in "([":
            depth += 1
        elif a in ")]":
            depth -= 1
        elif depth == 0 and a in _MIRROR:
            if at >= 0:
                return atoms  # a chain or a system
            at = k
    if at <= 0 or at == len(atoms) - 1:
        return atoms
    left, right = atoms[:at], atoms[at + 1 :]
    return [*right, _MIRROR[atoms[at]], *left] if len(right) > len(left) else atoms


def _asks(prose: str) -> frozenset[tuple[str, str]]:
    """The ask of the question sentence: the last sentence with a question mark or a question word."""
    sentences = [s for s in _SENTENCE.split(prose.strip()) if not _INSTRUCTION.match(s.lower())]
    question = next((s.lower() for s in reversed(sentences) if "?" in s), "")
    if not question:
        question = next((s.lower() for s in reversed(sentences) if _QUESTION.search(s.lower())), "")
    asked = frozenset(_ask_words(question or prose.lower()))
    # the conditions count too: "the sum of its digits" / "the product of its digits"
    stated = frozenset(
        ("stated " + axis, group) for axis, group in _ask_words(prose.lower()) if axis != "quantity"
    )
    return asked | stated


def _ask_words(text: str) -> list[tuple[str, str]]:
    text = text.replace("non-negative", "nonnegative").replace("non negative", "nonnegative")
    text = _AT_LEAST.sub(" ", text)  # "at least two" is a condition, not an ask for the smallest
    text = _COUNT.sub(" count ", text)
    return [_ASK_WORDS[w] for w in re.findall(r"[a-z]+", text) if w in _ASK_WORDS]


def math_profile(text: str, tokens: list[str] | None = None) -> MathProfile:
    """The :class:`MathProfile` of ``text`` (``tokens``: its :func:`normalize_tokens`, when known)."""
    diagram = None
    money = "\\$" in text
    if "[asy]" in text:
        diagram = Counter(_DIAGRAM_NUMBER.findall(" ".join(_ASY_CODE.findall(text))))
    text = drop_diagrams(text).replace("\\$", " dollars ")
    tokens = normalize_tokens(text) if tokens is None else tokens
    numbers = Counter(t for t in tokens if t[0].isdigit())
    choices = None
    if "(C)" in text and (listed := _CHOICES.search(text)) is not None:
        choices = Counter(t for t in normalize_tokens(text[listed.start() :]) if t[0].isdigit()) & numbers
    parts: list[list[str]] = []  # the atoms of each expression
    spans = []
    at = 0
    while (m := _MATH.search(text, at)) is not None:
        found = m.groups()  # $$, $, \(, \[ or an environment's (name, content)
        if found[1] is not None and _is_prose(found[1]):
            at = m.end() - 1  # a "$" left open: what follows is prose, and the closing "$" opens
            continue
        at = m.end()
        spans.append(m.span())
        latex = found[5] if found[4] else next(g for g in found[:4] if g is not None)
        parts.append(normalize_expression(latex))
    prose = "".join(
        text[a:b] + " X "
        for a, b in zip([0] + [e for _, e in spans], [s for s, _ in spans] + [len(text)], strict=False)
    )
    units = units_in(tokens) | ({"dollar"} if money else set())
    return MathProfile(
        numbers=numbers, asks=_asks(prose), diagram=diagram, units=units, quantities=quantities(tokens),
        choices=choices, **_latex(parts),
    )  # fmt: skip


def with_expressions(
    profile: MathProfile, parts: Sequence[Sequence[str]], numbers: Counter[str] | None = None
) -> MathProfile:
    """``profile`` with the atoms of its expressions replaced by ``parts`` (one list per expression),
    and its numbers by ``numbers`` when given: the same math written another way."""
    return replace(profile, numbers=profile.numbers if numbers is None else numbers, **_latex(parts))


def _latex(parts: Sequence[Sequence[str]]) -> dict[str, Any]:
    """The fields of a profile that the atoms of its expressions decide (one list per expression)."""
    atoms = tuple(a for p in parts for a in p)
    expressions = tuple("".join(a for a in p if a not in WRITING) for p in parts)
    return {
        "atoms": atoms,
        "rare": frozenset(e for e, p in zip(expressions, parts, strict=True) if len(p) >= RARE_ATOMS),
        "shapes": frozenset(filter(None, (_shape(p) for p in parts if len(p) >= RARE_ATOMS))),
        "symbols": frozenset(a for a in atoms if not a[0].isdigit() and a not in PUNCTUATION),
        "expressions": expressions,
        "lengths": tuple(len(p) for p in parts),
    }


def _shape(atoms: Sequence[str]) -> str:
    """One expression's atoms, writing aside, with each letter named by its order of first appearance
    (``""`` when it holds no letter: its key is the expression itself)."""
    names: dict[str, str] = {}
    out = []
    for a in atoms:
        if a in WRITING:
            continue
        if len(a) == 1 and a.isalpha():
            a = names.setdefault(a, f"\\{len(names)}")
        out.append(a)
    return "".join(out) if names else ""


def _is_prose(math: str) -> bool:
    """Words in what ``$...$`` holds, outside ``\\text{}``: a "$" was left open (real rewordings do)."""
    return _PROSE.search(math) is not None and _WORDS_IN_MATH.search(math) is None
