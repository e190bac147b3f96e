"""The library API end to end, against a fake server that rephrases faithfully and answers wrongly ~30%."""

from __future__ import annotations

from typing import Any

import pytest

from synthmath import (
    BuildConfig,
    BuildFailedError,
    DPORecord,
    InstructRecord,
    Reject,
    SeedProblem,
    build_dpo,
    build_instruct,
)
from synthmath.prompts import PromptSet
from synthmath.testing import FakeOpenAIServer, HTTPFailure, Reply, reword

from .fakes import MathRephraser, rewritten_solution


def test_instruct_bar(
    server: FakeOpenAIServer, rephraser: MathRephraser, math_seeds: list[SeedProblem]
) -> None:
    rejects: list[Reject] = []
    records = list(
        build_instruct(math_seeds, base_url=server.url, contamination=False, on_reject=rejects.append)
    )
    by_id = {s.id: s for s in math_seeds}
    assert records and all(isinstance(r, InstructRecord) for r in records)
    # every kept answer is one the server gave with the right final answer
    assert rephraser.wrong and not {r.answer for r in records} & rephraser.wrong
    assert all(r.gold_answer == by_id[r.seed_id].gold_answer for r in records)
    assert len({r.seed_id for r in records}) >= 0.6 * len(math_seeds)
    for r in records:
        assert r.question != by_id[r.seed_id].problem
        assert [m.role for m in r.messages] == ["user", "assistant"]
        assert (r.messages[0].content, r.messages[1].content) == (r.question, r.answer)
        assert r.meta.model == "fake-math"
        assert set(r.meta.prompt_hashes) == {"rephrase_question", "rephrase_answer"}
    # every wrong answer the server sent is accounted for as a reject
    wrong = [r for r in rejects if r.reason == "wrong_answer"]
    assert {r.text for r in wrong} == rephraser.wrong
    assert all(r.stage == "answer" and r.extracted_answer for r in wrong)


def test_dpo_bar(server: FakeOpenAIServer, rephraser: MathRephraser, math_seeds: list[SeedProblem]) -> None:
    records = list(build_dpo(math_seeds, base_url=server.url, contamination=False))
    by_id = {s.id: s for s in math_seeds}
    assert len({r.seed_id for r in records}) >= 0.6 * len(math_seeds)
    for r in records:
        seed = by_id[r.seed_id]
        assert r.rejected == seed.solution
        assert isinstance(r.prompt, str) and isinstance(r.chosen, str)
        assert r.prompt in rephraser.by_question and seed.problem.strip() not in r.prompt
        assert r.chosen not in rephraser.wrong and seed.solution.strip() not in r.chosen


def test_dpo_chat_form(server: FakeOpenAIServer, math_seeds: list[SeedProblem]) -> None:
    records = list(build_dpo(math_seeds[:5], base_url=server.url, contamination=False, chat=True))
    assert records
    for r in records:
        assert isinstance(r, DPORecord) and isinstance(r.prompt, list) and isinstance(r.rejected, list)
        assert [m.role for m in r.prompt] == ["user"]
        assert [m.role for m in r.chosen] == ["assistant"]  # type: ignore[union-attr]
        assert r.rejected[0].content.startswith(
            math_seeds[[s.id for s in math_seeds].index(r.seed_id)].solution
        )


def test_runs_are_reproducible(server: FakeOpenAIServer, math_seeds: list[SeedProblem]) -> None:
    def key(records: list[InstructRecord]) -> list[tuple[str, str, str]]:
        return [(r.id, r.question, r.answer) for r in records]

    first = list(build_instruct(math_seeds[:10], base_url=server.url, contamination=False))
    second = list(build_instruct(math_seeds[:10], base_url=server.url, contamination=False))
    assert key(first) == key(second)
    # the request seeds depend on --seed, so another run seed changes which answers the fake gets wrong
    seeds_0 = {b["seed"] for b in server.requests}
    list(build_instruct(math_seeds[:10], base_url=server.url, contamination=False, seed=1))
    assert {b["seed"] for b in server.requests} - seeds_0


def test_solve_mode_sends_no_original_solution(
    server: FakeOpenAIServer, math_seeds: list[SeedProblem]
) -> None:
    seeds = math_seeds[:6]
    list(
        build_instruct(seeds, base_url=server.url, contamination=False, answer_mode="solve", answer_samples=2)
    )
    answer_requests = [b for b in server.requests if "solve" in b["messages"][0]["content"].lower()]
    assert answer_requests and all(b["n"] == 2 for b in answer_requests)
    for b in answer_requests:
        last = b["messages"][-1]["content"]
        assert not any(s.solution in last for s in seeds)


