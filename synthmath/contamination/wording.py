"""Near-copies of a benchmark item's wording: which changed what the problem is about (a template
sibling) and which only changed how it is said (a rewording). Works on normalised tokens
(:func:`~synthmath.contamination.ngrams.normalize_tokens`).

A template sibling keeps the item's words and swaps one *mathematical* word for another that means
something else ("rectangles" / "squares", "sum" / "product", "even" / "odd"), or adds or drops a
negation ("shaded" / "not shaded"). A rewording swaps plain words, even rare ones, for words that say
the same ("property" / "condition", "crosses" / "intersects", "enter" / "list", "altitude" /
"height"): real LLM rewordings of MATH problems change three to six such words and keep the rest. So
the words that count are a lexicon of the objects, kinds of number, operations and quantities that
competition problems are about, in groups of words that mean one thing (:data:`MATH_WORDS`); a word
outside it never makes a sibling.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher

__all__ = ["MATH_WORDS", "near_copy", "wording_changed"]

_NEAR_COPY = 0.85  # token-sequence similarity from which a text counts as the item's wording
_FEW_CHANGES = 6  # a sibling changes a few words; a rewording many
_NAME = 4  # letters of a point's or an angle's name
# how a letter is typeset, which the tokens keep as a word: ``\\mathbf{B}\\mathbf{A}`` is the letters b, a
_STYLES = frozenset(
    ["mathbf", "mathrm", "mathit", "mathcal", "boldsymbol", "bm", "vec", "hat", "bar", "overline"]
)
# words of how a problem is put, which a rewording swaps freely: what to do, how to answer, how a
# condition is introduced (a swap among them never makes a sibling)
_PLAIN = frozenset([
    "find", "determine", "compute", "calculate", "evaluate", "express", "write", "give", "enter", "state",
    "solve", "simplify", "expand", "show", "what", "which", "how", "if", "given", "let", "with", "suppose",
    "assume", "when", "where", "such", "that", "value", "result", "answer", "number", "quantity",
    "expression", "times", "cdot", "multiplied",
])  # fmt: skip
_COUNTS = frozenset({"0", "1", "2"})  # numbers a rewording states or drops: "the two dice", "nonzero"

# one line per group of words that mean the same thing in a problem (plural "s" is stripped first)
_GROUPS = """
triangle | rectangle | square | circle | semicircle | quadrilateral | polygon
pentagon | hexagon | heptagon | octagon | nonagon | decagon | dodecagon | icosagon | rhombus | trapezoid
parallelogram | kite
cube | sphere | cylinder | cone | pyramid | prism | tetrahedron | hemisphere | box
ellipse | parabola | hyperbola | line | segment | ray | chord | tangent | diagonal | arc | sector
radius | diameter | circumference | perimeter | area | volume | surface
height altitude | width | length | base | side edge | face | vertex corner | angle
digit | factor divisor | multiple | remainder | quotient | numerator | denominator
sum total plus | product times | difference minus | ratio | mean average | median | mode | range
maximum largest greatest max biggest highest most | minimum smallest least min lowest fewest
root solution zero | coefficient | term | sequence | series | slope | intercept
sine sin | cosine cos | tangent tan | logarithm log | exponent power
probability | expected | permutation arrangement | combination | distinct different
first | last | next | previous | second | third | fourth | fifth | sixth | seventh | eighth | ninth | tenth
and | or
greater more larger bigger higher above over exceed exceeds exceeding | less fewer smaller lower below under
identical same indistinguishable | increase increased | decrease decreased | parallel | perpendicular
horizontal | vertical
center centre | focus foci | asymptote | directrix | axis axes
projection project projecting projected | reflection reflect reflecting reflected | rotation rotate rotating
"""
# the groups of conditions: a near-copy that adds or drops one of these changes the problem too ("the
# least positive integer" / "the least integer"); objects and operations a rewording may name where
# the original left them implied ("the measure of the angle", "the two distinct solutions")
_CONDITIONS = """
integer | prime | composite | even | odd | positive | negative | rational | irrational | real | complex
consecutive | inclusive | exclusive | exactly precisely | clockwise | counterclockwise anticlockwise
inside inscribed interior internal | outside circumscribed exterior external
"""


def _lexicon(groups: str, first: int = 0) -> dict[str, int]:
    lines = [g for ln in groups.strip().splitlines() for g in ln.split("|")]
    return {word: k for k, line in enumerate(lines, first) for word in line.split()}


MATH_WORDS: dict[str, int] = _lexicon(_GROUPS)
_CONDITION_WORDS = _lexicon(_CONDITIONS, len(set(MATH_WORDS.values())))
MATH_WORDS |= _CONDITION_WORDS
"""Each mathematical word's group: two words of one group say the same thing."""
_CONDITION_GROUPS = frozenset(_CONDITION_WORDS.values())

