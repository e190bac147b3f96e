"""The kinds beyond rephrasing (ansaug, fobar, sv), sampling rounds (min_correct) and voted gold answers,
built through the CLI against fake models (tests/fakes.py: AugmentModel)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from synthmath import read_summary
from synthmath.publish.card import render_card
from synthmath.records import SeedProblem
from synthmath.steps.masking import code_masks
from synthmath.testing import FakeOpenAIServer

from .conftest import invoke, read_jsonl
from .fakes import AugmentModel

FOBAR_TAIL = "what is the value of the unknown variable"


@pytest.fixture
def few(math_seeds: list[SeedProblem], math_seeds_file: Path) -> tuple[Path, list[SeedProblem]]:
    """The first 8 seeds of the shared fixture (levels 2 to 5)."""
    return math_seeds_file, math_seeds[:8]


def _build(
    server: FakeOpenAIServer, seeds_file: Path, out: Path, *args: object, kind: str = "instruct"
) -> str:
    code, output = invoke(
        f"build-{kind}",
        "--seeds",
        seeds_file,
        "--limit",
        8,
        "--out",
        out,
        "--base-url",
        server.url,
        "--workers",
        1,
        "--no-progress",
        *args,
    )
    assert code == 0, output
    return output


def _by_kind(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["meta"]["kind"], []).append(r)
    return out


def test_every_kind_in_one_build(tmp_path: Path, few: tuple[Path, list[SeedProblem]]) -> None:
    seeds_file, seeds = few
    model = AugmentModel(seeds, backward="right")
    with FakeOpenAIServer(model, models=["fake-math"]) as server:
        _build(server, seeds_file, tmp_path / "out", "--augment", "rephrase,ansaug,fobar,sv")
    records = read_jsonl(tmp_path / "out" / "instruct.jsonl")
    kinds = _by_kind(records)
    assert set(kinds) == {"rephrase", "ansaug", "fobar", "sv"}
    by_id = {s.id: s for s in seeds}
    masked = {s.id: {m.value for m in code_masks(s.id, s.problem, s.solution, 1)} for s in seeds}
    for r in kinds["ansaug"]:  # the original question, a new verified answer
        assert r["question"] == by_id[r["seed_id"]].problem and r["id"].startswith(f"{r['seed_id']}/ansaug/a")
    for r in kinds["fobar"]:  # the gold is the masked number, and the question states the seed's answer
        seed = by_id[r["seed_id"]]
        assert r["gold_answer"] in masked[seed.id] and FOBAR_TAIL in r["question"]
        assert f"the answer to the above question is {seed.gold_answer}" in r["question"].replace("$", "")
        assert r["id"].startswith(f"{seed.id}/fobar/q0/a")
    for r in kinds["sv"]:  # a statement that gives the answer, then the masked number asked for
        assert r["gold_answer"] in masked[r["seed_id"]] and "the answer is" in r["question"]
        assert re.search(r"What is the value of the unknown variable \w\?$", r["question"])
    assert all(re.fullmatch(rf"{re.escape(r['seed_id'])}/q\d+/a\d+", r["id"]) for r in kinds["rephrase"])
    summary = read_summary(tmp_path / "out")
    assert set(summary.by_kind) == {"rephrase", "ansaug", "fobar", "sv"}
    for kind, rows in kinds.items():
        assert summary.by_kind[kind]["records"] == len(rows)
    assert {"mask_number", "sv_statement", "solve"} <= set(summary.prompt_hashes)
    card = render_card(
        summary.model_dump(mode="json"), repo_id="me/data", configs=[], data_files={}, plots=[]
    )
    assert "### By kind" in card and "| fobar |" in card


def test_backward_questions_whose_number_is_not_recovered_are_rejected(
    tmp_path: Path, few: tuple[Path, list[SeedProblem]]
) -> None:
    seeds_file, seeds = few
    with FakeOpenAIServer(AugmentModel(seeds, backward="wrong"), models=["fake-math"]) as server:
        _build(server, seeds_file, tmp_path / "out", "--augment", "fobar,sv", "--solve-check-samples", 2)
    assert read_jsonl(tmp_path / "out" / "instruct.jsonl") == []
    rejects = [r for r in read_jsonl(tmp_path / "out" / "rejects.jsonl") if r["stage"] == "question"]
    unrecovered = [r for r in rejects if r["reason"] == "masked_number_not_recovered"]
    assert {r["extra"]["kind"] for r in unrecovered} == {"fobar", "sv"}
    assert all("0 of 2 independent solutions" in r["detail"] for r in unrecovered)
    summary = read_summary(tmp_path / "out")
    assert summary.questions.rejected_by_reason["masked_number_not_recovered"] == len(unrecovered)
    assert summary.by_kind["fobar"]["records"] == 0


def test_dpo_rejected_of_a_backward_question_is_a_wrong_sample(
    tmp_path: Path, few: tuple[Path, list[SeedProblem]]
) -> None:
    seeds_file, seeds = few
    with FakeOpenAIServer(AugmentModel(seeds, backward="mixed"), models=["fake-math"]) as server:
        _build(
            server,
            seeds_file,
            tmp_path / "out",
            "--augment",
            "fobar,ansaug",
            "--answer-samples",
            2,
            kind="dpo",
        )
    kinds = _by_kind(read_jsonl(tmp_path / "out" / "dpo.jsonl"))
    assert kinds["fobar"] and kinds["ansaug"]
    for r in kinds["fobar"]:  # chosen reaches the masked number, rejected is a solution that does not
        assert r["meta"]["rejected_from"] == "wrong_sample"
        assert (
            f"\\boxed{{{r['gold_answer']}}}" in r["chosen"]
            and f"\\boxed{{{r['gold_answer']}}}" not in r["rejected"]
        )
    by_id = {s.id: s for s in seeds}
    for r in kinds["ansaug"]:  # SOLAR's pairing: the same question's original solution
        assert r["rejected"] == by_id[r["seed_id"]].solution and "rejected_from" not in r["meta"]


def test_the_model_masks_a_number_when_code_finds_none(tmp_path: Path) -> None:
    rows = [
        {
            "id": "words/1",
            "problem": "Tom has five apples and eats two. How many are left?",
            "solution": "He has $5-2=\\boxed{3}$ left.",
            "level": 1,
        },
    ]
    seeds_file = tmp_path / "seeds.jsonl"
    seeds_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    seeds = [
        SeedProblem(id="words/1", problem=rows[0]["problem"], solution=rows[0]["solution"], gold_answer="3")
    ]
    model = AugmentModel(seeds, backward="right")
    with FakeOpenAIServer(model, models=["fake-math"]) as server:
        _build(server, seeds_file, tmp_path / "out", "--augment", "fobar")
    records = read_jsonl(tmp_path / "out" / "instruct.jsonl")
    assert model.kinds_seen["mask_number"] == 1
    assert records and {r["gold_answer"] for r in records} == {"5"}
    assert records[0]["question"].startswith("Tom has x apples and eats two.")


def test_hard_seeds_get_more_tries_until_min_correct(
    tmp_path: Path, few: tuple[Path, list[SeedProblem]]
) -> None:
    seeds_file, seeds = few
    model = AugmentModel(seeds, hard_level=5, hard_tries=3)
    with FakeOpenAIServer(model, models=["fake-math"]) as server:
        _build(
            server, seeds_file, tmp_path / "out", "--augment", "ansaug", "--min-correct", 1, "--max-tries", 4
        )
    summary = read_summary(tmp_path / "out")
    level5 = summary.by_level["5"]
    assert level5["with_records_round1"] == 0 and level5["with_records"] == level5["seeds"] > 0
    assert summary.by_level["2"]["with_records_round1"] == summary.by_level["2"]["seeds"]
    assert [int(k) for k in summary.rounds] == [
        1,
        2,
        3,
    ]  # the third try of a hard seed is its first right one
    assert summary.rounds["3"]["questions"] == level5["seeds"]
    rejects = Counter(r["reason"] for r in read_jsonl(tmp_path / "out" / "rejects.jsonl"))
    assert rejects["wrong_answer"] == 2 * level5["seeds"]
    card = render_card(
        summary.model_dump(mode="json"), repo_id="me/data", configs=[], data_files={}, plots=[]
    )
    assert (
        "before and after difficulty-aware sampling" in card
        and f"| 5 | {level5['seeds']} | 0.0% | 100.0% |" in card
    )


def test_a_rerun_is_answered_by_the_cache(tmp_path: Path, few: tuple[Path, list[SeedProblem]]) -> None:
    seeds_file, seeds = few
    args = ("--augment", "ansaug,fobar,sv", "--min-correct", 1, "--max-tries", 3)
    with FakeOpenAIServer(AugmentModel(seeds, hard_level=5, hard_tries=2), models=["fake-math"]) as server:
        _build(server, seeds_file, tmp_path / "out", *args)
        first = read_jsonl(tmp_path / "out" / "instruct.jsonl")
        sent = len(server.requests)
        _build(server, seeds_file, tmp_path / "out", *args)
        assert len(server.requests) == sent  # every request of the rerun came from the cache
    again = read_jsonl(tmp_path / "out" / "instruct.jsonl")
    assert [(r["id"], r["answer"]) for r in again] == [(r["id"], r["answer"]) for r in first]


def test_seeds_without_a_gold_get_one_by_vote(tmp_path: Path, few: tuple[Path, list[SeedProblem]]) -> None:
    _, seeds = few
    a, b, c = seeds[2], seeds[3], seeds[7]
    rows = [{"id": s.id, "problem": s.problem, "level": s.level, "type": s.subject} for s in (a, b, c)]
    rows.append({"id": seeds[0].id, "problem": seeds[0].problem, "solution": seeds[0].solution})
    seeds_file = tmp_path / "seeds.jsonl"
    seeds_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    votes = {
        a.problem: [a.gold_answer, a.gold_answer, a.gold_answer, "99"],  # 3 of 4 agree
        b.problem: ["11", "12"],  # a tie
        c.problem: [c.gold_answer, "1", "2", "3"],  # 1 of 4: below the share asked for
    }
    model = AugmentModel(seeds, votes=votes)
    with FakeOpenAIServer(model, models=["fake-math"]) as server:
        _build(
            server,
            seeds_file,
            tmp_path / "out",
            "--gold",
            "majority",
            "--samples",
            4,
            "--min-agreement",
            0.6,
            "--augment",
            "rephrase,ansaug",
        )
    records = read_jsonl(tmp_path / "out" / "instruct.jsonl")
    voted = [r for r in records if r["seed_id"] == a.id]
    assert voted and all(
        r["meta"]["gold_from"] == "vote" and r["gold_answer"] == a.gold_answer for r in voted
    )
    kept = [r for r in records if r["seed_id"] == seeds[0].id]  # a seed with its own gold: no vote
    assert kept and all("gold_from" not in r["meta"] for r in kept)
    rejects = read_jsonl(tmp_path / "out" / "rejects.jsonl")
    minority = [r for r in rejects if r["reason"] == "minority_answer"]
    assert [(r["seed_id"], r["extracted_answer"]) for r in minority] == [(a.id, "99")]
    assert {r["seed_id"] for r in rejects if r["reason"] == "no_majority"} == {b.id, c.id}
    summary = read_summary(tmp_path / "out")
    assert summary.gold_vote == {"seeds": 3, "with_gold": 1, "solutions": 12, "agreeing": 3}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--min-correct", 20), "--min-correct (20) is more than --max-tries (16)"),
        (("--augment", "rephrase,backwards"), "augment"),
        (("--min-agreement", 1.5), "--min-agreement 1.5 is out of range"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path: Path, args: tuple[object, ...], says: str) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"problem": "What is $1+1$?", "solution": "$\\boxed{2}$"}) + "\n")
    code, output = invoke("build-instruct", "--seeds", seeds, "--out", tmp_path / "out", *args)
    assert code != 0 and says in output and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1, output


def test_backward_questions_go_through_the_gate(tmp_path: Path, few: tuple[Path, list[SeedProblem]]) -> None:
    seeds_file, seeds = few
    test_rows = [  # a benchmark of other problems (no ../shared needed): nothing matches, all is gated
        {"id": "b/0", "problem": "How many edges does a cube have?"},
        {"id": "b/1", "problem": "Find the area of a circle of radius $7$. Express it in terms of $\\pi$."},
        {"id": "b/2", "problem": "Solve for $y$: $5y - 3 = 12$."},
    ]
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps(r) + "\n" for r in test_rows))
    with FakeOpenAIServer(AugmentModel(seeds), models=["fake-math"]) as server:
        _build(
            server,
            seeds_file,
            tmp_path / "out",
            "--augment",
            "fobar,sv",
            "--benchmark",
            f"math_test={bench}",
            "--no-embeddings",
        )
    rows = read_jsonl(tmp_path / "out" / "contamination.jsonl")
    gated = {r["id"].split("/")[-2] for r in rows if r["kind"] == "question"}
    assert gated == {"fobar", "sv"}
    assert sum(r["kind"] == "seed" for r in rows) == 8


def test_shard_tasks_make_the_same_records(tmp_path: Path, few: tuple[Path, list[SeedProblem]]) -> None:
    """The kinds, the rounds and the vote are stages of the one pipeline: two shard tasks (local
    processes) write what one run writes."""
    seeds_file, seeds = few
    args = ("--augment", "rephrase,fobar", "--min-correct", 1, "--max-tries", 3)
    for out, more in (("one", ()), ("two", ("--tasks", 2))):  # a fresh fake each: it counts tries
        with FakeOpenAIServer(
            AugmentModel(seeds, hard_level=5, hard_tries=2), models=["fake-math"]
        ) as server:
            _build(server, seeds_file, tmp_path / out, *args, *more)
    one, two = (read_jsonl(tmp_path / d / "instruct.jsonl") for d in ("one", "two"))
    assert one and [(r["id"], r["answer"]) for r in two] == [(r["id"], r["answer"]) for r in one]
    s1, s2 = read_summary(tmp_path / "one"), read_summary(tmp_path / "two")
    assert s2.by_kind == s1.by_kind and s2.rounds == s1.rounds and s2.by_level == s1.by_level
