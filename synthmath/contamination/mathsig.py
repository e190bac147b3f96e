"""How far a text keeps a benchmark item's mathematics (:func:`compare`), from the two problems'
:class:`~synthmath.contamination.mathprofile.MathProfile`.

Two problems with the same wording and other expressions are different problems with different
answers; two problems in other words with the same expressions, conditions and question are the same
problem. The lexical and embedding stages find candidate pairs by wording; this module says whether
a pair also shares its mathematics, which decides between the two levels ``same_problem`` and
``same_template``. Two problems whose asks differ on an axis ("the largest value of x" / "the
smallest value of x") are different problems.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from rapidfuzz.distance import LCSseq

from .mathprofile import PUNCTUATION as _PUNCTUATION
from .mathprofile import RARE_ATOMS, MathProfile, math_profile
from .mathprofile import WRITING as _WRITING
from .notation import in_degrees, in_item_quantities, renamed
from .units import in_item_units

__all__ = [
    "RARE_ATOMS",
    "REPLACED",
    "MathAgreement",
    "MathProfile",
    "compare",
    "formulas_differ",
    "lcs",
    "math_profile",
    "signs_changed",
    "surely_replaced",
    "written_as_item",
]


@dataclass(frozen=True, slots=True)
class MathAgreement:
    """How far a text keeps a benchmark item's mathematics. ``missing``: the item's distinct numbers
    that the text lacks; ``extra``: the text's distinct numbers that the item lacks; ``fewer``: some
    number of the item occurs fewer times in the text; ``expressions``: the longest common subsequence
    of their expression atoms over the longer sequence (0 when either has no LaTeX);
    ``ask_conflict``: their asks differ on an axis; ``size``: the item's count of distinct numbers;
    ``recounted``: their LaTeX is nearly the same with other counts of its numbers, a symbol of the
    item's expressions was replaced by another, or their diagrams differ; ``atom_precision``: the
    share of the text's LaTeX, by length, found verbatim in the item's; ``extra_symbols``: the
    letters and commands of the text's expressions that the item's lack (operators aside: a rewording
    writes "times" as ``\\times``); ``same_latex``: their expressions are the same atoms in the same
    order, punctuation aside (or one of them has none); ``changed_latex``: the text keeps most of the
    item's LaTeX and replaced some of it by something else (``(x+y)(x-y)`` / ``(x+y)(x+y)``, a number
    for another), writing aside (``\\cdot``, ``\\frac`` / ``/``, brackets)."""

    missing: frozenset[str]
    extra: frozenset[str]
    fewer: bool
    expressions: float
    ask_conflict: bool
    size: int
    recounted: bool = False
    atom_precision: float = 1.0
    extra_symbols: frozenset[str] = frozenset()
    same_latex: bool = True
    changed_latex: bool = False
    replaced: bool = False

    @property
    def same_math(self) -> bool:
        """The text keeps the item's numbers and asks the same thing.

        A rewording may drop a number now and then (an equation label, the "49!" of "1! + ... + 50!"),
        so one missing number in four is allowed; and it may state a count the item leaves implicit, so
        one extra number is allowed when none is missing and no number of the item occurs less often.
        A template sibling changes a number: one of the item's goes missing and another comes in.
        "1" and "2" are left out on both sides ("one day" / "each day", "both", "a pair")."""
        if self.replaced or self.recounted or len(self.missing) > self.size // 4:
            return False
        # more mathematics than the item has: a longer problem that contains it, not a rewording
        if self.extra_symbols or self.atom_precision < _ATOM_PRECISION:
            return False
        if self.extra:
            return not self.missing and len(self.extra) == 1 and not self.fewer
        return True


_NO_ATOMS: Counter[str] = Counter()  # compare's atom counts when they are not read
_TRIVIAL_MISSING = frozenset({"0", "1"})  # "= 0" / "a root", "one day" / "each day"
_TRIVIAL_EXTRA = frozenset({"1", "2"})
_RENAMED_LATEX = 0.7  # share of the item's LaTeX, in order, a text with its letters renamed keeps
_ATOM_PRECISION = 0.3  # at least this share of a rewording's LaTeX is found in the item
_OPERATOR_LIST = r"+ - = ^ _ / * < > \times \div \dots \pm"
_CHANGED_LATEX = 0.5  # expressions share from which a replaced atom counts as a changed expression
_OPERATORS = frozenset(_OPERATOR_LIST.split())
_SAME_LATEX = 0.85  # expressions share from which a sign added or removed is a changed expression
_RELATIONS = frozenset([r"\leq", r"\geq", r"\neq", r"\approx", r"\equiv", r"\mp"])
_DIVISION = frozenset([r"\frac", "/", r"\div", "{", "}"])
_SIGNS = frozenset(["-", "+", r"\pm", r"\mp", r"\sqrt", "!", *_DIVISION])
_SIGN_ATOMS = (_OPERATORS | _RELATIONS | {"!"}) - _WRITING  # what signs_changed compares
# and the brackets: in the very same words and numbers, brackets moved group otherwise (``3 \div (2+1)``
# / ``3 \div 2+1``, ``[0,1)`` / ``(0,1)``); elsewhere they are writing (a rewording adds or drops them)
_GROUPING = frozenset("()[]")


def lcs(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of ``a`` and ``b`` (rapidfuzz's bit-parallel LCS in C++:
    the match score computes one for every candidate of every text)."""
    if not a or not b:
        return 0
    return int(LCSseq.similarity(a, b))


