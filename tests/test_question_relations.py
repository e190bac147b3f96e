"""The question checks on what real rewordings drop or rearrange: worked examples, numbered lists, lists
written one formula per term, diagrams a problem says "this" of, directions, a letter's role, the form
of the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmath.steps import check_question
from synthmath.steps.verify import added_numbers, missing_numbers

from .conftest import build_one_rewording

# --- numbers a faithful rewording may leave out ----------------------------------------------------------

_DIE = (
    r"A fair 6-sided die is rolled.  If the roll is even, then you win that amount of dollars (so that, "
    r"for example, if you roll 4, then you win $\$4$).  If the roll is odd, you win nothing.  What is "
    r"the expected value of your winnings?"
)


def test_a_worked_example_may_be_dropped_but_not_rewritten() -> None:
    dropped = (
        "A fair 6-sided die is rolled. An even roll wins that many dollars and an odd roll wins nothing. "
        "What is the expected value of the winnings?"
    )
    assert check_question(_DIE, dropped, "stop", []) is None
    # an example that is given must keep its numbers
    rewritten = dropped.replace("nothing.", "nothing (for example, a roll of 2 wins $\\$2$).")
    assert missing_numbers(_DIE, rewritten) == ["4"]
    # the problem's own numbers are still asked for
    assert missing_numbers(_DIE, dropped.replace("6-sided", "eight-sided")) == ["6"]


def test_a_sentence_that_is_an_example_ends_at_its_full_stop_even_inside_a_formula() -> None:
    original = (
        r"For a real number $x,$ $\{x\} = x - \lfloor x \rfloor$ is its fractional part. For example, "
        r"$\{2.7\} = 0.7.$ Find the area of the region $100 \{x\} \ge \lfloor x \rfloor + 5$."
    )
    rephrased = (
        r"Let $\{x\} = x - \lfloor x \rfloor$ be the fractional part of the real number $x$. Determine "
        r"the area of the region $100 \{x\} \ge \lfloor x \rfloor + 5$."
    )
    assert missing_numbers(original, rephrased) == []
    assert missing_numbers(original, rephrased.replace("+ 5", "+ 4")) == ["5"]


def test_the_inner_terms_of_a_list_written_one_formula_per_term() -> None:
    original = r"Let $z_1,$ $z_2,$ $\dots,$ $z_{20}$ be the roots of $p$. Find $\sum_{k = 1}^{20} z_k^2$."
    rephrased = r"Consider the twenty roots of $p$. Determine $\sum_{k = 1}^{20} z_k^2$."
    assert missing_numbers(original, rephrased) == []


def test_the_numbers_of_a_numbered_list_are_no_quantities() -> None:
    original = "The clues:\nIt is a two-digit integer.\nThe tens digit is odd.\nIt is greater than 65."
    rephrased = "The clues are:\n1. It is a two-digit integer.\n2. The tens digit is odd.\n3. It exceeds 65."
    assert added_numbers(original, rephrased) == [] and missing_numbers(original, rephrased) == []
    assert added_numbers(original, rephrased.replace("exceeds 65", "exceeds 75")) == ["75"]


# --- diagrams --------------------------------------------------------------------------------------------

_GRID = "[asy]\nsize(80);\ndot((0,0)); dot((1,1));\ndraw((0,0)--(2,1)--(1,2)--cycle);\n[/asy]"
_TRAPEZOID = (
    "[asy]\ndraw((0,0)--(4,3)--(12,3)--(16,0)--cycle);\n"
    'label(scale(0.75)*"A", (0,0), W);\nlabel(scale(0.75)*"16", (8,0), S);\n'
    'label(graf[1], "3", (4, 1.5), E);\n[/asy]'
)


@pytest.mark.parametrize(
    ("original", "rephrased", "why"),
    [
        (
            f"The nine points of this grid are 1 unit apart. What is the area where the two triangles "
            f"overlap?\n{_GRID}",
            "In a grid of nine points 1 unit apart, what is the area where the two triangles overlap?",
            "refers to",
        ),
        (
            f"In trapezoid $ABCD$, the sides $AB$ and $CD$ are equal. What is its perimeter?\n{_TRAPEZOID}",
            "In trapezoid $ABCD$ with $AB = CD$, what is the perimeter?",
            "16, 3",  # labels written after a transform or a picture are labels too
        ),
    ],
)
def test_a_dropped_diagram_the_problem_needs(original: str, rephrased: str, why: str) -> None:
    failure = check_question(original, rephrased, "stop", [])
    assert failure is not None and failure[0] == "drops_diagram" and why in failure[1]


# --- relations: directions, a letter's role, the answer's form ------------------------------------------

_WALK = (
    "Henry walked 9 meters due north from a tree. He then turned due east and walked 24 feet. He then "
    "turned due south and walked 9 meters plus 32 feet. How many feet away from the tree is he?"
)
_CYLINDERS = (
    "Cylinder $B$'s height is equal to the radius of cylinder $A$ and cylinder $B$'s radius is equal to "
    "the height $h$ of cylinder $A$. The volume of cylinder $A$ is $N \\pi h^3$. What is $N$?"
)
_SQUARES = "A smaller square has two vertices on the circle. What percent of the larger square's area is it?"


@pytest.mark.parametrize(
    ("original", "faithful", "changed", "why"),
    [
        (
            _WALK,
            "Henry walks 9 meters north of a tree, then 24 feet east, then 9 meters plus 32 feet south. "
            "How many feet is he from the tree?",
            "Henry walks 9 meters north of a tree, then 24 feet east, then 9 meters north and 32 feet "
            "south. How many feet is he from the tree?",
            "directions",
        ),
        (
            _CYLINDERS,
            "The height of cylinder $B$ equals the radius of cylinder $A$, and the radius of $B$ equals "
            "the height $h$ of $A$. The volume of $A$ is $N \\pi h^3$. Find $N$.",
            "Cylinder $B$ has a radius equal to the height of cylinder $A$, and its height is the radius "
            "$h$ of cylinder $A$. The volume of $A$ is $N \\pi h^3$. Find $N$.",
            "$h$",
        ),
        (
            _SQUARES,
            "Two vertices of a smaller square lie on the circle. Find what percentage of the area of the "
            "larger square the smaller one covers.",
            "Two vertices of a smaller square lie on the circle. Find what fraction of the area of the "
            "larger square the smaller one covers.",
            "fraction, the original as percent",
        ),
        (
            r"Write $(x+1)(x+5)-(x+1)^2$ as a polynomial.",
            r"Expand $(x+1)(x+5)-(x+1)^2$.",
            r"Factor $(x+1)(x+5)-(x+1)^2$.",
            "factored, the original as expanded",
        ),
    ],
)
def test_a_rearranged_relation_is_changed_condition(
    original: str, faithful: str, changed: str, why: str
) -> None:
    assert check_question(original, faithful, "stop", []) is None
    failure = check_question(original, changed, "stop", [])
    assert failure is not None and failure[0] == "changed_condition" and why in failure[1]
    assert check_question(original, changed, "stop", [], check_conditions=False) is None


def test_a_reordered_walk_is_rejected_through_the_build(tmp_path: Path) -> None:
    solution = r"He ends 24 feet east and 32 feet south of the tree: $\sqrt{24^2+32^2}=\boxed{40}$ feet."
    changed = (
        "From a tree, Henry walks 9 meters north, 24 feet east, and finally 9 meters north followed by 32 "
        "feet south. How far from the tree, in feet, does he end up?"
    )
    answer = r"The east and south legs make a right triangle: $\boxed{40}$ feet."
    records, rejects = build_one_rewording(tmp_path, _WALK, solution, changed, answer)
    assert records == []
    assert [(r["reason"], r["text"]) for r in rejects] == [("changed_condition", changed)]
    assert "north, east, north, south" in rejects[0]["detail"]
