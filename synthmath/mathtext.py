"""Math-aware text normalisation shared by the checks: numbers, number words, diagrams, math spans.

One place decides how ``1,000``, ``2.50``, ``twelve`` and ``three hundred twenty-five`` read as numbers,
so that the question checks and the contamination n-grams agree on what a number is. The question
checks read LaTeX as LaTeX (``\\frac34`` is 3 and 4, not 34; ``998,\\!001`` is 998001; the ``2mm`` of
``\\hspace{2mm}`` is no number of the problem) and an ``[asy]`` block as a diagram: its drawing code
holds coordinates, not quantities of the problem, and only the text of its labels counts
(:func:`diagram_labels`).
"""

from __future__ import annotations

import re

__all__ = [
    "NUMBER_WORDS",
    "diagram_labels",
    "diagrams",
    "drop_diagrams",
    "latex_for_numbers",
    "mask_math",
    "normalize_number",
    "numbers_in",
    "spell_numbers",
    "word_tokens",
]

# diagram code (shared boilerplate, not wording); models sometimes write [asy] as an environment
_ASY = re.compile(r"\[asy\](.*?)(?:\[/asy\]|$)|\\begin\{asy\}(.*?)(?:\\end\{asy\}|$)", re.DOTALL)
# the text a diagram shows: label("$30^\circ$", ...), MP("\sqrt{17}", ...)
# label("$x$", ...), also after a picture or a transform: label(pic, "A", ...), label(scale(0.75)*"8", ...)
_LABEL = re.compile(r'\b(?:label|MP|Label)\s*\((?:[^"();]|\([^()"]*\))*?"((?:[^"\\]|\\.)*)"')
# LaTeX that holds digits but no number of the problem: lengths, table column specs, spacing
_LAYOUT = re.compile(
    r"\\(?:hspace|vspace|hskip|vskip|kern|rule|setlength|arraystretch)\*?\s*(?:\{[^{}]*\}\s*){0,2}"
    r"|\\\\\[[^\]]*\]"  # \\[2pt]
    r"|(?<=\\begin\{tabular\})\{[^{}]*\}|(?<=\\begin\{array\})\{[^{}]*\}"
    r"|\\(?:[!,;:> ]|quad|qquad)(?![a-zA-Z])"
)
# \frac34, \frac 12, \dfrac n{72}: a fraction whose arguments are single characters, braced
_FRAC = re.compile(r"\\[dt]?frac(?![a-zA-Z])\s*(\{[^{}]*\}|[0-9a-zA-Z])\s*(\{[^{}]*\}|[0-9a-zA-Z])")
_SQRT = re.compile(r"\\sqrt(?![a-zA-Z])\s*([0-9a-zA-Z])")
_MATH = re.compile(
    r"\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)"
    r"|\\begin\{(align|equation|gather|eqnarray|multline)(\*?)\}.*?\\end\{\1\2\}",
    re.DOTALL,
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?|\.\d+")

_SMALL = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
_SMALL += " sixteen seventeen eighteen nineteen"
_UNITS = {w: i for i, w in enumerate(_SMALL.split())}
_DIGIT_WORDS = frozenset(_SMALL.split()[:10])  # the digits of a decimal said in words
_TENS = {w: 10 * i for i, w in enumerate(["twenty", "thirty", "forty", "fifty"], 2)}
_TENS |= {w: 10 * i for i, w in enumerate(["sixty", "seventy", "eighty", "ninety"], 6)}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
# words that stand for numbers; fractions give the digits "1/2" would have
_ALIASES: dict[str, list[str]] = {"dozen": ["12"], "twice": ["2"], "double": ["2"], "thrice": ["3"]}
_ALIASES |= {"triple": ["3"], "half": ["1", "2"], "quarter": ["1", "4"], "percent": []}
# multiplicative words: "the dimensions are tripled" is "multiplied by 3"
_ALIASES |= {w: ["2"] for w in ("doubled", "doubles", "doubling", "halve", "halved", "halves", "halving")}
_ALIASES |= {"halve": ["1", "2"], "halved": ["1", "2"], "halving": ["1", "2"]}
_ALIASES |= {w: ["3"] for w in ("tripled", "triples", "tripling", "treble", "trebled", "threefold")}
_ALIASES |= {w: ["4"] for w in ("quadruple", "quadrupled", "quadruples", "fourfold")}
_ALIASES |= {"twofold": ["2"], "quintuple": ["5"], "quintupled": ["5"], "fivefold": ["5"], "tenfold": ["10"]}
NUMBER_WORDS = frozenset([*_UNITS, *_TENS, *_SCALES, *_ALIASES])
# words that only hint at a number: enough to say a rephrasing still mentions it, not for matching text
_HINTS = {"once": "1", "first": "1", "second": "2", "halves": "2", "third": "3", "thirds": "3"}
_HINTS |= {"quarters": "4", "fourth": "4", "fifth": "5", "sixth": "6", "seventh": "7", "eighth": "8"}
_HINTS |= {"ninth": "9", "tenth": "10", "pair": "2", "square": "2", "squared": "2", "cube": "3"}
_HINTS |= {"cubed": "3", "right": "90", "perpendicular": "90"}
_HINTS |= {w: "1" for w in ("a", "an", "each", "every", "both", "single", "any", "unit")}
_HINTS |= {w: "0" for w in ("positive", "negative", "nonnegative", "nonzero", "nonpositive", "origin")}
_HINTS |= {"decimal": "10", "binary": "2", "hexadecimal": "16", "octal": "8"}
_HINTS |= {"twins": "2", "triplets": "3", "quadruplets": "4", "quintuplets": "5"}


def drop_diagrams(text: str) -> str:
    """``text`` without its Asymptote diagram code (``[asy]...[/asy]``)."""
    return _ASY.sub(" ", text) if "asy" in text else text


def diagrams(text: str) -> list[str]:
    """The code of each Asymptote diagram (``[asy]...[/asy]``) of ``text``, in order."""
    return [m.group(1) or m.group(2) or "" for m in _ASY.finditer(text)] if "asy" in text else []


def diagram_labels(text: str) -> list[str]:
    """The text the diagrams of ``text`` print (``label("$30^\\circ$", B)`` -> ``$30^\\circ$``): what a
    reader sees of a diagram besides its lines, unlike its coordinates."""
    return [m.group(1) for code in diagrams(text) for m in _LABEL.finditer(code)]


def _braced(arg: str) -> str:
    return arg if arg.startswith("{") else "{" + arg + "}"


def latex_for_numbers(text: str) -> str:
    """``text`` with the LaTeX that hides or fakes numbers rewritten: ``\\frac34`` -> ``\\frac{3}{4}``,
    ``\\sqrt2`` -> ``\\sqrt{2}``, ``998,\\!001`` -> ``998,001``, ``1{,}000`` -> ``1,000``, and layout
    (``\\hspace{2mm}``, ``\\\\[4pt]``, table column specs) dropped."""
    if "\\" not in text and "{,}" not in text:
        return text
    s = _LAYOUT.sub("", text.replace("{,}", ","))
    s = _FRAC.sub(lambda m: "\\frac" + _braced(m.group(1)) + _braced(m.group(2)), s)
    return _SQRT.sub(lambda m: "\\sqrt{" + m.group(1) + "}", s)


def mask_math(text: str, mask: str = " § ") -> str:
    """``text`` with each math span (``$...$``, ``$$...$$``, ``\\[...\\]``, ``\\(...\\)``, ``align``
    and similar environments) as ``mask``."""
    return _MATH.sub(mask, text)


def normalize_number(tok: str) -> str:
    """A number token without leading or trailing fractional zeros (``007`` -> ``7``, ``2.50`` -> ``2.5``)."""
    whole, _, fraction = tok.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def _raw_tokens(text: str) -> list[str]:
    s = _THOUSANDS.sub("", text).lower()
    return [normalize_number(t) if t[0] in "0123456789." else t for t in _TOKEN.findall(s)]


def word_tokens(text: str) -> list[str]:
    """The lower-case words and normalised numbers of ``text``, number words spelled as digits."""
    return spell_numbers(_raw_tokens(text))


def spell_numbers(tokens: list[str]) -> list[str]:
    """Number words as digits: "three hundred twenty five" -> "325", "a dozen" -> "12", "half" -> "1 2".

    "two three" stays two numbers; "hundreds" stays a word. Tokens are lower case.
    """
    where = [i for i, t in enumerate(tokens) if t in NUMBER_WORDS]
    return spell_number_words(tokens, where, _ALIASES) if where else tokens


def spell_number_words(
    tokens: list[str],
    where: list[int],
    aliases: dict[str, list[str]],
    ordinals: dict[str, str] | None = None,
    roots: dict[str, list[str]] | None = None,
) -> list[str]:
    """The one number-word speller (the question checks and the contamination n-grams both use it):
    the number words at the positions ``where`` as digits. ``aliases`` are words that stand for
    numbers; ``ordinals`` ("third" -> "3") count only in a fraction, before "power"/"root" or
    after "N to the" ("five to the fifth"); ``roots`` turn "square root" into what the normalised
    LaTeX says."""
    out = tokens[: where[0]]
    i = where[0]
    while i < len(tokens):
        t = tokens[i]
        if t in aliases:
            out.extend(aliases[t])
            i += 1
            continue
        if ordinals is not None and t in ordinals:
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            fraction = bool(out) and out[-1][0].isdigit()
            out.append(ordinals[t] if fraction or after in _BEFORE_ORDINAL or _raised(out) else t)
            i += 1
            continue
        if roots is not None and t in ("root", "roots"):
            out.extend(roots[out.pop()] if out and out[-1] in roots else [t])
            i += 1
            continue
        if t not in _UNITS and t not in _TENS and not (t in _SCALES and out and out[-1] == "a"):
            out.append(t)
            i += 1
            continue
        if t in _SCALES:
            out.pop()  # "a hundred"
        total = current = 0
        last = ""  # kind of the previous number word: unit, ten or scale
        while i < len(tokens):
            t = tokens[i]
            kind = "unit" if t in _UNITS else "ten" if t in _TENS else "scale" if t in _SCALES else ""
            if not kind or (last == "unit" and kind != "scale") or (last == "ten" and kind == "ten"):
                break  # "fifty thousand" is one number, "twenty thirty" two
            if kind == "unit":
                current += _UNITS[t]
            elif kind == "ten":
                current += _TENS[t]
            elif _SCALES[t] == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * _SCALES[t]
                current = 0
            last = kind
            i += 1
        i, decimals = _decimals(tokens, i)  # "ten point three" is 10.3
        out.append(normalize_number(f"{total + current}.{decimals}"))
    return out


def _decimals(tokens: list[str], i: int) -> tuple[int, str]:
    """The digits a number says after "point" from ``tokens[i]`` on, one word each ("point three two":
    "32"), and where they end; ``(i, "")`` when no "point" and digit follow."""
    if i + 1 >= len(tokens) or tokens[i] != "point" or tokens[i + 1] not in _DIGIT_WORDS:
        return i, ""
    end = i + 1
    while end < len(tokens) and tokens[end] in _DIGIT_WORDS:
        end += 1
    return end, "".join(str(_UNITS[t]) for t in tokens[i + 1 : end])


_BEFORE_ORDINAL = ("power", "root", "roots")


def _raised(out: list[str]) -> bool:
    """The words so far end in a power's "N to the" (or "N to the minus"): "five to the fifth"."""
    tail = out[-4:] if out[-1:] in (["minus"], ["negative"]) else out[-3:]
    return len(tail) >= 3 and tail[0][0].isdigit() and tail[1:3] == ["to", "the"]


def numbers_in(text: str, *, words: bool = True, hints: bool = False) -> set[str]:
    """The numbers ``text`` mentions, normalised: written in digits, and in words unless ``words`` is off.

    LaTeX is read as LaTeX (:func:`latex_for_numbers`); of a diagram only its labels count, never its
    drawing code.

    With ``hints``, words that only suggest a number count too (``third`` -> 3, ``squared`` -> 2): use it
    to ask whether a number is still mentioned, not to match texts.
    """
    text = latex_for_numbers(drop_diagrams(text) + " ".join(["", *diagram_labels(text)]))
    tokens = spell_numbers(_raw_tokens(text)) if words else _raw_tokens(text)
    found = {t for t in tokens if t[0].isdigit()}
    if hints:
        found |= {_HINTS[t] for t in tokens if t in _HINTS}
    return found