def compare(text: MathProfile, item: MathProfile) -> MathAgreement:
    """How far ``text`` keeps the mathematics of ``item``; a text whose letters are the item's renamed
    one for one (``g(t)=t^2+3`` / ``f(x)=x^2+3``, triangle ``PQR`` / ``ABC``) keeps it when, renamed,
    it keeps it (:func:`renamed`)."""
    agreement = _compare(text, item)
    if agreement.same_math:
        return agreement
    other = renamed(text, item)
    if other is None:
        return agreement
    again = _compare(other, item)
    # renamed, the text keeps the item's numbers with none of its own, and its LaTeX: all of it, or most
    # of it in order when that is much (a condition said in symbols for words, the terms of the asked sum
    # swapped): letters alone carry too much of a problem's identity to take a looser match ("$x$
    # doubled, then divided by 5" / "$A$ doubled")
    longer = max(len(other.atoms), len(item.atoms))
    most = again.expressions >= _RENAMED_LATEX and again.expressions * longer >= RARE_ATOMS
    kept = again.same_math and (again.same_latex or most) and not again.extra
    return again if kept else agreement


def written_as_item(text: MathProfile, item: MathProfile) -> MathProfile:
    """``text`` written the way ``item`` writes the same things, as :func:`compare` reads it: angles in
    degrees, quantities in the item's units, and letters renamed one for one (:func:`renamed`). What
    changed in the words with them (a number converted, a letter renamed) does not change the problem."""
    text = _in_item_units(text, item)
    return renamed(text, item) or text


def _in_item_units(text: MathProfile, item: MathProfile) -> MathProfile:
    text = in_degrees(text, item)  # an angle in radians keeps its number in degrees
    text = in_item_quantities(text, item)  # "a quarter of an hour" is "15 minutes"
    if text.units != item.units:  # a quantity stated in other units keeps its number, converted
        numbers = in_item_units(text.numbers, text.units, item.numbers, item.units)
        if numbers is not text.numbers:
            text = replace(text, numbers=numbers)
    return text


def _as_asked(text: MathProfile, item: MathProfile) -> MathProfile:
    """``item`` without the numbers of its answer choices when the text has none: a rewording may drop
    a multiple-choice list whole ("$\\textbf{(A)}\\ 2 \\qquad \\textbf{(B)}\\ 4 \\dots$"), which
    holds the candidate answers, not the problem's data. (A text that keeps a list compares it.)"""
    if item.choices is None or text.choices is not None:
        return item
    return replace(item, numbers=item.numbers - item.choices)


