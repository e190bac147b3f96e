"""The changed-condition check: the conditions and qualifiers of a problem must survive the rewording.

A rewording can keep every number and formula of a problem and still ask another one: "triangles
with perimeter 7 and integer side lengths" without "integer side lengths", "$c$ is not divisible by
the square of any prime" as "$c$ is not a square of any prime", "the product of all values of $r$"
as "the total of all values of $r$", "maximize the probability" as "increase the likelihood". The
answer step sees the original solution and copies its final answer, so the answer check passes; the
number and formula checks see nothing missing. Reject reason ``changed_condition``.

The check reads words, not meaning, so it asks only what a lexicon can answer without costing
faithful rewordings: does each mathematically significant qualifier or relation that the original
states still appear in the rewording, in any of the words real models use for it? Each
:data:`CONDITIONS` entry has

- a *trigger*: the words that state the condition in the original ("relatively prime", "distinct",
  "divisible by", "the product of", "greatest"), after phrases that only look like it are removed
  (:data:`_NOT_CONDITIONS`: "greatest common divisor" is a name, "lowest terms" a form, "at least" a
  bound, "the product of the roots" in Vieta's sense is still a product);
- an *accept* set: every way a faithful rewording says it, measured on real rewordings ("coprime",
  "share no common factor" for "relatively prime"; "different", "unique" for "distinct"; "digit",
  "odd", "multiple of" keep a number an integer; ``$x>0$`` is "positive").

A condition the original states and the rewording says in none of its accepted ways is lost. Only
losses count: a rewording that adds a word ("positive integers" for "positive numbers") narrows at
worst, and models add words freely. Where a qualifier stands (its scope: "integer side lengths"
becoming "an integer perimeter") is not read; neither are changes that need no lexicon word (a
variable given another role, outside the few patterns of ``relations.py``). ``--check-questions solve``
is the check for those.

Which conditions are in the lexicon, and what each accepts, was decided on the tuning labels and on
unlabelled real rewordings (docs/verification.md); a condition whose faithful paraphrases could not be
told from its losses (negation, "how many", the bounds of a range said in words) is left out.
"""

from __future__ import annotations

import re

from ..mathtext import drop_diagrams
from .relations import changed_relation

__all__ = ["CONDITIONS", "changed_condition", "conditions_in"]

Failure = tuple[str, str]

