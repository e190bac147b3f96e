"""Quantities stated in other units: a rewording may turn "a 5-foot woman" into "a woman 60 inches
tall", or "16 cm" into "160 mm", and keep the problem. :func:`in_item_units` reads such a text's
numbers back in the item's units, so that :func:`~synthmath.contamination.mathsig.compare` sees the
item's numbers and not a template sibling's.

Two ways, the first exact, the second looser:

- :func:`quantities` reads each number written right before a unit ("15 minutes", "a quarter of an
  hour", "two and a half feet") as an amount of the unit's kind, in its smallest unit; a text's quantity
  of the same amount as one of the item's written with other numbers (900 seconds both) is the item's
  (:func:`restated`). A template sibling that changes a quantity changes its amount.
- :func:`in_item_units`: when the two texts name different units, a number of the text that is one of
  the item's missing numbers times the factor between a unit of the item and another unit of the text
  of the same kind (length, time, mass, volume, money), or its square or cube (areas, volumes), is
  that number. A template sibling keeps the item's words, units included, so it never qualifies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from fractions import Fraction

__all__ = ["Quantity", "in_item_units", "quantities", "restated", "units_in"]

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
calendar 1 month months
calendar 12 year years
"""
_UNIT: dict[str, tuple[str, str, int]] = {}  # word -> (kind, unit, size)
for _line in _UNITS.strip().splitlines():
    _kind, _size, *_words = _line.split()
    for _word in _words:
        _UNIT[_word] = (_kind, _words[0], int(_size))


def units_in(tokens: Iterable[str]) -> frozenset[str]:
    """The units a text names (each by its first word in the table above)."""
    return frozenset(_UNIT[t][1] for t in tokens if t in _UNIT)


Quantity = tuple[tuple[str, ...], str, Fraction]  # (the number's tokens, the unit's kind, the amount)

# words between a number and its unit that leave the amount alone ("a quarter of an hour")
_BETWEEN = frozenset(["of", "a", "an"])
# parts said as words the number words leave ("a third of an hour", "one and a half minutes")
_PER = frozenset(["per", "an", "a", "each", "every"])  # a rate: "42 miles per hour", "42 miles an hour"
_PARTS = {"half": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6, "eighth": 8, "tenth": 10}


def quantities(tokens: Sequence[str]) -> tuple[Quantity, ...]:
    """Each number of ``tokens`` (:func:`~synthmath.contamination.ngrams.normalize_tokens`) written
    right before a unit, as an amount in the unit kind's smallest unit, with the numbers that state it.
    Number words arrive as digits and a fraction as its two terms ("one third" and ``\\frac{1}{3}`` as
    ``1 3``): two numbers in a row, the first the smaller, are a fraction; a whole number before one
    ("3 1 2", "1 and a 1 2") adds to it; "a third" is one third. Also read: a rate ("0.7 miles per
    minute" is 42 miles per hour), an amount in two units ("27 dollars and 47 cents", "5 feet 3
    inches"), and a number right after "dollars" (``\\$27.47`` reads as "dollars 27.47")."""
    out: list[Quantity] = []
    last = (-1, 0)  # the position of the unit of the last amount read before its unit, and its size
    for k, token in enumerate(tokens):
        if token not in _UNIT:
            continue
        kind, _, size = _UNIT[token]
        at = k
        while at > 0 and at > k - 3 and tokens[at - 1] in _BETWEEN:
            at -= 1
        found = _amount_before(tokens, at)
        before = found is not None
        if found is None and kind == "money" and k + 1 < len(tokens) and _number(tokens[k + 1]):
            found = (tokens[k + 1],), _value(tokens[k + 1]) or Fraction(0)  # "$27.47"
        if found is None:
            continue
        run, amount = found
        amount *= size
        start = at - len(run)
        if k + 2 < len(tokens) and tokens[k + 1] in _PER and tokens[k + 2] in _UNIT:
            per_kind, _, per_size = _UNIT[tokens[k + 2]]
            kind, amount = f"{kind}/{per_kind}", amount / per_size
        elif before and out and out[-1][1] == kind and size < last[1] and _follows(tokens, start, last[0]):
            last_run, _, last_amount = out.pop()  # "27 dollars and 47 cents": one amount
            run, amount = (*last_run, *run), last_amount + amount
        if before:
            last = (k, size)
        out.append((run, kind, amount))
    return tuple(out)