def test_fixed_prompt_part_comes_first(server: FakeOpenAIServer, math_seeds: list[SeedProblem]) -> None:
    """Requests of one step share every message but the last, so vLLM's prefix cache can reuse them."""
    list(build_instruct(math_seeds[:4], base_url=server.url, contamination=False))
    heads = {}
    for b in server.requests:
        heads.setdefault(len(b["messages"]), set()).add(repr(b["messages"][:-1]))
    assert all(len(v) == 1 for v in heads.values())


def test_question_checks(math_seeds: list[SeedProblem]) -> None:
    seed = next(s for s in math_seeds if any(c.isdigit() for c in s.problem))
    reworded = "Restated. " + reword(seed.problem)
    no_numbers = "".join(c for c in reword(seed.problem, 1) if not c.isdigit())
    replies = [
        seed.problem,
        "Rephrased question: " + reworded,
        "",
        reworded,
        no_numbers + " (reworded)",
        "cut off",
    ]
    reasons = ["stop"] * 5 + ["length"]

    def handler(body: dict[str, object]) -> Reply:
        if body["n"] == 6:
            return Reply(replies, reasons)
        return Reply([rewritten_solution(seed)])

    rejects: list[Reject] = []
    with FakeOpenAIServer(handler, models=["m"]) as s:
        records = list(
            build_instruct(
                [seed], base_url=s.url, contamination=False, rephrasings=6, on_reject=rejects.append
            )
        )
    assert [r.question for r in records] == [reworded]
    assert [r.reason for r in rejects] == [
        "question_copies_seed",
        "empty",
        "duplicate_rephrasing",
        "missing_numbers",
        "truncated",
    ]
    rejects.clear()
    with FakeOpenAIServer(handler, models=["m"]) as s:
        records = list(
            build_instruct(
                [seed],
                base_url=s.url,
                contamination=False,
                rephrasings=6,
                require_numbers=False,
                check_math=False,  # the reworded copy without digits has lost its formulas' numbers too
                on_reject=rejects.append,
            )
        )
    assert len(records) == 2 and "missing_numbers" not in {r.reason for r in rejects}


def test_answer_checks(math_seeds: list[SeedProblem]) -> None:
    seed = math_seeds[0]
    answers = [
        rewritten_solution(seed),
        rewritten_solution(seed),
        "Here is the solution.\n" + seed.solution,
        "I do not know.",
        "",
        seed.solution[:-3],
        "$\\boxed{" + seed.gold_answer,
    ]

    def handler(body: dict[str, object]) -> Reply:
        if body["n"] == 1:
            return Reply(["Put differently: " + reword(seed.problem)])
        return Reply(answers, ["stop", "stop", "stop", "stop", "stop", "length", "stop"])

    rejects: list[Reject] = []
    with FakeOpenAIServer(handler, models=["m"]) as s:
        records = list(
            build_instruct(
                [seed],
                base_url=s.url,
                contamination=False,
                rephrasings=1,
                answer_samples=7,
                on_reject=rejects.append,
            )
        )
    assert [r.answer for r in records] == [rewritten_solution(seed)]
    assert [r.reason for r in rejects] == [
        "duplicate",
        "answer_copies_original",
        "no_boxed_answer",
        "empty",
        "truncated",
        "no_boxed_answer",
    ]


def test_request_errors_become_rejects(math_seeds: list[SeedProblem]) -> None:
    """A request the server refuses (HTTP 400) is a reject for each sample it asked for; the build goes on."""
    long_one = math_seeds[0].problem
    rephraser = MathRephraser(math_seeds[:4])

    def handler(body: dict[str, Any]) -> Any:
        if long_one in body["messages"][-1]["content"]:
            return HTTPFailure(400, "maximum context length exceeded")
        return rephraser(body)

    rejects: list[Reject] = []
    with FakeOpenAIServer(handler, models=["m"]) as s:
        records = list(
            build_instruct(math_seeds[:4], base_url=s.url, contamination=False, on_reject=rejects.append)
        )
    assert records and math_seeds[0].id not in {r.seed_id for r in records}
    refused = [r for r in rejects if r.seed_id == math_seeds[0].id]
    assert [(r.stage, r.reason, r.extra["sample"]) for r in refused] == [
        ("question", "request_error", 0),
        ("question", "request_error", 1),
    ]
    assert "maximum context length" in refused[0].detail


def test_a_build_whose_every_request_is_refused_fails(math_seeds: list[SeedProblem]) -> None:
    with (
        FakeOpenAIServer(lambda body: HTTPFailure(400, "top_k is not supported"), models=["m"]) as s,
        pytest.raises(BuildFailedError, match=r"3 of 3 requests failed.*top_k is not supported.*refused"),
    ):
        list(build_instruct(math_seeds[:3], base_url=s.url, contamination=False))