_NEGATIONS = frozenset(["not", "non", "no", "never", "neither", "nor", "without", "except", "cannot"])
_NON_WORD = re.compile(r"^non(?=[a-z0-9])")  # "nonzero", "nonnegative": a negation and a word


def wording_changed(text: Sequence[str], item: Sequence[str], numbers: bool = True) -> bool:
    """``text`` is ``item``'s wording (normalised tokens) with a few words changed, and one of the
    changes changed what the problem is about. That is a template sibling:

    - a negation added or dropped ("shaded" / "non shaded");
    - a mathematical word replaced by one of another group ("rectangles" / "squares"), or added or
      dropped ("the least positive integer" / "the least integer", "exactly once" / "at least once");
    - numbers or letters exchanged in place ("three letters and four digits" / "four letters and three
      digits", ``f(g(2))`` / ``g(f(2))``, angle ``BAE`` / ``ABE``).

    A near-copy that replaces plain words ("find" / "determine", "property" / "condition"), or numbers
    (which :func:`compare` judges), keeps the problem, and so does one that changes many words: a
    rewording. Without ``numbers``, numbers are not compared (the text states a quantity of the item's
    in other units: its numbers differ, and :func:`compare` has judged them)."""
    item, text = list(item), list(text)
    if numbers and _numbers_exchanged(text, item):
        return True
    matcher = _aligned(item, text)
    if matcher is None:
        return False
    gone: list[str] = []
    came: list[str] = []
    letters: tuple[list[str], list[str]] = ([], [])
    renamed = False
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        was, now = item[i1:i2], text[j1:j2]
        gone += was
        came += now
        named = [t for t in was if t not in _STYLES], [t for t in now if t not in _STYLES]
        if all(len(t) == 1 and t.isalpha() for t in named[0] + named[1]):  # letters alone changed
            letters[0].extend(named[0])
            letters[1].extend(named[1])
        renamed = renamed or (len(was) == len(now) == 1 and _anagram(was[0], now[0]))
    if not 0 < len(gone) + len(came) <= _FEW_CHANGES:
        return False
    # a number more or fewer: a near-copy keeps every number it keeps the words of ("the side lengths 2,
    # 3, 5, 7 and 11" / "2, 3, 5 and 7", ``x^3-4x`` / ``x^3-x``); 0, 1 and 2 aside, which a rewording
    # states or leaves implied ("the two numbers" / "the numbers", "a quadratic equation", "non-zero")
    if numbers and _numbers(gone) != _numbers(came):
        return True
    # letters moved or changed in place, none of them new (``p(q(4))`` / ``q(p(4))``)
    was, now = letters
    exchanged = bool(was and now) and set(was) <= set(text) and set(now) <= set(item)
    if _negations(gone) != _negations(came) or _undone(gone, came) or exchanged or renamed:
        return True
    if _one_word_swapped(gone, came):
        return True
    old, new = _groups(gone) - _groups(came), _groups(came) - _groups(gone)
    # a mathematical word replaced by another that means something else, or a condition added or dropped
    return (bool(old) and bool(new)) or bool((old | new) & _CONDITION_GROUPS)