def _compare(text: MathProfile, item: MathProfile) -> MathAgreement:
    text = _in_item_units(text, item)
    item = _as_asked(text, item)
    mine, theirs = set(text.numbers), set(item.numbers)
    extra = frozenset(mine - theirs - _TRIVIAL_EXTRA)
    # a "1" may go missing in a rewording ("one day" / "each day"), not when another number came in
    missing = frozenset(theirs - mine - (frozenset() if extra else _TRIVIAL_MISSING))
    fewer = any(text.numbers[n] < c for n, c in item.numbers.items() if n not in _TRIVIAL_EXTRA)
    longer = max(len(text.atoms), len(item.atoms))
    expressions = lcs(item.atoms, text.atoms) / longer if text.atoms and item.atoms else 0.0
    recounted = False  # a number of the LaTeX replaced by another: see ``changed`` below
    conflict = False
    for axis in {a for a, _ in item.asks} & {a for a, _ in text.asks}:
        asked = {g for a, g in text.asks if a == axis}
        wanted = {g for a, g in item.asks if a == axis}
        # what is asked, and what is stated, must share a group ("the sum of its digits" / "the product")
        conflict |= not asked & wanted
    # an expression changed: one of the item's symbols went away and another came in (cos / tan, a / b)
    swapped = bool(item.symbols - text.symbols - _WRITING) and bool(text.symbols - item.symbols - _WRITING)
    exchanged = bool(item.symbols - text.symbols - _WRITING) and bool(text.symbols - item.symbols - _WRITING)
    redrawn = text.diagram is not None and item.diagram is not None and _differ(text.diagram, item.diagram)
    size = len(theirs - _TRIVIAL_MISSING)
    # the same LaTeX with an atom replaced by another: a changed operator, relation, number or letter
    gone = came = _NO_ATOMS  # (read only)
    if expressions >= min(_CHANGED_LATEX, _SAME_LATEX):  # under it ``changed`` is False: not counted
        gone = Counter(item.atoms) - Counter(text.atoms)
        came = Counter(text.atoms) - Counter(item.atoms)
    # (a product sign may come in, "abc" / "a \\cdot b \\cdot c"; replaced by "+" it counts)
    # (a letter or number of the item written once more in the LaTeX, where none went from the text,
    # is no replacement: "$CH$ measures $24$" / "$CH = 24$", "is 1 larger" / "is $1$ larger"; "find $c$"
    # / "find $b$" is one)
    named = not any(a.isalpha() for a in gone)
    kept = all(a in text.numbers for a in gone if a[0].isdigit())
    changed = (
        expressions >= _CHANGED_LATEX
        and any(a not in _WRITING or a in _OPERATORS for a in gone)
        and any(a not in _WRITING and not _restated(a, item, named, kept) for a in came)
    ) or (expressions >= (_CHANGED_LATEX if gone and came else _SAME_LATEX) and _signs_differ(gone, came))
    # the share of the text's LaTeX (by length) found verbatim in the item's: a rewording keeps its
    # formulas or writes them in words; a different problem brings formulas of its own
    joined = "\x00".join(item.expressions)
    total = sum(len(e) for e in text.expressions)
    precision = sum(len(e) for e in text.expressions if e in joined) / total if total else 1.0
    return MathAgreement(
        missing, extra, fewer or recounted, expressions, conflict, size, recounted or swapped or redrawn,
        precision, frozenset(text.symbols - item.symbols - _OPERATORS - _WRITING),
        not (text.atoms and item.atoms) or _bare(text) == _bare(item), changed,
        conflict or changed or exchanged or redrawn or _renumbered(text, item) or _unit_changed(text, item),
    )  # fmt: skip


def _restated(atom: str, item: MathProfile, named: bool, kept: bool) -> bool:
    """An atom the item has already, written once more: a letter where no letter went, a number where
    every number that went from the LaTeX is still in the text."""
    if atom[0].isdigit():
        return kept and atom in item.numbers
    return named and atom.isalpha() and atom in item.symbols


def _signs_differ(gone: Counter[str], came: Counter[str]) -> bool:
    """Nearly the same LaTeX with only a sign or an operation added or taken away, in place:
    ``-\\sqrt{3}`` / ``\\sqrt{3}``, ``\\frac{a}{b}`` / ``ab`` (``a/b`` is the same division). A
    relation that goes ("$x>0$") was most often said in words ("positive"), and an expression that
    goes with its letters was moved out of the formula: neither counts here. A product sign alone is
    writing (``abc`` / ``a \\cdot b \\cdot c``); in place of a division it is another operation."""
    if (not gone and not came) or any(a not in _SIGNS and a != r"\times" for a in gone + came):
        return False
    divided = gone["\\frac"] + gone["/"] + gone["\\div"]
    return divided != came["\\frac"] + came["/"] + came["\\div"] or any(
        gone[a] != came[a] for a in _SIGNS - _DIVISION
    )


