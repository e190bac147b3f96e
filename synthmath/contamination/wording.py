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
from collections.abc import Sequence
from difflib import SequenceMatcher

__all__ = ["MATH_WORDS", "wording_changed"]

_NEAR_COPY = 0.85  # token-sequence similarity from which a text counts as the item's wording
_FEW_CHANGES = 6  # a sibling changes a few words; a rewording many

# one line per group of words that mean the same thing in a problem (plural "s" is stripped first)
_GROUPS = """
triangle | rectangle | square | circle | semicircle | quadrilateral | polygon
pentagon | hexagon | heptagon | octagon | nonagon | decagon | rhombus | trapezoid | parallelogram | kite
cube | sphere | cylinder | cone | pyramid | prism | tetrahedron | hemisphere | box
ellipse | parabola | hyperbola | line | segment | ray | chord | tangent | diagonal | arc | sector
radius | diameter | circumference | perimeter | area | volume | surface
height altitude | width | length | base | side edge | face | vertex corner | angle
integer | prime | composite | even | odd | positive | negative | rational | irrational | real | complex
digit | factor divisor | multiple | remainder | quotient | numerator | denominator
sum total | product | difference | ratio | mean average | median | mode | range
maximum largest greatest max biggest highest most | minimum smallest least min lowest fewest
root solution zero | coefficient | term | sequence | series | slope | intercept
sine sin | cosine cos | tangent tan | logarithm log | exponent power
probability | expected | permutation arrangement | combination | distinct different
consecutive | inclusive | exclusive | first | last | next | previous
greater more larger bigger higher above over exceed exceeds exceeding | less fewer smaller lower below under
identical same indistinguishable | increase increased | decrease decreased | parallel | perpendicular
inside inscribed interior | outside circumscribed exterior | horizontal | vertical
"""
MATH_WORDS: dict[str, int] = {
    word: k
    for k, line in enumerate(g for ln in _GROUPS.strip().splitlines() for g in ln.split("|"))
    for word in line.split()
}
"""Each mathematical word's group: two words of one group say the same thing."""

_NEGATIONS = frozenset(["not", "non", "no", "never", "neither", "nor", "without", "except", "cannot"])
_NON_WORD = re.compile(r"^non(?=[a-z0-9])")  # "nonzero", "nonnegative": a negation and a word


def wording_changed(text: Sequence[str], item: Sequence[str]) -> bool:
    """``text`` is ``item``'s wording (normalised tokens) with a few words changed, and one of them
    changed what the problem is about: a mathematical word replaced by one of another group
    ("rectangles" / "squares"), or a negation added or dropped ("shaded" / "non shaded"). That is a
    template sibling. A near-copy that adds or drops words, or replaces plain words ("find" /
    "determine", "property" / "condition"), or numbers (which :func:`compare` judges), keeps the
    problem, and so does one that changes many words: a rewording."""
    matcher = SequenceMatcher(None, list(item), list(text), autojunk=False)
    if matcher.real_quick_ratio() < _NEAR_COPY or matcher.ratio() < _NEAR_COPY:
        return False
    gone: list[str] = []
    came: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            gone += item[i1:i2]
            came += text[j1:j2]
    if not 0 < len(gone) + len(came) <= _FEW_CHANGES:
        return False
    if _negations(gone) != _negations(came):
        return True  # "shaded" / "non shaded", "represent" / "do not represent" ("nonzero" / "non 0": no)
    old, new = _groups(gone) - _groups(came), _groups(came) - _groups(gone)
    return bool(old) and bool(new)  # one mathematical word replaced by another that means something else


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