def _one_word_swapped(gone: list[str], came: list[str]) -> bool:
    """The only change is one word for another, and not a word of how a problem is put ("find" /
    "determine", "if" / "given"): the rest kept word for word, that one word says what the problem is
    about ("the son" / "the father", "white" / "black", "incircle" / "circumcircle"). Real rewordings
    change several words, or only such plain ones."""
    if len(gone) != 1 or len(came) != 1:
        return False
    was, now = gone[0], came[0]
    if not (was.isalpha() and now.isalpha()) or min(len(was), len(now)) < 2:
        return False
    if was in _PLAIN or now in _PLAIN or was.rstrip("s") == now.rstrip("s"):
        return False
    return _groups([was]) == _groups([now]) == set()  # words of the lexicon: the groups decide


def near_copy(text: Sequence[str], item: Sequence[str]) -> bool:
    """``text`` is ``item``'s wording with a few words changed (normalised tokens)."""
    matcher = _aligned(list(item), list(text))
    if matcher is None:
        return False
    changed = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal")
    return changed <= _FEW_CHANGES


def _numbers_exchanged(text: list[str], item: list[str]) -> bool:
    """The item's numbers, no other, trade places among its words: with every number read as a slot,
    the two wordings align, and an aligned slot holds another number ("7 ligs = 4 lags" / "4 ligs = 7
    lags", ``(3,5)`` / ``(5,3)``, ``x^2+x-6`` / ``x^6+x-2``). A clause moved whole takes its numbers
    with it ("4 lags = 7 ligs"): no aligned slot changes."""
    numbers = {t for t in text if t[0].isdigit()}
    if len(numbers) < 2 or numbers != {t for t in item if t[0].isdigit()}:
        return False
    slots = _aligned(_slots(item), _slots(text))
    if slots is None:
        return False
    return any(
        item[i + k] != text[j + k]
        for i, j, size in slots.get_matching_blocks()
        for k in range(size)
        if item[i + k][0].isdigit()
    )


def _aligned(old: list[str], new: list[str]) -> SequenceMatcher[str] | None:
    """The two token sequences aligned, when one is the other with a few words changed (a similarity
    of ``_NEAR_COPY`` at least); else None."""
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.real_quick_ratio() < _NEAR_COPY or matcher.ratio() < _NEAR_COPY:
        return None
    return matcher


def _numbers(tokens: Sequence[str]) -> Counter[str]:
    return Counter(t for t in tokens if t[0].isdigit() and t not in _COUNTS)


def _slots(tokens: list[str]) -> list[str]:
    return ["#" if t[0].isdigit() else t for t in tokens]


def _anagram(old: str, new: str) -> bool:
    """The letters of one short name in another order: angle ``bae`` / ``abe``."""
    return old != new and len(old) <= _NAME and old.isalpha() and sorted(old) == sorted(new)


def _undone(gone: Sequence[str], came: Sequence[str]) -> bool:
    """A word swapped for itself with "un" ("shaded" / "unshaded", "unfair" / "fair"): a negation."""
    was, now = set(gone), set(came)
    return any(w.startswith("un") and w[2:] in now for w in was) or any(
        w.startswith("un") and w[2:] in was for w in now
    )


def _negations(words: Sequence[str]) -> int:
    return sum(w in _NEGATIONS or _NON_WORD.match(w) is not None for w in words)


def _groups(words: Sequence[str]) -> set[int]:
    out = set()
    for w in words:
        w = _NON_WORD.sub("", w)
        group = MATH_WORDS.get(w, MATH_WORDS.get(w.removesuffix("s")))
        if group is None and w.endswith("es"):
            group = MATH_WORDS.get(w[:-2])
        if group is not None:
            out.add(group)
    return out