def surely_replaced(text: MathProfile, item: MathProfile) -> bool:
    """A cheap test that :func:`compare` would find something of ``item`` replaced: the same units,
    and a number of the item went (or occurs less often) while another came (or occurs more often).
    False says nothing: the whole comparison decides then. (A quantity of the item stated with other
    numbers, "a quarter of an hour" / "15 minutes", leaves it to the whole comparison.)"""
    return text.units == item.units and _renumbered(text, _as_asked(text, item)) and not _restates(text, item)


def _restates(text: MathProfile, item: MathProfile) -> bool:
    """The text states an amount of the item's with other numbers (:func:`.units.restated`)."""
    if not text.quantities or not item.quantities:
        return False
    theirs = {(kind, amount): run for run, kind, amount in item.quantities}
    return any(theirs.get((kind, amount), run) != run for run, kind, amount in text.quantities)


REPLACED = MathAgreement(frozenset(), frozenset(), False, 0.0, False, 0, replaced=True)
"""What :func:`surely_replaced` knows of a pair, as an agreement: only ``replaced`` (and so
``same_math``) is meant to be read."""


def _unit_changed(text: MathProfile, item: MathProfile) -> bool:
    """Of the item's quantities of one kind that the text states with the same numbers, some in
    another unit and some not, or in units of another ratio ("36 feet by 20 yards" / "36 feet by 20
    feet"): the problem changed. All of them in one other unit ("200 yards of fencing" / "200 feet")
    is the same problem in other units; one restated in other numbers is an amount of the item's
    ("12 yards" / "36 feet", "100 mm" and "10 mm" / "10 cm" and "1 cm") and no change."""
    if not text.quantities or not item.quantities:
        return False
    theirs = {(run, kind): amount for run, kind, amount in item.quantities}
    amounts = {(kind, amount) for _, kind, amount in item.quantities}
    ratios: dict[str, set[Fraction]] = {}
    for run, kind, amount in text.quantities:
        if theirs.get((run, kind)) and (kind, amount) not in amounts - {(kind, theirs[run, kind])}:
            ratios.setdefault(kind, set()).add(amount / theirs[run, kind])
    return any(len(r) > 1 for r in ratios.values())


def _renumbered(text: MathProfile, item: MathProfile) -> bool:
    """A number of the item went (or occurs less often) and another came (or occurs more often)."""
    mine, theirs = text.numbers, item.numbers  # (counts, all positive: no Counter subtraction, dearer)
    return any(mine.get(n, 0) < c for n, c in theirs.items()) and any(
        theirs.get(n, 0) < c for n, c in mine.items()
    )


def _differ(a: Counter[str], b: Counter[str]) -> bool:
    """More than a tenth of two diagrams' numbers differ."""
    return sum(((a - b) + (b - a)).values()) > 0.1 * max(sum(a.values()), sum(b.values()), 1)


def signs_changed(text: MathProfile, item: MathProfile) -> bool:
    """The same letters and numbers in the same order, with other signs, operations, relations or
    brackets between them (``$-3$`` / ``$3$``, ``x^2+1`` / ``x^2-1``, ``x<5`` / ``x\\leq 5``,
    ``3 \\div (2+1)`` / ``3 \\div 2+1``). How it is written aside (``\\cdot``, ``\\frac`` or ``/``)."""
    if text.atoms == item.atoms:
        return False
    mine = [a for a in text.atoms if a in _SIGN_ATOMS or a in _GROUPING]
    theirs = [a for a in item.atoms if a in _SIGN_ATOMS or a in _GROUPING]
    return mine != theirs and _rest(text) == _rest(item)


def formulas_differ(text: MathProfile, item: MathProfile) -> bool:
    """The text's LaTeX holds letters, numbers or operations that the item's lacks, counted with
    repeats, how it is written aside: ``x^2+y^2`` / ``xy``, ``a^2+\\frac{1}{b}`` / ``a+1/b``."""
    return bool(Counter(_rest(text, _WRITING)) - Counter(_rest(item, _WRITING)))


def _rest(profile: MathProfile, leave: frozenset[str] = _SIGN_ATOMS | _WRITING) -> list[str]:
    return [a for a in profile.atoms if a not in leave]


def _bare(profile: MathProfile) -> list[str]:
    return [a for a in profile.atoms if a not in _PUNCTUATION]
