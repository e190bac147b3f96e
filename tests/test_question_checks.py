"""The question checks on LaTeX, number words and diagrams, and a replay of real model rewordings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthmath.answers import answers_equivalent, extract_boxed
from synthmath.steps import check_question
from synthmath.steps.conditions import changed_condition
from synthmath.steps.diagrams import adds_diagram, drops_diagram
from synthmath.steps.expressions import changed_math
from synthmath.steps.verify import added_numbers, missing_numbers
from synthmath.testing import FakeOpenAIServer, Reply

from .conftest import DATA, build_one_rewording, invoke, need_data, read_jsonl

# --- numbers in LaTeX ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "rephrased"),
    [
        (r"What is $\frac34$ of 12?", r"Find $\frac{3}{4}$ of 12."),
        (r"Compute $\frac 12 + \frac56$.", r"Work out $\dfrac{1}{2} + \tfrac{5}{6}$."),
        (r"Simplify $\sqrt2 \cdot \sqrt8$.", r"Write $\sqrt{2} \cdot \sqrt{8}$ in simplest form."),
        (r"Note that $999^2 = 998,\!001$.", r"Observe that $999^2 = 998001$."),
        (r"A town has $1{,}000$ people.", r"There are 1,000 people in a town."),
        (r"Write $10^{-3}$ as a decimal.", r"Express $10^{-3}$ in decimal form."),
        (r"A $5\%$ tax on $\$3$.", r"A tax of 5 percent on 3 dollars."),
        (r"Solve $\frac n{72} = \frac 56$.", r"Find $n$ with $\frac{n}{72} = \frac{5}{6}$."),
    ],
)
def test_latex_numbers_read_as_latex(original: str, rephrased: str) -> None:
    assert missing_numbers(original, rephrased) == []
    assert added_numbers(original, rephrased) == []
    assert check_question(original, rephrased, "stop", []) is None


def test_fractions_glued_to_frac_are_two_numbers_not_one() -> None:
    # \frac34 is 3 and 4: a rewording that writes 34 adds a number, one that drops the 4 loses one
    assert added_numbers(r"What is $\frac34$ of 12?", "What is 34 of 12?") == ["34"]
    assert missing_numbers(r"What is $\frac34$ of 12?", r"What is $\frac{3}{5}$ of 12?") == ["4"]


def test_layout_lengths_are_no_numbers() -> None:
    table = r"\begin{tabular}{|c|c|} 1 & $2 \hspace{2mm} 3$ \\[4pt] \end{tabular}"
    assert missing_numbers(table, table.replace("2mm", "1.5mm").replace("[4pt]", "")) == []


@pytest.mark.parametrize(
    ("original", "rephrased"),
    [
        ("The dimensions of a triangle are tripled.", "Each dimension of a triangle is multiplied by 3."),
        ("Ann is twice as old as Bo.", "Ann's age is 2 times Bo's."),
        ("The price doubled.", "The price was multiplied by 2."),
        ("Half of the class left.", "1/2 of the class left."),
        ("A quarter of the pie is eaten.", "1/4 of the pie is eaten."),
        ("He ran thrice around the track.", "He ran around the track 3 times."),
        ("The amount was halved.", "The amount was divided by 2."),
    ],
)
def test_multiplicative_number_words(original: str, rephrased: str) -> None:
    assert added_numbers(original, rephrased) == []
    assert missing_numbers(rephrased, original) == []  # and the other way round


# --- diagrams --------------------------------------------------------------------------------------------

HEXAGON = '[asy]\ndraw((0,0)--(1,0)--(1.5,0.866)--(1,1.73205081)--cycle);\nlabel("$A$",(0,0),SW);\n[/asy]'
ANGLES = '[asy]\ndraw((0,0)--(4,0)--(2,3)--cycle);\nlabel("$128^\\circ$",(4,0));\nlabel("$P$",(0,0));\n[/asy]'


def test_diagram_coordinates_are_not_numbers_of_the_problem() -> None:
    original = f"Regular hexagon $ABCDEF$ has side 2. What is its area?\n\n{HEXAGON}"
    rephrased = "What is the area of the regular hexagon $ABCDEF$ whose sides are 2 long?"
    assert missing_numbers(original, rephrased) == []
    assert check_question(original, rephrased, "stop", []) is None  # a decorative diagram may go


def test_an_invented_diagram_is_adds_diagram() -> None:
    original = "What is the smallest prime greater than 20?"
    rephrased = original.replace("What is", "Find") + "\n\n" + HEXAGON
    failure = check_question(original, rephrased, "stop", [])
    assert failure is not None and failure[0] == "adds_diagram" and "draw" in failure[1]
    assert adds_diagram(original, "Find the smallest prime above 20.") is None


def test_a_copied_diagram_is_the_original_even_reindented() -> None:
    original = f"In the diagram, what is $\\angle P$?\n{ANGLES}"
    rephrased = "Find the measure of $\\angle P$ in the diagram.\n" + ANGLES.replace("\n", "\n    ")
    assert adds_diagram(original, rephrased) is None and drops_diagram(original, rephrased) is None
    assert check_question(original, rephrased, "stop", []) is None
    environment = rephrased.replace("[asy]", "\\begin{asy}").replace("[/asy]", "\\end{asy}")
    assert check_question(original, environment, "stop", []) is None


@pytest.mark.parametrize(
    "original",
    [
        f"In the diagram, what is $\\angle P$?\n{ANGLES}",  # the text points at it
        f"How many degrees are in angle $P$?\n{ANGLES}",  # it shows what the text does not say (128)
    ],
)
def test_dropping_a_needed_diagram_is_drops_diagram(original: str) -> None:
    failure = check_question(original, "Determine the measure of angle $P$ in degrees.", "stop", [])
    assert failure is not None and failure[0] == "drops_diagram"


# --- formulas --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "rephrased"),
    [
        (r"Find $1+2\cdot3-4+5$.", r"Add $1+2\cdot3$ and $2+4\cdot5$, then subtract the result."),
        (
            r"Find $325_{8}-237_{8}$. Express your answer in base $8$.",
            r"Subtract $325_8$ from $237_8$ in base $8$.",
        ),
        (r"If $x^2 = y - 3$ and $x = -5$, what is $y$?", r"Given $x^2 = y + 3$ and $x = -5$, find $y$."),
    ],
)
def test_a_changed_formula_is_changed_math(original: str, rephrased: str) -> None:
    failure = check_question(original, rephrased, "stop", [])
    assert failure is not None and failure[0] == "changed_math"
    assert check_question(original, rephrased, "stop", [], check_math=False) is None


def test_a_range_that_loses_a_bound_is_changed_math() -> None:
    original = "How many prime numbers are between 30 and 40?"
    lost = "Determine the number of prime numbers less than or equal to 40 that are less than or equal to 30."
    failure = check_question(original, lost, "stop", [])
    assert failure is not None and failure[0] == "changed_math" and "between 30 and 40" in failure[1]
    for kept in ("Count the primes greater than 30 and less than 40.", "How many primes lie from 30 to 40?"):
        assert check_question(original, kept, "stop", []) is None
    # "between" without two bounds is no range
    assert changed_math("Two unit vectors have an angle of $60^\\circ$ between them.", "x") is None


@pytest.mark.parametrize(
    ("original", "rephrased"),
    [
        (r"Compute $\dfrac34 + x^{2}$.", r"Evaluate $\frac{3}{4}+x^2$."),
        (r"If $a = 17$, $b=21$, find $a+b-c$ for $c=5$.", r"Find $a + b - c$ when $a=17, b=21, c=5$."),
        (
            r"Let $x + y + z = 1.$ Find the minimum of $x^2+y^2+z^2$.",
            r"The sum of $x,y,z$ is $1$; minimise $x^2+y^2+z^2$.",
        ),
        (
            r"In $\triangle ABC$, $\angle A = 90^\circ$ and $AB=5$.",
            r"Triangle $ABC$ has a right angle at $A$ and $AB=5$.",
        ),
    ],
)
def test_the_same_math_written_another_way_passes(original: str, rephrased: str) -> None:
    assert changed_math(original, rephrased) is None


_FORMS = [
    lambda p, q: rf"\frac{{{p}}}{{{q}}}",
    lambda p, q: rf"\dfrac{{{p}}}{{{q}}}",
    lambda p, q: rf"\tfrac{{{p}}}{{{q}}}",
    lambda p, q: rf"\frac {p}{q}" if p < 10 and q < 10 else rf"\frac{{{p}}}{{{q}}}",
    lambda p, q: rf"\frac{p}{q}" if p < 10 and q < 10 else f"{p}/{q}",
]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 99),
    st.integers(2, 99),
    st.sampled_from(range(len(_FORMS))),
    st.sampled_from(range(len(_FORMS))),
    st.integers(1000, 10**9),
)
def test_a_number_reads_the_same_in_every_latex_form(p: int, q: int, a: int, b: int, big: int) -> None:
    sep = [f"{big:,}", f"{big:,}".replace(",", ",\\!"), f"{big:,}".replace(",", "{,}"), str(big)]
    original = f"What is ${_FORMS[a](p, q)} + 1$ of ${sep[a % 4]}$ apples?"
    rephrased = f"Compute ${_FORMS[b](p, q)} + 1$ of the ${sep[b % 4]}$ apples."
    assert missing_numbers(original, rephrased) == [] and added_numbers(original, rephrased) == []
    assert changed_math(original, rephrased) is None


# --- real rewordings through the build -------------------------------------------------------------------

REAL = DATA / "real" / "math_train_rephrased_dev.jsonl"


def _real_rows(n_problems: int) -> list[dict[str, Any]]:
    if not REAL.exists():
        pytest.skip(f"real rewordings not found at {REAL}")
    rows = read_jsonl(REAL)
    # problems with an invented diagram and problems without, so both paths are taken
    adds = [
        r["math_id"]
        for r in rows
        if "[asy]" in r["rephrased_problem"] and "[asy]" not in r["original_problem"]
    ]
    plain = [r["math_id"] for r in rows if "[asy]" not in r["rephrased_problem"] + r["original_problem"]]
    ids = set(list(dict.fromkeys(adds))[:2] + list(dict.fromkeys(plain))[: n_problems - 2])
    return [r for r in rows if r["math_id"] in ids]


def test_real_rewordings_replayed_through_build_dpo(tmp_path: Path) -> None:
    need_data()
    rows = _real_rows(6)
    questions = {}
    solutions = {}
    for r in sorted(rows, key=lambda r: r["variant"]):
        questions.setdefault(r["original_problem"].strip(), []).append(r["rephrased_problem"])
        solutions.setdefault(r["rephrased_problem"].strip(), r["solution"])

    def model(body: dict[str, Any]) -> Reply:
        text = body["messages"][-1]["content"]
        if "Reworded problem:\n" in text:
            return Reply([solutions[text.rsplit("Reworded problem:\n", 1)[1].strip()]])
        return Reply(questions[text.strip()][: int(body.get("n") or 1)])

    ids = {r["math_id"] for r in rows}
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        "".join(
            json.dumps(r) + "\n" for r in read_jsonl(DATA / "math" / "MATH_train.jsonl") if r["id"] in ids
        )
    )
    with FakeOpenAIServer(model) as server:
        code, output = invoke(
            "build-dpo",
            "--seeds",
            seeds,
            "--base-url",
            server.url,
            "--rephrasings",
            3,
            "--out",
            tmp_path / "o",
        )
    assert code == 0, output
    records = read_jsonl(tmp_path / "o" / "dpo.jsonl")
    rejects = read_jsonl(tmp_path / "o" / "rejects.jsonl")
    assert records and all(
        answers_equivalent(extract_boxed(r["chosen"]) or "", r["gold_answer"]) for r in records
    )
    invented = {
        r["rephrased_problem"]
        for r in rows
        if "[asy]" in r["rephrased_problem"] and "[asy]" not in r["original_problem"]
    }
    assert invented and all(q not in invented for q in (r["prompt"] for r in records))
    assert any(r["reason"] == "adds_diagram" and r["text"] in invented for r in rejects)
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["questions"]["candidates"] == len(rows)


# --- conditions and qualifiers ---------------------------------------------------------------------------

_COPRIME = r"The probability is $\frac{m}{n}$, where $m$ and $n$ are relatively prime positive integers."
_VALUES = r"real values of $r$ for which $\frac{1}{2x}=\frac{r-x}{7}$ has exactly one real solution."


@pytest.mark.parametrize(
    ("original", "rephrased", "lost"),
    [
        (
            r"Here $b$ is a positive integer and is not divisible by the square of any prime.",
            r"Here $b$ is a positive integer that is not a square of any prime.",
            "divisible",
        ),
        ("Find the product of all " + _VALUES, "Determine the total of all " + _VALUES, "product"),
        (_COPRIME, r"The probability is $\frac{m}{n}$, with $m$ and $n$ positive integers.", "coprime"),
        (
            "Which number should we remove to maximize the probability that the sum is 10?",
            "Which number should be removed to increase the likelihood that the sum is 10?",
            "maximum",
        ),
        (
            "How many triangles with perimeter 7 have integer side lengths?",
            "How many triangles have a perimeter of 7?",
            "integer",
        ),
    ],
)
def test_a_dropped_condition_is_changed_condition(original: str, rephrased: str, lost: str) -> None:
    failure = check_question(original, rephrased, "stop", [])
    assert failure is not None and failure[0] == "changed_condition" and lost in failure[1]
    assert check_question(original, rephrased, "stop", [], check_conditions=False) is None


@pytest.mark.parametrize(
    ("original", "rephrased"),
    [
        (
            _COPRIME,
            _COPRIME.replace("relatively prime positive integers", "positive integers with no common factor"),
        ),
        ("Two distinct digits are chosen.", "Two different digits are chosen."),
        (
            "What is the largest positive five-digit integer divisible by 11?",
            "Find the largest five-digit number that is a multiple of 11.",
        ),
        (
            "What is the sum of the odd integers from 11 through 39, inclusive?",
            "Determine the total of the odd numbers from 11 to 39, both included.",
        ),
        (
            "Find the greatest common divisor of 32 and 48.",
            "Determine the highest common factor of 32 and 48.",
        ),
        (
            r"Expand the product $(x^2-2x+2)(x^2+2x+2)$.",
            r"Find the result of expanding $(x^2-2x+2)(x^2+2x+2)$.",
        ),
        (
            "Find all solutions $x$ (real and otherwise) to $x^4+64=0$.",
            "Find all solutions $x$ to $x^4+64=0$.",
        ),
        ("List the scores from the greatest to the least.", "List the scores in descending order."),
    ],
)
def test_a_condition_said_in_other_words_passes(original: str, rephrased: str) -> None:
    assert changed_condition(original, rephrased) is None
    assert check_question(original, rephrased, "stop", []) is None


# --- formulas said in words, bounds, series, dropped answer choices -------------------------------------

_QUOTIENT = r"Express the quotient $1121_5 \div 12_5$ in base $5$."
_COSINES = r"Compute $\cos^2 0^\circ + \cos^2 1^\circ + \dots + \cos^2 90^\circ$."


@pytest.mark.parametrize(
    ("original", "rephrased", "kept"),
    [
        (_QUOTIENT, r"Divide $1121_5$ by $12_5$; give the result in base $5$.", True),
        (_QUOTIENT, r"Divide $12_5$ by $1121_5$; give the result in base $5$.", False),
        (r"Find $325_{8}-237_{8}$.", r"Subtract $237_8$ from $325_8$.", True),
        (r"Find $325_{8}-237_{8}$.", r"Subtract $325_8$ from $237_8$.", False),
        (r"Determine $\sqrt[6]{1061520150601}$.", r"Find the sixth root of $1061520150601$.", True),
        (r"Find $1+2\cdot3-4+5$.", r"Add $1+2\cdot3$ and $2+4\cdot5$.", False),
        (_COSINES, r"Add the squared cosines of the angles from $0^\circ$ to $90^\circ$.", True),
    ],
)
def test_an_expression_said_in_words_keeps_its_operands_and_their_order(
    original: str, rephrased: str, kept: bool
) -> None:
    assert (check_question(original, rephrased, "stop", []) is None) is kept


def test_a_strict_bound_may_be_said_inclusively() -> None:
    original = "An integer greater than 9 and less than 100 is chosen. What is the chance its digits differ?"
    rephrased = "An integer between 10 and 99 is chosen. What is the chance its digits differ?"
    assert missing_numbers(original, rephrased) == [] and added_numbers(original, rephrased) == []
    assert missing_numbers(original, rephrased.replace("99", "98")) == ["100"]


def test_answer_choices_may_go_only_when_the_gold_answer_is_a_value() -> None:
    choices = r"$\textbf{(A) }30\qquad\textbf{(B) }31\qquad\textbf{(E) }63$"
    original = "How many values of $p<2015$ are possible?\n" + choices
    rephrased = "Find the number of possible values of $p<2015$."
    assert check_question(original, rephrased, "stop", [], gold="31") is None
    for gold in (None, r"\textbf{(B)}", "B"):
        failure = check_question(original, rephrased, "stop", [], gold=gold)
        assert failure is not None and failure[0] == "missing_numbers"


def test_changed_condition_rejects_through_the_build_and_its_flag_turns_it_off(tmp_path: Path) -> None:
    problem = r"How many ordered pairs $(x,y)$ of distinct positive integers satisfy $x+y=12$?"
    solution = r"Pairs $(x,12-x)$ for $x=1,\dots,11$ except $x=6$, so there are $\boxed{10}$."
    changed = r"How many ordered pairs $(x,y)$ of positive integers satisfy $x+y=12$?"
    answer = r"Each $x$ from 1 to 11 gives a pair, and $x=6$ repeats itself: $\boxed{10}$."

    def build(*extra: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return build_one_rewording(tmp_path / f"o{len(extra)}", problem, solution, changed, answer, *extra)

    records, rejects = build()
    assert records == [] and [(r["reason"], r["text"]) for r in rejects] == [("changed_condition", changed)]
    assert "distinct" in rejects[0]["detail"]
    records, rejects = build("--no-check-conditions")
    assert [r["prompt"] for r in records] == [changed] and rejects == []
