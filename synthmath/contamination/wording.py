"""Near-copies of a benchmark item's wording: which changed a word of substance (a template sibling)
and which only changed plain words (a rewording). Works on normalised tokens
(:func:`~synthmath.contamination.ngrams.normalize_tokens`)."""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from .mathsig import _ASK_WORDS

__all__ = ["wording_changed"]

_NEAR_COPY = 0.85  # token-sequence similarity from which a text counts as the item's wording
_FEW_CHANGES = 6  # a sibling changes a few words; a rewording many
_PLAIN_WORDS = """a an the of to and in on at for is are was were be been it its this that these those with
as by from or how many much what which who if each per he she they his her their them has have had do does
did will would can could then than there so but all some into after when find compute determine evaluate
calculate give write express solve simplify state let suppose given assume such satisfy satisfies
satisfying value values number numbers possible real answer your form following shown below above figure
diagram equal equals denote denotes defined define where also both any we you i our my whose expression"""
_PLAIN = frozenset(_PLAIN_WORDS.split())
_NEGATIONS = frozenset(["not", "non", "no", "never", "neither", "nor", "without", "except", "cannot"])


def wording_changed(text: Sequence[str], item: Sequence[str]) -> bool:
    """``text`` is ``item``'s wording (normalised tokens) with a few words changed: a word of substance
    replaced by another ("rectangles" / "squares"), or a negation added or dropped ("shaded" / "non
    shaded"). That is a template sibling. A near-copy that only adds or drops words ("simplify the
    expression"), changes plain words ("find" / "compute"), synonyms of one ask ("largest" /
    "greatest") or numbers (which :func:`compare` judges) keeps the problem, and so does one that
    changes many words: a rewording."""
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

    def substance(words: list[str]) -> set[str]:
        return {w.removesuffix("s") for w in words if not w[0].isdigit() and w not in _PLAIN and len(w) > 1}

    if _NEGATIONS.intersection(gone) or _NEGATIONS.intersection(came):
        return True  # "shaded" / "non shaded", "represent" / "do not represent"
    old, new = substance(gone) - substance(came), substance(came) - substance(gone)
    if not old or not new:
        return False  # words added ("the expression") or dropped: a rewording's way
    groups = {_ASK_WORDS[w] for w in old | new if w in _ASK_WORDS}
    return any(w not in _ASK_WORDS for w in old | new) or len(groups) > 1
