"""Relations a rewording must not rearrange: the order of a walk's directions, the role a letter is
given, the form the answer is asked in.

The condition lexicon (``conditions.py``) asks whether each qualifier survives; these rules ask whether
what it is attached to survives, in three places where a word-level reading can tell it without
understanding the problem, because the original pins the relation down in a fixed pattern:

- **directions, in order**: "9 meters north, then east, then south" must not become "north, east,
  north, south". The sequence of compass directions (and of clockwise / counterclockwise turns) is
  compared as a sequence, a direction said twice in a row counting once.
- **the role of a letter**: "the height $h$ of cylinder $A$" names $h$ a height; a rewording that
  writes "the radius $h$" and never "height $h$" has given the letter another role.
- **the form of the answer**: "What percent of the area ..." asks for a percent, "as a polynomial"
  for the expanded form; a rewording that asks for a fraction instead, or "as a polynomial by
  factoring", asks for another answer. Only where the original asks for a form does another form
  count; a rewording that drops "Express your answer as a common fraction" asks for the same number.

Each rule was kept only where it flagged no faithful rewording among the labelled and unlabelled real
rewordings it was tried on (docs/verification.md). Reject reason ``changed_condition``, through
:func:`synthmath.steps.conditions.changed_condition`.
"""

from __future__ import annotations

import re

from ..mathtext import drop_diagrams

__all__ = ["changed_relation"]

Failure = tuple[str, str]

_DIRECTION = re.compile(
    r"\b((?:north|south)[- ]?(?:east|west)|north|south|east|west)(?:wards?)?\b"
    r"|\b((?:counter|anti)-?clockwise|clockwise)\b",
    re.I,
)
_ROLE_NOUNS = (
    "slant height|side length|edge length|height|radius|diameter|width|length|side|perimeter|area|volume"
    "|base|altitude|hypotenuse|leg|speed|rate|distance|price|cost|age|weight|depth|circumference"
    "|apothem|edge"
)
# "the height $h$", "a radius of $r$"
_ROLE = re.compile(rf"\b({_ROLE_NOUNS})\s+(?:of\s+)?\$\s*([a-zA-Z])\s*\$", re.I)
_FORM_WORDS = r"(?:(?:common|simplified|reduced|simple|proper|improper|irreducible|exact|single)\s+)?"
_NUMBER_FORM = re.compile(
    rf"\b(?:as|in|what|which|into)\s+(?:(?:a|an|the)\s+)?{_FORM_WORDS}"
    r"(percent(?:age)?|fraction|decimal|mixed number)\b",
    re.I,
)
_EXPANDED = re.compile(r"\bexpand(?:ed|ing)?\b|\bas a polynomial\b|\bmultiply out\b", re.I)
_FACTORED = re.compile(
    r"\bfactor(?:ed form|ing|i[sz]e|i[sz]ing|i[sz]ation)\b"
    r"|\bfactor(?= (?:the|it|this|completely|fully|each)\b| ?\$)",
    re.I,
)


def _directions(text: str) -> list[str]:
    said = []
    for m in _DIRECTION.finditer(text):
        word = re.sub(r"[- ]", "", (m.group(1) or m.group(2)).lower())
        said.append("counterclockwise" if word == "anticlockwise" else word)
    return [w for i, w in enumerate(said) if i == 0 or said[i - 1] != w]


def _roles(text: str) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for m in _ROLE.finditer(text):
        roles.setdefault(m.group(2), set()).add(m.group(1).lower())
    return roles


def _forms(text: str) -> set[str]:
    forms = {m.group(1).lower().replace("percentage", "percent") for m in _NUMBER_FORM.finditer(text)}
    if _EXPANDED.search(text):
        forms.add("expanded")
    if _FACTORED.search(text):
        forms.add("factored")
    return forms


_FORM_GROUPS = ({"percent", "fraction", "decimal", "mixed number"}, {"expanded", "factored"})


def changed_relation(original: str, rephrased: str) -> Failure | None:
    """``changed_condition`` when ``rephrased`` reorders the original's directions, gives one of its
    letters another role, or asks for the answer in another form (see the module's docstring)."""
    ours, theirs = drop_diagrams(original), drop_diagrams(rephrased)
    before, after = _directions(ours), _directions(theirs)
    if before and before != after:
        detail = f"the rewording changes the directions: {', '.join(before)} -> {', '.join(after) or 'none'}"
        return "changed_condition", detail
    roles = _roles(theirs)
    for letter, nouns in _roles(ours).items():
        if letter in roles and not roles[letter] & nouns:
            detail = (
                f"the rewording makes ${letter}$ the {'/'.join(sorted(roles[letter]))}, "
                f"the original the {'/'.join(sorted(nouns))}"
            )
            return "changed_condition", detail
    asked, asks = _forms(ours), _forms(theirs)
    for group in _FORM_GROUPS:
        wanted, new = asked & group, (asks - asked) & group
        if wanted and new:
            detail = f"the rewording asks for the answer as {'/'.join(sorted(new))}, the original as "
            return "changed_condition", detail + "/".join(sorted(wanted))
    return None
