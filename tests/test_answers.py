from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthmath import answers_equivalent, extract_boxed, extract_gsm8k_answer
from synthmath.answers import VerificationTimeout, gold_answer, normalize_answer
from synthmath.steps.verify import check_answer

from .conftest import DATA, need_data, read_jsonl


def test_extract_boxed_nested_and_last() -> None:
    assert extract_boxed(r"so $x=\boxed{\frac{1}{2}}$.") == r"\frac{1}{2}"
    assert extract_boxed(r"\boxed{1} then \boxed{2}") == "2"
    assert extract_boxed(r"\fbox{ 7 }") == "7"
    assert extract_boxed(r"\boxed{\{1,2\}}") == r"\{1,2\}"
    assert extract_boxed(r"answer: \boxed 5.") == "5"
    assert extract_boxed(r"\boxed{\text{(A)}}") == r"\text{(A)}"


def test_extract_boxed_missing_or_truncated() -> None:
    assert extract_boxed("no box here") is None
    assert extract_boxed(r"\boxed{1} and then \boxed{\frac{1}{2") is None  # truncated last box
    assert extract_boxed(r"\boxedfoo{1}") is None


@given(st.text())
def test_extract_boxed_never_crashes(text: str) -> None:
    result = extract_boxed(text)
    assert result is None or isinstance(result, str)


@given(st.text(alphabet=st.characters(blacklist_characters="{}\\"), min_size=1))
def test_extract_boxed_round_trips_plain_content(content: str) -> None:
    assert extract_boxed("Thus \\boxed{" + content + "}") == content.strip()


def test_gsm8k_answer() -> None:
    assert extract_gsm8k_answer("48/2 = 24\n#### 1,072") == "1072"
    assert extract_gsm8k_answer("no marker") is None


def test_equivalence_examples() -> None:
    assert answers_equivalent(r"\dfrac{1}{2}", "0.5")
    assert answers_equivalent(r"2\sqrt{2}", r"\sqrt{8}")
    assert answers_equivalent("(1, 2)", "(1,2)")
    assert answers_equivalent(r"10\%", "10")
    assert not answers_equivalent("5", "6")
    assert not answers_equivalent(r"\frac{1}{2}+1", r"\frac{1}{2}")
    assert normalize_answer(r"\left( 3, \, 4 \right)") == "(3,4)"


def test_every_math_train_solution_has_a_boxed_answer() -> None:
    need_data()
    rows = read_jsonl(DATA / "math" / "MATH_train.jsonl")
    assert len(rows) == 7500
    missing = [r["id"] for r in rows if extract_boxed(r["solution"]) is None]
    assert missing == []


def test_math500_boxed_answers_match_the_published_answers() -> None:
    """MATH-500 publishes each final answer: extraction plus equivalence must agree with all of them."""
    need_data()
    rows = read_jsonl(DATA / "math" / "math500_test.jsonl")
    disagree = [
        r["unique_id"]
        for r in rows
        if not answers_equivalent(extract_boxed(r["solution"]) or "", r["answer"])
    ]
    assert disagree == []


def test_different_math_answers_are_not_equivalent() -> None:
    """Pairing each gold answer with another problem's: equal only where the values really are equal."""
    need_data()
    rows = read_jsonl(DATA / "math" / "MATH_train.jsonl")
    golds = [extract_boxed(r["solution"]) or "" for r in random.Random(1).sample(rows, 400)]
    pairs = list(zip(golds, golds[1:] + golds[:1], strict=False))
    false_equal = [
        (a, b) for a, b in pairs if answers_equivalent(a, b) and normalize_answer(a) != normalize_answer(b)
    ]
    assert len(false_equal) <= 4, false_equal  # e.g. '072' and '72' are the same number
    assert all(answers_equivalent(a, a) for a in golds)


def test_gsm8k_train_answers_are_numbers() -> None:
    need_data()
    rows = read_jsonl(DATA / "gsm8k" / "train.jsonl")
    answers = [extract_gsm8k_answer(r["answer"]) for r in rows]
    assert all(a is not None for a in answers)
    assert sum(a.lstrip("-").replace(".", "", 1).isdigit() for a in answers if a) >= 0.99 * len(rows)


# --- strict equivalence ------------------------------------------------------------------------------


