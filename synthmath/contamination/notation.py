"""How a rewording may write the same mathematics otherwise: letters renamed one for one
(:func:`renamed`: ``g(t)=t^2+3`` / ``f(x)=x^2+3``, triangle ``PQR`` / ``ABC``) and angles in radians
(:func:`in_degrees`: ``\\frac{2\\pi}{5}`` / ``72^\\circ``) and quantities in other units
(:func:`in_item_quantities`: "a quarter of an hour" / "15 minutes"). Each returns the text's
:class:`~synthmath.contamination.mathprofile.MathProfile` written the item's way, for
:func:`~synthmath.contamination.mathsig.compare` to compare.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher
from fractions import Fraction

from .mathprofile import MathProfile, with_expressions
from .units import restated

__all__ = ["in_degrees", "in_item_quantities", "renamed"]

_LETTER = "\x00"  # any letter, in the shape of an expression that renamed() aligns
_RENAMED = 0.8  # the shapes of the LaTeX (letters as one) of a text and an item with its letters renamed


def renamed(text: MathProfile, item: MathProfile) -> MathProfile | None:
    """``text`` with its letters renamed to the item's, when one renaming, one for one, of all of them
    aligns their LaTeX (None when none does, or none is needed). Every occurrence of a letter goes with
    it: a sibling that swaps two letters in one place (``p(q(4))`` / ``q(p(4))``, "find $c$" / "find
    $b$") aligns no consistent renaming, and one that renames a letter in one place but not another
    finds the letter mapped two ways."""
    mine = frozenset(a for a in text.symbols if _letter(a))
    theirs = frozenset(a for a in item.symbols if _letter(a))
    if mine == theirs or len(mine) != len(theirs) or not text.lengths:
        return None
    shape = [_LETTER if _letter(a) else a for a in text.atoms]
    aligned = SequenceMatcher(None, [_LETTER if _letter(a) else a for a in item.atoms], shape, autojunk=False)
    if aligned.real_quick_ratio() < _RENAMED or aligned.ratio() < _RENAMED:
        return None
    to: dict[str, str] = {}
    for i, j, size in aligned.get_matching_blocks():
        for k in range(size):
            a, b = text.atoms[j + k], item.atoms[i + k]
            if _letter(a) and to.setdefault(a, b) != b:
                return None  # one letter of the text for two of the item's
    if set(to) != mine or set(to.values()) != theirs or len(set(to.values())) != len(to):
        return None
    return with_expressions(text, [[to.get(a, a) for a in part] for part in _parts(text)])


def _letter(atom: str) -> bool:
    return len(atom) == 1 and atom.isalpha()


def in_degrees(text: MathProfile, item: MathProfile) -> MathProfile:
    """``text`` with each angle it states in radians (``\\frac{7\\pi}{30}``, ``\\frac{\\pi}{6}``,
    ``2\\pi/9``) read in degrees, when the item states angles in degrees and has that number
    (``42^\\circ``): a rewording may change the unit of an angle as of a length. The same profile when
    there is none."""
    if r"\pi" not in text.symbols or r"\pi" in item.symbols or not text.lengths:
        return text
    if r"\circ" not in item.symbols and "degree" not in item.units:
        return text
    numbers = Counter(text.numbers)
    parts: list[list[str]] = []
    converted = False
    for atoms in _parts(text):
        out: list[str] = []
        k = 0
        while k < len(atoms):
            found = _radians(atoms, k)
            if found is not None:
                end, top, bottom = found
                degrees = Fraction(180 * top, bottom)
                name = str(degrees.numerator)
                if degrees.denominator == 1 and name in item.numbers:
                    # as the item writes it: ``42^\circ``, or "40 degrees" in words (no LaTeX)
                    out += [name, "^", r"\circ"] if r"\circ" in item.symbols else []
                    numbers -= Counter(str(x) for x in (top, bottom) if x != 1)
                    numbers[name] += 1
                    converted = True
                    k = end
                    continue
            out.append(atoms[k])
            k += 1
        parts.append(out)
    return with_expressions(text, parts, numbers=numbers) if converted else text


def _radians(atoms: Sequence[str], k: int) -> tuple[int, int, int] | None:
    """An angle in radians starting at ``atoms[k]``: (where it ends, numerator, denominator)."""
    pi = r"\pi"
    window = list(atoms[k : k + 4])
    digits = [a.isdigit() for a in window]
    if window[:1] == [r"\frac"]:
        if len(window) == 4 and digits[1] and window[2] == pi and digits[3]:
            return k + 4, int(window[1]), int(window[3])
        if len(window) >= 3 and window[1] == pi and digits[2]:
            return k + 3, 1, int(window[2])
    if len(window) == 4 and digits[0] and window[1] == pi and window[2] == "/" and digits[3]:
        return k + 4, int(window[0]), int(window[3])
    if len(window) >= 3 and window[0] == pi and window[1] == "/" and digits[2]:
        return k + 3, 1, int(window[2])
    return None


def in_item_quantities(text: MathProfile, item: MathProfile) -> MathProfile:
    """``text`` with each quantity it states as one of the item's, in other units or other numbers
    (:func:`~synthmath.contamination.units.restated`), written with the item's number, in its numbers
    and its LaTeX (``$120$`` minutes / ``$2$`` hours). The same profile when there is none."""
    if not text.quantities or not item.quantities:
        return text
    numbers, to = restated(text.numbers, text.quantities, item.quantities, item.numbers)
    if numbers is text.numbers:
        return text
    return with_expressions(text, [[to.get(a, a) for a in part] for part in _parts(text)], numbers)


def _parts(profile: MathProfile) -> list[tuple[str, ...]]:
    """The atoms of each of the profile's expressions."""
    parts, at = [], 0
    for n in profile.lengths:
        parts.append(profile.atoms[at : at + n])
        at += n
    return parts