def test_custom_prompts_dir(tmp_path, server: FakeOpenAIServer, math_seeds: list[SeedProblem]) -> None:  # type: ignore[no-untyped-def]
    default = PromptSet()
    for name in ("rephrase_question", "rephrase_answer", "solve"):
        text = default[name].path.read_text()
        if name == "rephrase_question":
            text = text.replace("You rewrite math problems.", "You rewrite math problems for a test.")
        (tmp_path / f"{name}.yaml").write_text(text)
    records = list(
        build_instruct(math_seeds[:3], base_url=server.url, contamination=False, prompts_dir=tmp_path)
    )
    assert records
    hashes = records[0].meta.prompt_hashes
    assert hashes["rephrase_question"] != default["rephrase_question"].hash
    assert hashes["rephrase_answer"] == default["rephrase_answer"].hash
    assert "for a test" in server.requests[-len(records) - 3]["messages"][0]["content"] or any(
        "for a test" in b["messages"][0]["content"] for b in server.requests
    )


def test_config_object_and_kwargs_agree(server: FakeOpenAIServer, math_seeds: list[SeedProblem]) -> None:
    cfg = BuildConfig.load(base_url=server.url, contamination=False, rephrasings=1)
    records = list(build_instruct(math_seeds[:4], config=cfg, temperature=0.2))
    assert records and all(r.meta.sampling["temperature"] == 0.2 for r in records)
    assert all(b["temperature"] == 0.2 for b in server.requests)
    assert all(b["n"] == 1 for b in server.requests)


def test_library_errors_are_synthmath_errors() -> None:
    from synthmath import ConfigError

    with pytest.raises(ConfigError, match="rephrasings"):
        list(build_instruct([], rephrasings=0))
    with pytest.raises(ConfigError, match="unknown config key"):
        list(build_instruct([], rephrasing=2))


def test_async_api_matches_sync(server: FakeOpenAIServer, math_seeds: list[SeedProblem]) -> None:
    import asyncio

    from synthmath import abuild_dpo

    async def collect() -> list[DPORecord]:
        return [r async for r in abuild_dpo(math_seeds[:5], base_url=server.url, contamination=False)]

    async_records = asyncio.run(collect())
    sync_records = list(build_dpo(math_seeds[:5], base_url=server.url, contamination=False))
    assert [r.id for r in async_records] == [r.id for r in sync_records] and async_records

    async def sync_inside_loop() -> None:
        list(build_dpo(math_seeds[:1], base_url=server.url, contamination=False))

    from synthmath import ConfigError

    with pytest.raises(ConfigError, match="abuild_instruct"):
        asyncio.run(sync_inside_loop())


def test_duplicate_seed_ids_are_rejected_once(
    server: FakeOpenAIServer, math_seeds: list[SeedProblem]
) -> None:
    rejects: list[Reject] = []
    seeds = [math_seeds[0], math_seeds[1], math_seeds[0]]
    records = list(build_instruct(seeds, base_url=server.url, contamination=False, on_reject=rejects.append))
    assert len({r.id for r in records}) == len(records)
    assert [(r.stage, r.reason, r.seed_id) for r in rejects if r.stage == "seed"] == [
        ("seed", "duplicate_id", math_seeds[0].id)
    ]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Rephrased question: What is $2+3$?", "What is $2+3$?"),
        ("**Reworded problem:** What is $2+3$?", "What is $2+3$?"),
        ("Rephrased: What is $2+3$?", "What is $2+3$?"),
        ("Here is the rephrased problem:\n\nWhat is $2+3$?", "What is $2+3$?"),
        ('"What is $2+3$?"', "What is $2+3$?"),
        ("Question: compute the value of $2+3$.", "compute the value of $2+3$."),
        ("Problem solving is fun: what is $2+3$?", "Problem solving is fun: what is $2+3$?"),
        ("Rewritten problem: What is $2+3$?", "What is $2+3$?"),  # the question prompt's own label
        ("Rephrased question 2: What is $2+3$?", "What is $2+3$?"),  # numbered labels: not a new number
        ("**Rewording #3:** What is $2+3$?", "What is $2+3$?"),
        ("Question 2 asks: what is $2+3$?", None),
        ("What is $2+3$?", "What is $2+3$?"),
        ("A problem for you: a survey of $120$ people found:\n\n$70$ were tall", None),
    ],
)
def test_clean_question_strips_labels_only(reply: str, expected: str | None) -> None:
    from synthmath.steps.verify import clean_question

    assert clean_question(reply) == (reply if expected is None else expected)


def test_numbers_check_accepts_words_and_formats() -> None:
    from synthmath.steps.verify import missing_numbers

    assert (
        missing_numbers(
            "Tom has 5 apples and eats $\\frac{1}{2}$ of them.", "Tom eats one half of five apples."
        )
        == []
    )
    assert missing_numbers("It costs $1,000.50 for 3 days.", "Over three days it costs 1000.5 dollars.") == []
    assert missing_numbers("A 12-gon has 54 diagonals?", "How many diagonals does a 12-gon have?") == ["54"]
