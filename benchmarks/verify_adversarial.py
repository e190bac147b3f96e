"""Can answer checking be fooled? False accepts on wrong answers, acceptance of equal forms, speed.

    python benchmarks/verify_adversarial.py                 # every MATH train gold
    python benchmarks/verify_adversarial.py --limit 500     # a quick look
    python benchmarks/verify_adversarial.py --show 20       # print failures

Wrong answers are made from MATH **train** gold answers by perturbations that always change the
answer: ``+1`` appended, negation (of the answer, of one element of a tuple, set or list, or of the
right-hand side of an equation; never of a zero), the first two different elements of an ordered
tuple swapped, and another multiple-choice letter. Equal forms rewrite the gold without changing it:
``\\dfrac``/``\\tfrac``, ``\\frac12`` shorthand, a terminating decimal for a fraction (and back),
``x = ``, a trailing full stop, a ``\\text{ cm}`` unit, ``^\\circ``, ``\\left( \\right)``, spacing
(``\\!``, ``\\,``, spaces), thousands separators, and reversed element order of sets and lists.

Prints the false-accept count (target 0), the share of equal forms accepted (target 99%), and checks
per second on one core.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from synthmath.answers import answers_equivalent, gold_answer, normalize_answer  # noqa: E402

Case = tuple[str, str, str]  # (kind, candidate, gold)

_LETTER = re.compile(r"^(\\text\{)?\(?([A-H])\)?(\})?$")
_SIMPLE_FRAC = re.compile(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}")
_INT = re.compile(r"-?\d+")
_DEC = re.compile(r"-?\d+\.\d+")


def math_train_golds(limit: int | None = None) -> list[str]:
    """The unambiguous gold answers of MATH train, in file order."""
    golds = []
    with open(DATA / "math" / "MATH_train.jsonl", encoding="utf-8") as f:
        for line in f:
            gold = gold_answer(json.loads(line)["solution"]).answer
            if gold:
                golds.append(gold)
            if limit is not None and len(golds) >= limit:
                break
    return golds


def _split_top(s: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0 and not (s[i - 1 : i].isdigit() and s[i + 1 : i + 4].isdigit()):
            parts.append(s[start:i])
            start = i + 1
    parts.append(s[start:])
    return parts


def _is_zero(s: str) -> bool:
    return bool(re.fullmatch(r"[-+]?0*\.?0*", normalize_answer(s)))


def _tuple_parts(g: str) -> tuple[str, list[str], str] | None:
    """(opening, elements, closing) of a bracketed tuple or interval, else None."""
    s = g.strip()
    for left, right in (("\\left(", "\\right)"), ("\\left[", "\\right]"), ("\\left(", "\\right]")):
        if s.startswith(left) and s.endswith(right):
            return left, _split_top(s[len(left) : -len(right)]), right
    if s[:1] in "([" and s[-1:] in ")]":
        inner = s[1:-1]
        if inner.count("(") + inner.count("[") == inner.count(")") + inner.count("]"):
            parts = _split_top(inner)
            if len(parts) > 1:
                return s[0], parts, s[-1]
    return None


def perturbed(g: str) -> Iterator[tuple[str, str]]:
    """Wrong answers made from the gold ``g``: (kind, candidate)."""
    m = _LETTER.match(g.strip())
    if m:
        letter = m.group(2)
        other = chr(ord("A") + (ord(letter) - ord("A") + 1) % 5)
        yield "letter", g.replace(letter, other, 1)
        return
    letters = re.fullmatch(r"(\\text\{)?\s*([A-H](?:\s*,\s*[A-H])*)\s*\}?", g.strip())
    if letters:
        present = set(re.findall(r"[A-H]", letters.group(2)))
        other = next(c for c in "ABCDEFGH" if c not in present)
        yield "letter", re.sub(r"[A-H]", other, g, count=1)
        return
    if not re.search(r"\\infty\s*\}?\s*$", g):
        yield "plus_one", g + "+1"
    tup = _tuple_parts(g)
    parts = tup[1] if tup else _split_top(g) if "\\begin" not in g else [g]
    if "=" in g and len(parts) == 1:
        lhs, _, rhs = g.partition("=")
        if not _is_zero(rhs):
            yield "negation", f"{lhs}= -({rhs.strip()})"
    elif len(parts) > 1:
        for i, p in enumerate(parts):
            if not _is_zero(p) and "\\infty" not in p:
                negated = [*parts[:i], f"-({p.strip()})", *parts[i + 1 :]]
                body = ",".join(negated)
                yield "negation", f"{tup[0]}{body}{tup[2]}" if tup else body
                break
    elif not _is_zero(g):
        yield "negation", f"-({g})"
    if tup:
        opening, elems, closing = tup
        for i in range(len(elems) - 1):
            a, b = elems[i], elems[i + 1]
            if not answers_equivalent(a, b):
                swapped = [*elems[:i], b, a, *elems[i + 2 :]]
                yield "swap", opening + ",".join(swapped) + closing
                break


def _decimal(fr: Fraction) -> str | None:
    """``fr`` as a terminating decimal, or None."""
    den = fr.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return None
    places = 0
    while (fr * 10**places).denominator != 1:
        places += 1
    return f"{float(fr):.{places}f}" if places else str(fr.numerator)


def equal_forms(g: str) -> Iterator[tuple[str, str]]:
    """The gold ``g`` written another way: (kind, candidate)."""
    s = g.strip()
    bare = re.sub(r"\\\w+", "", s)
    numeric = bool(re.fullmatch(r"[-\d.\\{}fracsqt]+", s)) and not re.search(r"[a-zA-Z]", bare)
    if "\\frac" in s:
        yield "dfrac", s.replace("\\frac", "\\dfrac")
        yield "tfrac", s.replace("\\frac", "\\tfrac")
        short = re.sub(r"\\frac\{(\d)\}\{(\d)\}", r"\\frac\1\2", s)
        if short != s:
            yield "frac_shorthand", short
    m = _SIMPLE_FRAC.fullmatch(s)
    if m and int(m.group(3)) != 0:
        dec = _decimal(Fraction(int(m.group(2)), int(m.group(3))))
        if dec:
            yield "decimal", m.group(1) + dec
    if _DEC.fullmatch(s):
        fr = Fraction(s)
        yield "fraction", f"{'-' if fr < 0 else ''}\\frac{{{abs(fr.numerator)}}}{{{fr.denominator}}}"
    if "=" not in s and "," not in s and "\\text" not in s:
        yield "assignment", "x = " + s
    yield "trailing_period", s + "."
    if numeric:
        yield "unit", s + "\\text{ cm}"
        yield "degree", s + "^\\circ"
    if re.search(r"\S\s*\\text\{\s*[a-z][a-z ]*\}(\^\d)?\s*$", s):
        yield "unit_dropped", re.sub(r"\\text\{\s*[a-z][a-z ]*\}(\^\d)?\s*$", "", s)
    if "^\\circ" in s or "^{\\circ}" in s:
        yield "degree_dropped", s.replace("^\\circ", "").replace("^{\\circ}", "")
    tup = _tuple_parts(s)
    if tup and not tup[0].startswith("\\left"):
        yield "left_right", f"\\left{tup[0]} " + ", ".join(tup[1]) + f" \\right{tup[2]}"
    if "\\left" in s:
        yield "left_right_dropped", s.replace("\\left", "").replace("\\right", "")
    is_list = "," in normalize_answer(s)  # "1,\\!000" is a number: spacing its comma makes a list
    spaced = re.sub(r"(?<!\\)([,=+])" if is_list else r"(?<!\\)([=+])", r" \1 ", s)
    yield "spaces", spaced.replace("\\frac", "\\frac ").replace("\\sqrt", "\\sqrt ")
    if is_list:
        yield "thin_spaces", s.replace(",", ",\\,")
    if _INT.fullmatch(s) and abs(int(s)) >= 1000:
        grouped = f"{int(s):,}"
        yield "thousands", grouped
        yield "thousands_bang", grouped.replace(",", ",\\!")
    if re.fullmatch(r"\d{1,3}(,\\!\d{3})+", s):
        yield "thousands_plain", s.replace(",\\!", "")
    if s.startswith("\\{") and s.endswith("\\}"):
        yield "set_reversed", "\\{" + ",".join(reversed(_split_top(s[2:-2]))) + "\\}"
    elif not tup and len(_split_top(s)) > 1 and "\\begin" not in s and "," in normalize_answer(s):
        yield "list_reversed", ", ".join(p.strip() for p in reversed(_split_top(s)))


def cases(golds: list[str]) -> tuple[list[Case], list[Case]]:
    """(wrong answers, equal forms) as (kind, candidate, gold) triples."""
    wrong = [(k, c, g) for g in golds for k, c in perturbed(g)]
    same = [(k, c, g) for g in golds for k, c in equal_forms(g)]
    return wrong, same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="use the first N golds only")
    ap.add_argument("--show", type=int, default=10, help="print up to N failures of each kind")
    ap.add_argument("--timeout", type=float, default=5.0, help="per-check timeout in seconds")
    args = ap.parse_args()

    golds = math_train_golds(args.limit)
    wrong, same = cases(golds)
    start = time.perf_counter()
    false_accepts = [c for c in wrong if answers_equivalent(c[1], c[2], timeout=args.timeout)]
    rejected = [c for c in same if not answers_equivalent(c[1], c[2], timeout=args.timeout)]
    elapsed = time.perf_counter() - start
    checks = len(wrong) + len(same)

    print(f"golds: {len(golds)} (MATH train, unambiguous)")
    kinds = Counter(k for k, _, _ in wrong)
    print(f"wrong answers: {len(wrong)} ({', '.join(f'{k} {n}' for k, n in kinds.most_common())})")
    print(f"false accepts: {len(false_accepts)}")
    for k, c, g in false_accepts[: args.show]:
        print(f"  FALSE ACCEPT [{k}] {c!r} for gold {g!r}")
    rate = 1 - len(rejected) / len(same) if same else 1.0
    print(f"equal forms: {len(same)}, accepted {100 * rate:.2f}%")
    by_kind = Counter(k for k, _, _ in rejected)
    if by_kind:
        print(f"  not accepted by kind: {dict(by_kind.most_common())}")
    for k, c, g in rejected[: args.show]:
        print(f"  NOT ACCEPTED [{k}] {c!r} for gold {g!r}")
    print(f"checks/s (one core, fresh caches): {checks / elapsed:.0f} ({checks} checks in {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
