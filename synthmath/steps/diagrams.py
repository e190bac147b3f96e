"""Diagram checks: a rewording keeps the diagrams its problem needs, and draws none of its own.

MATH problems carry their figures as Asymptote code (``[asy]...[/asy]``). A model asked to reword a
problem treats that code two ways, and both change what a reader is given:

- it **invents** a diagram the original never had (on the real rewordings of
  ``../shared/data/real``, about one rewording in ten): made-up coordinates, labels that restate the
  problem, sometimes the answer itself. Reject reason ``adds_diagram``. A diagram counts as the
  original's when its code, whitespace aside, is at least 90% alike (rapidfuzz) to one of the
  original's diagrams: models re-indent code they copy.
- it **drops** a diagram. That is fine when the diagram is decorative (a prism drawn beside "how many
  edges has a triangular prism?"), and changes the problem when the text needs it: the text points
  at it ("as shown", "in the diagram", "the figure below", "the graph", "this grid", "the following
  line": a problem with a drawing says "this" of what it draws), or the diagram shows
  something the text never says (the label ``128^\\circ`` on an angle the question asks about).
  Reject reason ``drops_diagram``.

Numbers inside drawing code are coordinates, not quantities of the problem: the number checks read a
diagram's labels only (:func:`synthmath.mathtext.diagram_labels`).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from ..mathtext import diagram_labels, diagrams, drop_diagrams

__all__ = ["adds_diagram", "drops_diagram", "refers_to_diagram"]

Failure = tuple[str, str]

SAME_DIAGRAM = 90.0  # rapidfuzz ratio of the whitespace-free code at which two diagrams are one
_REFERS = re.compile(
    r"\b(?:diagrams?|figures?|shown|pictured|depicted|illustrated|graphs?|graphed|picture|drawing|below"
    r"|to the (?:right|left)|this|these|the following)\b",
    re.I,
)
_LABEL_NOISE = re.compile(r"\$|\\[,;:! ]|\\(?:text|mathrm|textbf|mbox)\b|[{}\s]")


def _code(diagram: str) -> str:
    return "".join(diagram.split())


def refers_to_diagram(problem: str) -> bool:
    """Whether the text of ``problem`` (its diagrams left out) points at a figure."""
    return bool(_REFERS.search(drop_diagrams(problem)))


def adds_diagram(original: str, rephrased: str) -> Failure | None:
    """``adds_diagram`` when ``rephrased`` has a diagram that is none of ``original``'s."""
    theirs = [_code(d) for d in diagrams(original)]
    for n, d in enumerate(diagrams(rephrased), 1):
        code = _code(d)
        if not any(fuzz.ratio(code, o) >= SAME_DIAGRAM for o in theirs):
            what = "a diagram" if not theirs else "a diagram other than the original's"
            return "adds_diagram", f"draws {what} (diagram {n}: {' '.join(d.split())[:80]})"
    return None


def _unsaid_labels(original: str) -> list[str]:
    """The labels of the original's diagrams that its text never writes."""
    text = _LABEL_NOISE.sub("", drop_diagrams(original)).lower()
    out = []
    for label in diagram_labels(original):
        bare = _LABEL_NOISE.sub("", label).lower()
        if bare and bare not in text and bare not in out:
            out.append(bare)
    return out


def drops_diagram(original: str, rephrased: str) -> Failure | None:
    """``drops_diagram`` when ``rephrased`` lacks a diagram of ``original`` that the problem needs:
    the original's text points at it, or it shows a label the text never writes."""
    theirs = diagrams(original)
    if not theirs or len(diagrams(rephrased)) >= len(theirs):
        return None
    if refers_to_diagram(original):
        return "drops_diagram", "drops the diagram the original's text refers to"
    unsaid = _unsaid_labels(original)
    if unsaid:
        return (
            "drops_diagram",
            f"drops a diagram that shows what the text does not say: {', '.join(unsaid[:5])}",
        )
    return None
