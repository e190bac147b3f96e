"""A fault server's replies, through the CLI and the library: a 200 that holds nothing usable is a failed
request (retried, then a reject with its reason), every candidate is counted as a record or a reject, and
a build that made nothing for such reasons fails in one line with the cause and the fix."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from synthmath import BuildFailedError, SeedProblem, ServerError, build_instruct
from synthmath.testing import FakeOpenAIServer, RawReply, Reply

from .conftest import invoke, read_jsonl
from .fakes import MathRephraser
from .faults import FaultyReplies, one_error_line


def build(kind: str, seeds: Path, url: str, out: Path, *extra: object) -> tuple[int, str]:
    return invoke(
        f"build-{kind}",
        "--seeds",
        seeds,
        "--base-url",
        url,
        "--out",
        out,
        "--no-progress",
        "--no-cache",
        *extra,
    )


def failed_build(out: Path) -> dict[str, Any]:
    """The partial summary of a build that failed: no summary.json, finished false, a failure."""
    assert not (out / "summary.json").exists()
    partial = json.loads((out / "summary.json.partial").read_text())
    assert partial["finished"] is False and partial["failure"]
    return partial


@pytest.mark.parametrize(
    ("kind", "fault", "said"),
    [
        ("instruct", "no_choices", "a 200 reply with no choices"),
        ("dpo", "no_choices", "a 200 reply with no choices"),
        ("instruct", "null_content", "none with content (null)"),
    ],
)
def test_a_200_with_nothing_in_it_is_a_failed_request(
    tmp_path: Path, math_seeds_file: Path, kind: str, fault: str, said: str
) -> None:
    faulty = FaultyReplies(lambda body: "unused", {fault: 1.0})
    out = tmp_path / "out"
    with FakeOpenAIServer(faulty, models=["m"]) as s:
        line = one_error_line(*build(kind, math_seeds_file, s.url, out, "--limit", 3, "--max-retries", 1))
    assert said in line and "failed" in line and "chat template" in line
    assert faulty.injected[fault] == 3 * 2  # each question request, sent again once
    assert said in failed_build(out)["failure"]
    rejects = read_jsonl(out / "rejects.jsonl.partial")  # every candidate asked for, each with its reason
    assert [(r["reason"], r["extra"]["sample"]) for r in rejects] == [
        ("empty_reply", 0),
        ("empty_reply", 1),
    ] * 3


def test_every_candidate_is_a_record_or_a_reject_under_faults(
    tmp_path: Path, math_seeds_file: Path, math_seeds: list[SeedProblem]
) -> None:
    """30% of replies broken in four ways: retries recover them (the counts match a clean run's); with no
    retries, each candidate they cost is a reject with its reason, and the counts still add up."""
    seeds = math_seeds[:12]
    rephraser = MathRephraser(seeds, wrong_rate=0.3)
    faults = {"no_choices": 0.1, "null_content": 0.1, "not_json": 0.05, "cut_mid_body": 0.05}
    summaries, rejects = {}, {}
    for name, handler, retries in (
        ("clean", rephraser, 5),
        ("retried", FaultyReplies(rephraser, faults, seed=3), 5),
        ("unretried", FaultyReplies(rephraser, faults, seed=3), 0),
    ):
        out = tmp_path / name
        with FakeOpenAIServer(handler, models=["m"]) as s:
            code, output = build(
                "instruct", math_seeds_file, s.url, out, "--limit", 12, "--max-retries", retries
            )
        assert code == 0, output
        summary = summaries[name] = json.loads((out / "summary.json").read_text())
        q, a = summary["questions"], summary["answers"]
        assert q["candidates"] == 12 * 2 == q["kept"] + sum(q["rejected_by_reason"].values())
        assert a["candidates"] == q["kept"] == a["kept"] + sum(a["rejected_by_reason"].values())
        rejects[name] = read_jsonl(out / "rejects.jsonl")
        assert summary["records"] == len(read_jsonl(out / "instruct.jsonl")) == a["kept"]
        assert summary["rejects"] == len(rejects[name])
    for part in ("questions", "answers"):
        assert summaries["retried"][part] == summaries["clean"][part]
    lost = [r for r in rejects["unretried"] if r["reason"] in ("empty_reply", "bad_reply", "request_error")]
    assert {r["reason"] for r in lost} == {"empty_reply", "bad_reply", "request_error"}
    assert all(r["detail"].startswith("failed after 0 retries: ") for r in lost)


def test_replies_missing_from_n_are_rejects(math_seeds: list[SeedProblem]) -> None:
    """A server that sends one choice whatever n asks, and a null content when asked again."""
    rephraser = MathRephraser(math_seeds[:2])
    problems = {seed.problem.strip() for seed in math_seeds[:2]}

    def one_choice(body: dict[str, Any]) -> Any:
        reply = rephraser(body)
        if body["messages"][-1]["content"].strip() not in problems:
            return reply  # an answer request
        first = reply.texts[0] if body["n"] == 2 else None
        return Reply([first, *[None] * (body["n"] - 1)])

    rejects: list[Any] = []
    with FakeOpenAIServer(one_choice, models=["m"]) as s:
        records = list(
            build_instruct(
                math_seeds[:2], base_url=s.url, contamination=False, max_retries=0, on_reject=rejects.append
            )
        )
    missing = [r for r in rejects if r.reason == "empty_reply"]
    assert [(r.stage, r.extra["sample"]) for r in missing] == [("question", 1), ("question", 1)]
    assert "returned 1 of the 2 replies asked for" in missing[0].detail
    assert "content (null)" in missing[0].detail
    assert records


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (
            (),
            "every question reply was cut off at --max-tokens 400 (6 of 6 question candidates) - "
            "raise --max-tokens",
        ),
        (
            ("--question-max-tokens", 300),
            "every question reply was cut off at --question-max-tokens 300 (6 of 6 question candidates) - "
            "raise --question-max-tokens",
        ),
    ],
)
def test_every_reply_cut_off_fails_and_says_raise_max_tokens(
    tmp_path: Path, math_seeds_file: Path, math_seeds: list[SeedProblem], flags: tuple[object, ...], said: str
) -> None:
    faulty = FaultyReplies(MathRephraser(math_seeds), {"cut_off": 1.0})
    out = tmp_path / "out"
    with FakeOpenAIServer(faulty, models=["m"]) as s:
        code, output = build(
            "instruct", math_seeds_file, s.url, out, "--limit", 3, "--max-tokens", 400, *flags
        )
    assert one_error_line(code, output) == said
    assert failed_build(out)["failure"].startswith("every question reply was cut off at ")


def test_every_answer_cut_off_names_the_answer_step(math_seeds: list[SeedProblem]) -> None:
    rephraser = MathRephraser(math_seeds[:3])

    def answers_cut(body: dict[str, Any]) -> Any:
        reply = rephraser(body)
        if body["max_tokens"] == 64:  # the answer step's requests
            reply.finish_reasons = ["length"] * len(reply.texts)
        return reply

    with (
        FakeOpenAIServer(answers_cut, models=["m"]) as s,
        pytest.raises(BuildFailedError) as caught,
    ):
        list(
            build_instruct(
                math_seeds[:3], base_url=s.url, contamination=False, answer_sampling={"max_tokens": 64}
            )
        )
    assert str(caught.value).startswith("every answer reply was cut off at answer_sampling.max_tokens=64 (")
    assert str(caught.value).endswith("- raise answer_sampling.max_tokens")


def test_every_reply_empty_fails(tmp_path: Path, math_seeds_file: Path) -> None:
    out = tmp_path / "out"
    with FakeOpenAIServer(FaultyReplies(None, {"empty_text": 1.0}), models=["m"]) as s:
        line = one_error_line(*build("instruct", math_seeds_file, s.url, out, "--limit", 3))
    assert line.startswith("every question reply was empty (6 of 6 candidates) - ")
    assert "--model" in line
    failed_build(out)


def test_a_body_that_is_not_json_names_the_base_url(tmp_path: Path, math_seeds_file: Path) -> None:
    with FakeOpenAIServer(FaultyReplies(None, {"not_json": 1.0}), models=["m"]) as s:
        line = one_error_line(
            *build("instruct", math_seeds_file, s.url, tmp_path / "o", "--limit", 2, "--max-retries", 0)
        )
    assert "a 200 reply whose body is not JSON: '<html><body><h1>502 Bad Gateway" in line
    assert "--base-url" in line and "Expecting value" not in line


def test_a_connection_closed_mid_body_is_not_a_missing_server(tmp_path: Path, math_seeds_file: Path) -> None:
    with FakeOpenAIServer(FaultyReplies(None, {"cut_mid_body": 1.0}), models=["m"]) as s:
        line = one_error_line(
            *build("instruct", math_seeds_file, s.url, tmp_path / "o", "--limit", 2, "--max-retries", 0)
        )
    assert "closed the connection before its reply was complete" in line
    assert "no server" not in line and "vllm serve" not in line


def test_a_models_list_that_never_answers_is_said_within_the_timeout(
    tmp_path: Path, math_seeds_file: Path
) -> None:
    stuck = threading.Event()
    with FakeOpenAIServer(models=["m"], models_reply=lambda: stuck.wait(30) and None) as s:
        url = s.url
        started = time.monotonic()
        line = one_error_line(*build("instruct", math_seeds_file, s.url, tmp_path / "o", "--timeout", 1))
        took = time.monotonic() - started
        stuck.set()
    assert line.startswith(f"{url}/models did not answer within 1 s: the server accepts connections")
    assert "--base-url" in line and took < 10


def test_a_request_that_hangs_times_out_with_the_timeout_named(math_seeds: list[SeedProblem]) -> None:
    faulty = FaultyReplies(None, {"hang": 1.0})
    with FakeOpenAIServer(faulty, models=["m"]) as s:
        try:
            with pytest.raises(BuildFailedError, match=r"no reply within the 1 s timeout"):
                list(
                    build_instruct(
                        math_seeds[:1], base_url=s.url, contamination=False, timeout=1, max_retries=0
                    )
                )
        finally:
            faulty.release()


def test_a_models_list_that_is_not_one(math_seeds: list[SeedProblem]) -> None:
    with (
        FakeOpenAIServer(models=["m"], models_reply=lambda: RawReply(b"It works!")) as s,
        pytest.raises(ServerError, match=r"/models answered with something that is not a model list"),
    ):
        list(build_instruct(math_seeds[:1], base_url=s.url, contamination=False))
