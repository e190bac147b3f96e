"""Quantities stated in other units: a rewording may turn "a 5-foot woman" into "a woman 60 inches
tall", or "16 cm" into "160 mm", and keep the problem. :func:`in_item_units` reads such a text's
numbers back in the item's units, so that :func:`~synthmath.contamination.mathsig.compare` sees the
item's numbers and not a template sibling's.

A number counts as converted only when the two texts name different units, and the number is one of
the item's missing numbers times the factor between a unit of the item and another unit of the text
of the same kind (length, time, mass, volume, money), or its square or cube (areas, volumes). A
template sibling keeps the item's words, units included, so it never qualifies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from fractions import Fraction

__all__ = ["in_item_units", "units_in"]

# kind, size in the kind's smallest unit, and the (normalised, lower case) words that name the unit
_UNITS = """
length 1 mm millimeter millimeters millimetre millimetres
length 10 cm centimeter centimeters centimetre centimetres
length 1000 meter meters metre metres
length 1000000 km kilometer kilometers kilometre kilometres
inch 1 inch inches
inch 12 foot feet ft
inch 36 yard yards yd
inch 63360 mile miles
time 1 second seconds
time 60 minute minutes
time 3600 hour hours hr hrs
time 86400 day days
time 604800 week weeks
mass 1 milligram milligrams mg
mass 1000 gram grams
mass 1000000 kilogram kilograms kg
volume 1 milliliter milliliters millilitre millilitres ml
volume 1000 liter liters litre litres
money 1 cent cents
money 100 dollar dollars
angle 1 degree degrees
"""
_UNIT: dict[str, tuple[str, str, int]] = {}  # word -> (kind, unit, size)
for _line in _UNITS.strip().splitlines():
    _kind, _size, *_words = _line.split()
    for _word in _words:
        _UNIT[_word] = (_kind, _words[0], int(_size))


def units_in(tokens: Iterable[str]) -> frozenset[str]:
    """The units a text names (each by its first word in the table above)."""
    return frozenset(_UNIT[t][1] for t in tokens if t in _UNIT)


def in_item_units(
    numbers: Counter[str], units: frozenset[str], item_numbers: Counter[str], item_units: frozenset[str]
) -> Counter[str]:
    """A text's ``numbers`` (it names ``units``) with each number that states one of the item's
    quantities in another unit replaced by the item's number (the same Counter when there is none)."""
    factors = _factors(units, item_units)
    if not factors:
        return numbers
    missing = [n for n in item_numbers if n not in numbers]
    renamed: dict[str, str] = {}
    for number in numbers:
        if number in item_numbers or (value := _value(number)) is None:
            continue
        for old in missing:
            was = _value(old)
            if was and any(value == was * f for f in factors):
                renamed[number] = old
                break
    if not renamed:
        return numbers
    out: Counter[str] = Counter()
    for number, count in numbers.items():
        out[renamed.get(number, number)] += count
    return out


def _factors(mine: frozenset[str], theirs: frozenset[str]) -> set[Fraction]:
    """What an item's number is multiplied by when the text states it in another unit: the factor
    between each unit of the item and each other unit of the text of the same kind, squared and cubed
    too. None when both name the same units."""
    out: set[Fraction] = set()
    if mine == theirs:
        return out
    for new in mine:
        kind, _, size = _UNIT[new]
        for old in theirs:
            old_kind, _, old_size = _UNIT[old]
            if old_kind == kind and old != new:
                f = Fraction(old_size, size)
                out |= {f, f**2, f**3}
    return out


def _value(number: str) -> Fraction | None:
    try:
        return Fraction(number)
    except ValueError:
        return None
