from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from synthmath import answers_equivalent, extract_boxed, extract_gsm8k_answer
from synthmath.answers import normalize_answer

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