# name -> (trigger in the original, accepted in the rewording), each a tuple of alternatives; both are
# matched on lower-case text with diagrams dropped, \text{} unwrapped and whitespace collapsed
# fmt: off
CONDITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "integer": (
        (r"\bintegers?\b", r"\bintegral\b", r"\bwhole numbers?\b"),
        (r"\bintegers?\b", r"\bintegral\b", r"\bwhole numbers?\b", r"\bnatural numbers?\b",
         r"\bcounting numbers?\b", r"\bdigits?\b", r"\bodd\b", r"\beven\b", r"\bmultiples?\b",
         r"\bdivisible\b", r"\bdivisors?\b", r"\bfactors?\b", r"\bprimes?\b", r"\bremainders?\b",
         r"\bmod(?:ulo)?\b", r"\\pmod\b", r"\\equiv\b", r"\\mathbb\s*\{?z"),
    ),
    "positive": (
        (r"\bpositive\b",),
        (r"\bpositive\b", r"\bgreater than (?:zero|0)\b", r">\s*0(?![\d.])", r"\bnatural numbers?\b",
         r"\bcounting numbers?\b", r"\bnon-?zero\b", r"\b\w+-digit\b"),
    ),
    "nonnegative": (
        (r"\bnon-?negative\b",),
        (r"\bnon-?negative\b", r"\bnot negative\b", r"\\geq?\s*0(?![\d.])", r"\bat least (?:zero|0)\b"),
    ),
    "nonzero": (
        (r"\bnon-?zero\b",),
        (r"\bnon-?zero\b", r"\bnot (?:equal to )?(?:zero|0)\b", r"\\neq?\s*0(?![\d.])", r"\bpositive\b",
         r"\bother than (?:zero|0)\b"),
    ),
    "negative": (
        (r"(?<!non-)(?<!non)\bnegative\b",),
        (r"\bnegative\b", r"<\s*0(?![\d.])", r"\bless than (?:zero|0)\b"),
    ),
    "distinct": (
        (r"\bdistinct\b",),
        (r"\bdistinct\b", r"\bdifferent\b", r"\bdiffer(?:s|ing)?\b", r"\bunique\b", r"\bseparate\b",
         r"\bpairwise\b", r"\bno two\b", r"\bnot (?:the )?same\b", r"\bno (?:repeated|repetition)",
         r"\bwithout repet", r"\bdistinguishable\b", r"\\neq?(?![a-z])"),
    ),
    "consecutive": (
        (r"\bconsecutive(?:ly)?\b",),
        (r"\bconsecutive(?:ly)?\b", r"\bsuccessive(?:ly)?\b", r"\bin a row\b", r"\badjacent\b",
         r"\bneighbou?r", r"\bsubsequent\b", r"\bsequential(?:ly)?\b", r"\bone after (?:an)?other\b",
         r"\bin succession\b", r"\btogether\b", r"\bnext to each other\b", r"\bback[- ]to[- ]back\b",
         r"\bin sequence\b"),
    ),
    "prime": (
        (r"(?<!relatively )\bprimes?\b",),
        (r"\bprimes?\b",),
    ),
    "coprime": (
        (r"\brelatively prime\b", r"\bco-?prime\b"),
        (r"\brelatively prime\b", r"\bco-?prime\b", r"\bno common (?:\w+ )?(?:factors?|divisors?)\b",
         r"\bno (?:factors?|divisors?) in common\b", r"\bshare no\b",
         r"\b(?:lowest|simplest) (?:terms|form)\b", r"\bgcd\b",
         r"\bgreatest common divisor (?:of \S+ and \S+ )?(?:is|equals?|being) (?:1|one)\b",
         r"\bfully (?:simplified|reduced)\b"),
    ),
    "odd": (
        (r"\bodd\b",),
        (r"\bodd\b", r"\bnot divisible by 2\b", r"\bnot (?:a multiple of 2|even)\b",
         r"\beven\b.{0,120}\botherwise\b"),  # "an even roll wins; otherwise, nothing"
    ),
    "even": (
        (r"\beven\b(?! (?:if|though|when|more|less|further|after|before|so|then|with|in|at|on|the|a)\b)",),
        (r"\beven\b", r"\bdivisible by 2\b", r"\bmultiples? of 2\b", r"\bodd\b.{0,120}\botherwise\b"),
    ),
    "real": (
        (r"\breal\b",),
        (r"\breal\b", r"\\mathbb\s*\{?r\b", r"\\in\s*\\mathbb"),
    ),
    "rational": (
        (r"(?<!ir)\brational\b",),
        (r"(?<!ir)\brational\b", r"\\mathbb\s*\{?q\b", r"\bfractions?\b"),
    ),
    "divisible": (
        (r"\bdivisible\b", r"\bdivisors?\b", r"\bmultiples? of\b", r"\bfactors? of\b",
         r"\bas (?:a )?factors?\b"),
        (r"\bdivisib", r"\bdivides?\b", r"\bdivisors?\b", r"\bmultiples?\b", r"\bfactors?\b",
         r"\bfactori[sz]ation\b", r"\bdivided evenly\b", r"\bevenly divid",
         r"\bremainder (?:of )?(?:0|zero)\b", r"\bno remainder\b", r"\bsquare-?free\b", r"\\mid\b",
         r"\\equiv\s*0\b"),
    ),
    "inclusive": (
        (r"\binclusive(?:ly)?\b",),
        (r"\binclusive(?:ly)?\b", r"\binclud(?:e|es|ed|ing)\b", r"\bboth ends\b", r"\bthrough\b",
         r"\\leq?(?![a-z])", r"≤", r"\bfrom \S+ (?:up |down )?to\b"),
    ),
    "maximum": (
        (r"\bmaxim(?:um|al|ize|ise|ized|ised|izes|izing|a)\b", r"\blargest\b", r"\bgreatest\b",
         r"\bbiggest\b", r"\bhighest\b"),
        (r"\bmaxim\w*", r"\blargest\b", r"\bgreatest\b", r"\bbiggest\b", r"\bhighest\b", r"\bmost\b",
         r"\bupper bound\b", r"\bas (?:large|great|big|high) as possible\b", r"\\max\b", r"\bpeak\b",
         r"\btop\b"),
    ),
    "minimum": (
        (r"\bminim(?:um|al|ize|ise|ized|ised|izes|izing|a)\b", r"\bsmallest\b", r"\bleast\b",
         r"\blowest\b", r"\bfewest\b"),
        (r"\bminim\w*", r"\bsmallest\b", r"\bleast\b", r"\blowest\b", r"\bfewest\b", r"\blower bound\b",
         r"\bas (?:small|few|low|little) as possible\b", r"\\min\b", r"\bfirst\b", r"\bearliest\b",
         r"\bwhen (?:will|does|is|do)\b"),
    ),
    "product": (
        (r"\bproducts?\b",),
        (r"\bproducts?\b", r"\bmultipl\w*", r"\btimes\b", r"\\cdot\b", r"\\times\b"),
    ),
    "sum": (
        (r"\bsums?\b",),
        (r"\bsums?\b", r"\bsumm\w*", r"\btotal\w*", r"\badd\w*", r"\bplus\b", r"\bcombined\b",
         r"\baltogether\b", r"\+"),
    ),
    "quotient": (
        (r"\bquotients?\b",),
        (r"\bquotients?\b", r"\bdivid\w*", r"\bratio\b", r"\\div\b", r"/", r"\\frac\b", r"\bover\b"),
    ),
    "mean": (
        (r"\bmeans?\b(?! that| the| of the)", r"\baverages?\b"),
        (r"\bmeans?\b", r"\baverag\w*"),
    ),
    "median": (
        (r"\bmedians?\b",),
        (r"\bmedians?\b", r"\bmiddle\b"),
    ),
    "remainder": (
        (r"\bremainders?\b",),
        (r"\bremainders?\b", r"\bremain\w*", r"\bleft ?over\b", r"\bleft\b", r"\bmod(?:ulo)?\b",
         r"\\pmod\b", r"\\equiv\b", r"\bresidues?\b", r"\\bmod\b"),
    ),
    "area": (
        (r"\bareas?\b",),
        (r"\bareas?\b", r"\bsquare (?:units|feet|inches|meters|centimeters|cm|m|ft|in)\b", r"\bregion\b"),
    ),
    "perimeter": (
        (r"\bperimeters?\b",),
        (r"\bperimeters?\b", r"\b(?:sum|total) (?:of (?:the|its|all) )?(?:side )?lengths?\b",
         r"\blengths? of (?:all )?(?:the|its) sides\b", r"\bboundary\b", r"\baround\b"),
    ),
    "volume": (
        (r"\bvolumes?\b",),
        (r"\bvolumes?\b", r"\bcubic\b", r"\bcapacity\b", r"\bhold\b", r"\bcontain\b"),
    ),
    "radius": (
        (r"\bradius\b", r"\bradii\b"),
        (r"\bradius\b", r"\bradii\b"),
    ),
    "diameter": (
        (r"\bdiameters?\b",),
        (r"\bdiameters?\b", r"\bacross\b"),
    ),
    "units digit": (
        (r"\bunits? digit\b", r"\bones digit\b"),
        (r"\bunits? digits?\b", r"\bones digits?\b", r"\blast digit\b", r"\brightmost digit\b",
         r"\bunits? place\b", r"\bones place\b", r"\bmod(?:ulo)? 10\b"),
    ),
    "probability": (
        (r"\bprobabilit(?:y|ies)\b",),
        (r"\bprobabilit(?:y|ies)\b", r"\blikel(?:ihood|y)\b", r"\bchances?\b", r"\bodds\b",
         r"\bprobable\b"),
    ),
}
# fmt: on
# phrases that contain a trigger word but state no condition: names, answer forms, orderings
_NOT_CONDITIONS = re.compile(
    "|".join(
        (
            r"\b(?:greatest|highest|largest|biggest) common (?:divisor|factor|denominator)s?\b",
            r"\bleast common (?:multiple|denominator)s?\b",
            r"\b(?:greatest|largest) integer (?:that is )?(?:less|not greater|smaller) than\b",
            r"\bleast integer (?:that is )?(?:greater|not less) than\b",
            r"\b(?:lowest|simplest) (?:terms|form)\b",
            r"\b(?:from )?(?:the )?(?:greatest|largest|highest) to (?:the )?(?:least|smallest|lowest)\b",
            r"\b(?:from )?(?:the )?(?:least|smallest|lowest) to (?:the )?(?:greatest|largest|highest)\b",
            r"\bat least\b",
            r"\bat most\b",
            r"\bprime factori[sz]ation\b",
            r"\bfactor(?:ed|ing)?\b(?= (?:\$|the (?:expression|polynomial)|completely))",
            r"\breal (?:and|or) (?:otherwise|complex|nonreal|non-real|imaginary)\b",
            r"\b(?:products?|sums?|quotients?) (?=\$|\\\[)",
            r"\bpositive difference\b",
            r"\bpositive (?:square|cube|nth)? ?root\b",
            r"\bsum of (?:its|the) digits\b",
        )
    ),
    re.I,
)
_BOUNDS = re.compile(r"\bat (?:least|most)\b")  # bounds, not "least"/"most" as extremes
_TEXT = re.compile(r"\\(?:text|mbox|textbf|textit|mathrm)\s*\{([^{}]*)\}")
_COMPILED = {
    name: (re.compile("|".join(t), re.I), re.compile("|".join(a), re.I))
    for name, (t, a) in CONDITIONS.items()
}


def _prepare(text: str) -> str:
    s = _TEXT.sub(r" \1 ", drop_diagrams(text))
    return " ".join(s.split()).lower()


def conditions_in(text: str) -> dict[str, str]:
    """The conditions ``text`` states (name -> the words that state the first one)."""
    s = _NOT_CONDITIONS.sub(" ", _prepare(text))
    found = {}
    for name, (trigger, _) in _COMPILED.items():
        m = trigger.search(s)
        if m is not None:
            found[name] = m.group(0)
    return found


def changed_condition(original: str, rephrased: str) -> Failure | None:
    """``changed_condition`` when ``rephrased`` says none of the accepted words for a condition that
    ``original`` states (see the module's docstring), or rearranges a relation the original pins down
    (:func:`synthmath.steps.relations.changed_relation`: directions, a letter's role, the answer's
    form)."""
    stated = conditions_in(original)
    theirs = _BOUNDS.sub(" ", _prepare(rephrased))
    lost = [f"{name} ({words!r})" for name, words in stated.items() if not _COMPILED[name][1].search(theirs)]
    if lost:
        return "changed_condition", f"the rewording drops the original's condition(s): {', '.join(lost[:4])}"
    return changed_relation(original, rephrased)