def _adversarial() -> Any:
    """benchmarks/verify_adversarial.py, the generator of wrong answers and equal forms."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "verify_adversarial.py"
    spec = importlib.util.spec_from_file_location("verify_adversarial", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("candidate", "gold"),
    [
        (r"\left( \frac{2}{5}, \frac{1}{2} \right)+1", r"\left( \frac{2}{5}, \frac{1}{2} \right)"),
        (r"\frac \pi4 + 2 - \sqrt2+1", r"\frac \pi4 + 2 - \sqrt2"),
        (r"-(\frac{1}{2004!})", r"\frac{1}{2004!}"),
        (r"2^{100}+1", r"2^{100}"),
        ("(2, 1)", "(1, 2)"),
        (r"[1, 2)", r"(1, 2)"),
        (r"\begin{pmatrix} 2 \\ 1 \end{pmatrix}", r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"),
        (r"\text{(B)}", r"\text{(A)}"),
        ("A, C", "A, B"),
        ("0.3", r"\frac{1}{3}"),  # a decimal candidate for an exact gold needs 3 significant digits
        ("3.61", "3.6"),  # two decimals: exactly
        (r"5\text{ m}", r"5\text{ cm}"),
        ("y = 3", "x = 3"),
        (r"\{1, 2\}", r"\{1, 2, 3\}"),
        ("x^2 + 2x", "x^2 + 2x + 1"),
        (r"3\sqrt{2}", r"2\sqrt{3}"),
        (r"10^{10^{10}}", "10"),
        (r"2 \frac{1}{2}+1", r"2\frac{1}{2}"),
        ("3:1", "3"),  # a ratio is not its quotient
        ("10_9", "10"),  # a numeral in base 9
        (r"|-3|", "-3"),
    ],
)
def test_different_answers_are_rejected(candidate: str, gold: str) -> None:
    assert not answers_equivalent(candidate, gold)


@pytest.mark.parametrize(
    ("candidate", "gold"),
    [
        (r"\dfrac{3}{4}", r"\frac{3}{4}"),
        (r"\tfrac34", r"\frac{3}{4}"),
        ("0.5", r"\frac12"),
        ("x = 3", "3"),
        ("3.", "3"),
        (r"12\text{ cm}", "12"),
        (r"45^\circ", "45"),
        (r"\left( 1, -2 \right)", "(1,-2)"),
        (r"1,\!000", "1000"),
        ("1,000", "1000"),
        (r"\frac{\sqrt{3}}{2}", r"\frac{1}{2}\sqrt3"),
        ("2, 1", "1, 2"),  # an unbracketed list is the set of solutions
        (r"\{3, 1\}", r"\{1,3\}"),
        ("(x+1)^2", "x^2+2x+1"),
        ("3.14", r"\pi"),  # a decimal gold: the exact value rounds to it
        (r"\sqrt{13}", "3.6"),
        ("0.333", r"\frac13"),
        (r"1\frac{2}{3}", r"\frac{5}{3}"),
        (r"\text{(C)}", "C"),
        ("4i + 3", "3 + 4i"),
        (r"\sin \frac{\pi}{6}", r"\frac{1}{2}"),
        (r"(-\infty, 3]", r"\left(-\infty,3\right]"),
        ("1011_{2}", "1011_2"),
        ("−3π", r"-3\pi"),
    ],
)
def test_equal_forms_are_accepted(candidate: str, gold: str) -> None:
    assert answers_equivalent(candidate, gold)


def test_adversarial_subset_from_math_train() -> None:
    """A slice of the benchmark's adversarial set: no wrong answer accepted, equal forms accepted."""
    need_data()
    adv = _adversarial()
    golds = adv.math_train_golds()[::40]
    wrong, same = adv.cases(golds)
    assert len(wrong) >= 300 and {k for k, _, _ in wrong} >= {"plus_one", "negation", "swap"}
    false_accepts = [(c, g) for _, c, g in wrong if answers_equivalent(c, g, timeout=5)]
    assert false_accepts == []
    rejected = [(k, c, g) for k, c, g in same if not answers_equivalent(c, g, timeout=5)]
    assert len(rejected) <= 0.01 * len(same), rejected


_int = st.integers(min_value=-(10**6), max_value=10**6)


@settings(max_examples=60, deadline=None)
@given(_int, _int)
def test_integers_equal_only_when_equal(a: int, b: int) -> None:
    assert answers_equivalent(str(a), str(b)) == (a == b)
    assert answers_equivalent(f"x = {a}", str(a)) and answers_equivalent(f"{a:,}", str(a))
    assert not answers_equivalent(f"{a}+1", str(a))
    if a != b:
        assert not answers_equivalent(f"({a}, {b})", f"({b}, {a})")