def _follows(tokens: Sequence[str], start: int, unit: int) -> bool:
    """The amount that starts at ``tokens[start]`` comes right after the unit at ``unit`` ("and" aside)."""
    return start - 1 == unit or (start - 2 == unit and tokens[start - 1] == "and")


def _number(token: str) -> bool:
    return token[0].isdigit() and _value(token) is not None


def _amount_before(tokens: Sequence[str], end: int) -> tuple[tuple[str, ...], Fraction] | None:
    """The amount whose last word is ``tokens[end - 1]``, and the numbers that state it."""
    numbers: list[str] = []
    at = end
    while at > 0 and len(numbers) < 3 and (tokens[at - 1][0].isdigit() or tokens[at - 1] == "frac"):
        at -= 1
        if tokens[at] != "frac":
            numbers.insert(0, tokens[at])
    values = [_value(n) for n in numbers]
    if not values:
        if at == 0 or tokens[at - 1] not in _PARTS:
            return None
        at -= 1
        values = [Fraction(1), Fraction(_PARTS[tokens[at]])]
    if any(v is None for v in values):
        return None
    if len(values) == 1:
        return tuple(numbers), values[0]  # type: ignore[return-value]
    *whole, top, bottom = values
    assert top is not None and bottom is not None
    if whole == [1] and top == 1:  # "one half" arrives as "1 1 2"
        whole, numbers = [], numbers[1:]
    if not 0 < top < bottom or (whole and whole[0] != int(whole[0] or 0)):
        return None  # "1, 2, 3 hours" is no fraction
    amount = top / bottom + (whole[0] or 0 if whole else 0)
    # "one and a half": the whole number before "and a"
    if not whole and at >= 3 and tokens[at - 2 : at] == ["and", "a"]:
        w = _value(tokens[at - 3]) if tokens[at - 3][0].isdigit() else None
        if w is not None and w == int(w):
            return (tokens[at - 3], *numbers), amount + w
    return tuple(numbers), amount


def restated(
    numbers: Counter[str], mine: Sequence[Quantity], theirs: Sequence[Quantity], item_numbers: Counter[str]
) -> tuple[Counter[str], dict[str, str]]:
    """The text's ``numbers`` with each quantity it states as one of the item's, with other numbers
    (the same amount of the same kind: "a quarter of an hour" / "15 minutes", "120 minutes" / "2
    hours"), counted as the item's number, while the text has that number fewer times than the item
    (``item_numbers``: "half a year" is the "six months" a text has already said); and the numbers so
    replaced that were written alone, each with the item's (for the LaTeX: ``$120$`` minutes is ``2``
    hours). The same Counter when none is."""
    out: Counter[str] | None = None
    renamed: dict[str, str] = {}
    todo = list(mine)
    while todo:  # again while one is restated: its numbers may have been what held another back
        held = []
        for run, kind, amount in todo:
            same = next((r for r, k, a in theirs if k == kind and a == amount and len(r) == 1), None)
            if same is None or same == run:
                continue
            if out is None:
                out = Counter(numbers)
            if any(out[n] <= 0 for n in run) or out[same[0]] >= item_numbers[same[0]]:
                held.append((run, kind, amount))
                continue
            out.subtract(run)  # ("a third" states no number)
            out[same[0]] += 1
            if len(run) == 1:
                renamed[run[0]] = same[0]
        todo = held if len(held) < len(todo) else []
    if out is None:
        return numbers, renamed
    return +out, renamed


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
