"""Question and answer checks: copies, duplicates, numbers, and the independent solve check."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthmath.engine.base import ChatResult, Choice
from synthmath.engine.openai_server import OpenAIServerEngine
from synthmath.mathtext import numbers_in, spell_numbers, word_tokens
from synthmath.prompts import PromptSet
from synthmath.records import SeedProblem
from synthmath.steps import (
    RephraseAnswer,
    SolveCheck,
    answer_copies_original,
    check_answer,
    check_question,
    duplicate_rephrasing,
    judge_solutions,
    question_copies_seed,
)
from synthmath.steps.base import Sampling
from synthmath.steps.verify import added_numbers, missing_numbers
from synthmath.testing import FakeOpenAIServer, Reply, reword

from .conftest import DATA, SAMPLE, need_data, read_jsonl
from .fakes import rewritten_solution

REPHRASED = (
    Path(__file__).resolve().parent.parent / "benchmarks" / "contamination" / "math_test_rephrased.jsonl"
)


def _honest_pairs() -> list[tuple[str, str]]:
    need_data()
    problems = {r["id"]: r["problem"] for r in read_jsonl(DATA / "math" / "MATH_test.jsonl")}
    return [(problems[r["source_id"]], r["question"]) for r in read_jsonl(REPHRASED)]


def test_copies_of_the_seed_are_caught_and_honest_rewordings_pass() -> None:
    pairs = _honest_pairs()
    for seed, honest in pairs:
        assert not question_copies_seed(seed, honest).copied, honest
        for copy in (seed, "Solve this: " + seed, seed.upper() + "\n", "  ".join(seed.split())):
            check = question_copies_seed(seed, copy)
            assert check.copied and check.score == 100.0 and check.how == "contains"
    scores = [question_copies_seed(s, q).score for s, q in pairs]
    assert max(scores) < 90 and min(scores) > 0


def test_a_near_copy_is_caught_with_its_score() -> None:
    seed = "A rectangle has a perimeter of 30 units and its length is twice its width. What is its area?"
    near = seed.replace("What is its area?", "What is the area?")
    check = question_copies_seed(seed, near)
    assert check.copied and check.how == "near_duplicate" and 90 <= check.score < 100
    assert "similarity" in check.detail("the seed problem")
    assert not question_copies_seed(seed, near, threshold=99.5).copied


@settings(max_examples=50, deadline=None)
@given(
    st.text(min_size=25, max_size=200).filter(lambda t: len(" ".join(t.split())) >= 25), st.text(max_size=40)
)
def test_the_seed_with_anything_around_it_is_a_copy(seed: str, around: str) -> None:
    assert question_copies_seed(seed, around + seed + around).copied


def test_duplicate_rephrasings_keep_the_first() -> None:
    seed = read_jsonl(SAMPLE)[4]["problem"]  # a word problem: prose to reword around its numbers
    first, second = reword(seed, 0), reword(seed, 1)
    assert duplicate_rephrasing(first, [])[0] is None
    found, score = duplicate_rephrasing(second, [first])
    assert found is None and score < 90
    found, score = duplicate_rephrasing(first + " ", [second, first])
    assert found == 1 and score == 100.0


def test_answer_copies_of_the_original_solution() -> None:
    need_data()
    seeds = [SeedProblem(id=r["id"], problem=r["problem"], solution=r["solution"], gold_answer="0")
             for r in read_jsonl(DATA / "math" / "MATH_train.jsonl")[::300]]  # fmt: skip
    for seed in seeds:
        assert answer_copies_original(seed.solution, seed.solution).copied
        assert answer_copies_original("Here is the solution.\n\n" + seed.solution, seed.solution).copied
        honest = answer_copies_original(rewritten_solution(seed), seed.solution)
        assert not honest.copied and honest.score < 90


def test_check_question_reasons_in_order() -> None:
    seed = "Tom has 3 apples and buys twenty-five more. How many apples does he have now?"
    honest = "After purchasing twenty-five additional apples, Tom, who began with 3, owns how many apples?"
    assert check_question(seed, honest, "stop", []) is None
    assert check_question(seed, "Solve this: " + seed, "stop", [])[0] == "question_copies_seed"  # type: ignore[index]
    assert check_question(seed, honest, "stop", [honest])[0] == "duplicate_rephrasing"  # type: ignore[index]
    dropped = "Tom starts with some apples and buys twenty-five more. How many does he own now?"
    assert check_question(seed, dropped, "stop", []) == (
        "missing_numbers",
        "drops number(s) of the original: 3",
    )
    solving = "Tom has 3 apples and buys twenty-five more, so he has 3 + 25 = 28 apples."
    assert check_question(seed, solving, "stop", []) == (
        "added_numbers",
        "writes number(s) the original does not have: 28",
    )
    assert check_question(seed, solving, "stop", [], require_numbers=False) is None
    assert check_question(seed, honest, "length", [])[0] == "truncated"  # type: ignore[index]


def test_number_words_are_read_as_numbers() -> None:
    assert spell_numbers(["three", "hundred", "twenty", "five", "cats"]) == ["325", "cats"]
    assert word_tokens("A dozen eggs cost $1,000.50") == ["a", "12", "eggs", "cost", "1000.5"]
    assert numbers_in("half of 2.50") == {"1", "2", "2.5"}
    assert "3" in numbers_in("a third", hints=True) and "3" not in numbers_in("a third")
    assert (
        missing_numbers("It costs 25 dollars and 1,000 cents.", "twenty-five dollars, a thousand cents") == []
    )
    # a new number counts only in digits; the original's numbers count in digits, words or hints
    assert (
        added_numbers(
            "Tom walks twice as far as 3 friends.", "Tom covers 2 times the distance of three friends."
        )
        == []
    )
    assert added_numbers("What is half of 10?", "Halve 10: you get 5. What is 1/2 of 10?") == ["5"]
    assert added_numbers("Find $x$ if $x^2 = 9$.", "Solve $x^2 = 9$; there are two answers.") == []


def test_check_answer_reasons() -> None:
    gold, original = "12", "We compute $3 \\cdot 4 = \\boxed{12}$, the number of ways to pick."
    honest = "Multiplying the two counts gives $3 \\times 4 = \\boxed{12}$ possible choices."
    assert check_answer(honest, "stop", gold, original=original) == ("12", None)
    extracted, failure = check_answer("So: " + original, "stop", gold, original=original)
    assert extracted == "12" and failure is not None and failure[0] == "answer_copies_original"
    assert check_answer("So: " + original, "stop", gold, original=original, copy_threshold=None)[1] is None
    assert check_answer(honest.replace("12", "13"), "stop", gold)[1][0] == "wrong_answer"  # type: ignore[index]
    slow = "$\\boxed{" + "+".join(["x"] * 200_000) + "}$"
    assert check_answer(slow, "stop", "y", timeout=0.1)[1][0] == "verify_timeout"  # type: ignore[index]


# --- the independent solve check -------------------------------------------------------------------------

SEED = SeedProblem(
    id="demo/area",
    problem="A rectangle is 4 cm wide and 9 cm long. What is its area, in square centimeters?",
    solution="The area is $4 \\cdot 9 = \\boxed{36}$ square centimeters.",
    gold_answer="36",
)
FAITHFUL = "What area, in square centimeters, does a rectangle 4 cm wide and 9 cm long cover?"
CHANGED = "A rectangle is 4 cm wide. What is its area, in square centimeters?"  # the length is gone


@pytest.mark.parametrize(
    ("agree", "min_agree", "keep"), [(0, 1, False), (1, 1, True), (2, 3, False), (3, 3, True)]
)
def test_judge_solutions_needs_k_agreeing_answers(agree: int, min_agree: int, keep: bool) -> None:
    answers = [*["36.0", "\\frac{72}{2}", "36"][:agree], "35", None]
    verdict = judge_solutions(answers, "36", min_agree=min_agree)
    assert verdict.keep is keep and verdict.agree == agree and verdict.samples == len(answers)
    reject = verdict.reject(SEED, FAITHFUL)
    assert (reject is None) is keep
    if reject is not None:
        assert reject.reason == "rephrasing_changed_answer" and reject.stage == "question"
        assert reject.extra["answers"] == answers


def test_solve_check_requests_see_only_the_rephrased_question() -> None:
    prompts = PromptSet(None)
    check = SolveCheck(prompts, Sampling(run_seed=3), samples=4, min_agree=2)
    req = check.request(SEED, FAITHFUL, 0)
    text = json.dumps(req.messages)
    assert FAITHFUL in text and SEED.solution not in text and SEED.problem not in text
    assert req.n == 4 and req.step == "solve_check"
    answer_req = RephraseAnswer(prompts, Sampling(run_seed=3), mode="solve", samples=4).request(
        SEED, FAITHFUL, 0
    )
    assert answer_req.messages == req.messages and answer_req.seed != req.seed  # never the same cache entry
    with pytest.raises(ValueError):
        SolveCheck(prompts, Sampling(), samples=2, min_agree=3)


def test_solve_check_rejects_a_rephrasing_that_changed_the_answer() -> None:
    """A fake model solves what it is asked: with the length dropped it cannot reach 36."""

    def solver(body: dict[str, object]) -> Reply:
        question = body["messages"][-1]["content"]  # type: ignore[index]
        n = int(body.get("n") or 1)  # type: ignore[call-overload]
        if "9 cm" in question:
            return Reply(["Area is width times length: $4 \\cdot 9 = \\boxed{36}$."] * n)
        return Reply(["Without a length, take a square: $4^2 = \\boxed{16}$."] * (n - 1) + ["$\\boxed{36"])

    check = SolveCheck(PromptSet(None), Sampling(), samples=3, min_agree=1)

    async def solve(questions: list[str]) -> list[ChatResult]:
        engine = OpenAIServerEngine([server.url], backoff_base=0.001)
        await engine.start()
        try:
            return list(
                await asyncio.gather(
                    *(engine.complete(check.request(SEED, q, i)) for i, q in enumerate(questions))
                )
            )
        finally:
            await engine.close()

    with FakeOpenAIServer(solver, models=["m"]) as server:
        kept_result, changed_result = asyncio.run(solve([FAITHFUL, CHANGED]))
    verdict, reject = check.parse(SEED, FAITHFUL, kept_result)
    assert verdict is not None and verdict.keep and verdict.agree == 3 and reject is None
    verdict, reject = check.parse(SEED, CHANGED, changed_result)
    assert verdict is not None and not verdict.keep and verdict.answers == ("16", "16", None)
    assert reject is not None and reject.reason == "rephrasing_changed_answer" and reject.question == CHANGED


def test_solve_check_request_errors_reject_the_question() -> None:
    check = SolveCheck(PromptSet(None), Sampling(), samples=2)
    verdict, reject = check.parse(SEED, FAITHFUL, ChatResult(choices=[], error="HTTP 400: too long"))
    assert verdict is None and reject is not None and reject.reason == "request_error"
    short = ChatResult(choices=[Choice(text="$\\boxed{36}$", finish_reason="stop")])
    verdict, _ = check.parse(SEED, FAITHFUL, short)
    assert verdict is not None and verdict.samples == 2 and verdict.answers == ("36", None)