@settings(max_examples=60, deadline=None)
@given(st.integers(-500, 500), st.integers(1, 500), st.integers(2, 9))
def test_fractions_compare_exactly(p: int, q: int, k: int) -> None:
    sign = "-" if p < 0 else ""
    gold = f"{sign}\\frac{{{abs(p)}}}{{{q}}}"
    assert answers_equivalent(f"{sign}\\dfrac{{{abs(p) * k}}}{{{q * k}}}", gold)
    assert not answers_equivalent(gold + "+1", gold)
    assert answers_equivalent(f"-({gold})", gold) == (p == 0)
    tiny = Fraction(p, q) + Fraction(1, 10**12)
    assert not answers_equivalent(f"\\frac{{{tiny.numerator}}}{{{tiny.denominator}}}", gold)


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False))
def test_decimals_match_to_their_own_precision(d: Decimal) -> None:
    text = f"{d:.3f}"
    exact = Fraction(d)
    assert answers_equivalent(text, f"\\frac{{{exact.numerator}}}{{{exact.denominator}}}")
    nudged = exact + Fraction(1, 10**3)
    assert not answers_equivalent(text, f"\\frac{{{nudged.numerator}}}{{{nudged.denominator}}}")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40), st.text(max_size=40))
def test_equivalence_never_crashes(a: str, b: str) -> None:
    assert isinstance(answers_equivalent(a, b, timeout=2), bool)
    assert answers_equivalent(a, a, timeout=2)  # the same text is the same answer, parsed or not


def test_a_pathological_answer_times_out() -> None:
    huge = "+".join(["x"] * 200_000)
    start = time.perf_counter()
    with pytest.raises(VerificationTimeout):
        answers_equivalent(huge, "y", timeout=0.2)
    assert time.perf_counter() - start < 2
    assert answers_equivalent("2", "2", timeout=0.2)  # the alarm is gone: later checks run normally


def _check_in_worker(candidate: str) -> tuple[str | None, tuple[str, str] | None]:
    return check_answer(f"so $\\boxed{{{candidate}}}$", "stop", "y", original=None, timeout=0.2)


def test_the_timeout_works_in_a_worker_process() -> None:
    """The checks run in a process pool: there the worker's main thread takes the alarm."""
    with ProcessPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(_check_in_worker, "+".join(["x"] * 200_000))
        fine = pool.submit(_check_in_worker, "y")
        assert slow.result(timeout=20)[1] is not None and slow.result()[1][0] == "verify_timeout"  # type: ignore[index]
        assert fine.result(timeout=20) == ("y", None)


# --- gold answers ----------------------------------------------------------------------------------------


def test_gold_answer_rule() -> None:
    assert gold_answer(r"so $\boxed{5}$.").answer == "5"
    same = gold_answer(r"the length is $\boxed{10\sqrt 2}$, that is $\boxed{10\sqrt{2}}$.")
    assert same.answer == r"10\sqrt{2}" and same.reason is None and len(same.boxes) == 2
    two = gold_answer(r"the roots are $\boxed{-2}$ and $\boxed{1}$.")
    assert two.answer is None and two.reason == "ambiguous_gold" and "'-2'" in two.detail
    assert gold_answer("no box").reason == "no_answer"
    assert gold_answer(r"there are $\boxed{}$ primes").reason == "no_answer"


def test_plain_numbers_in_boxes_are_compared_without_sympy() -> None:
    """Boxes that hold plain numbers, or tuples of them, are compared exactly, in a process that never
    loads sympy (the seeds are read in a build's main process); the same rule as the full comparison."""
    code = (
        "import sys\n"
        "from synthmath.answers import gold_answer\n"
        "same = gold_answer(r'$\\boxed{\\dfrac{1}{6}}$ or $\\boxed{1/6}$, or $\\boxed{\\frac{1}{6}}$')\n"
        "two = gold_answer(r'$\\boxed{(-2, 18)}$ and $\\boxed{(8,38)}$')\n"
        "assert same.answer == r'\\frac{1}{6}' and two.reason == 'ambiguous_gold', (same, two)\n"
        "assert 'sympy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
    assert gold_answer(r"$\boxed{2x+1}$ or $\boxed{1+2x}$").reason is None  # not plain: the full comparison


def test_ambiguous_golds_in_math_are_rare() -> None:
    """About 0.3% of MATH solutions box different answers (alternatives, several roots, steps)."""
    need_data()
    for split, total in (("train", 7500), ("test", 5000)):
        rows = read_jsonl(DATA / "math" / f"MATH_{split}.jsonl")
        ambiguous = [r["id"] for r in rows if gold_answer(r["solution"]).reason == "ambiguous_gold"]
        assert 5 <= len(ambiguous) <= 0.005 * total, (split, ambiguous)
