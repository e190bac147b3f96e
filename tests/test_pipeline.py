"""The streaming pipeline's contracts: the gate runs before generation (CLI and library alike), a failing
server never looks like success, and an earlier build is replaced only by a finished one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthmath import (
    BenchmarkUnavailableError,
    BuildFailedError,
    Reject,
    SeedProblem,
    build_dpo,
    read_summary,
)
from synthmath.cli import main
from synthmath.testing import FakeOpenAIServer, HTTPFailure

from .conftest import DATA, need_data, read_jsonl
from .fakes import MathRephraser

MATH_TEST = DATA / "math" / "MATH_test.jsonl"


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[Path, Path, list[SeedProblem], list[str]]:
    """30 MATH train seeds and 10 MATH test problems in one seeds file, and a benchmark file of 300
    MATH test items that holds the 10."""
    need_data()
    train = read_jsonl(DATA / "math" / "MATH_train.jsonl")[::250][:30]
    test = read_jsonl(MATH_TEST)
    leaked = test[::97][:10]
    seeds_path = tmp_path / "seeds.jsonl"
    rows = train[:15] + leaked + train[15:]
    seeds_path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    bench = tmp_path / "math_test.jsonl"
    bench_rows = test[::16][:290] + leaked
    bench.write_text("".join(json.dumps(r) + "\n" for r in bench_rows), encoding="utf-8")
    from synthmath.seeds import load_seeds

    seeds = list(load_seeds(str(seeds_path)))
    return seeds_path, bench, seeds, [r["problem"] for r in leaked]


def _leaks(server: FakeOpenAIServer, problems: list[str]) -> list[str]:
    sent = [json.dumps(b, ensure_ascii=False) for b in server.requests]
    return [p for p in problems if any(json.dumps(p, ensure_ascii=False)[1:-1] in body for body in sent)]


def test_gate_runs_before_generation_cli(
    tmp_path: Path, mixed: tuple[Path, Path, list[SeedProblem], list[str]]
) -> None:
    seeds_path, bench, seeds, leaked = mixed
    with FakeOpenAIServer(MathRephraser(seeds, wrong_rate=0.0), models=["fake-math"]) as server:
        out = tmp_path / "out"
        result = CliRunner().invoke(
            main,
            [
                "build-dpo",
                "--seeds",
                str(seeds_path),
                "--base-url",
                server.url,
                "--out",
                str(out),
                "--benchmark",
                f"math_test={bench}",
                "--no-embeddings",
                "--no-progress",
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        assert server.requests and not _leaks(server, leaked)
    rejects = [Reject.model_validate(r) for r in read_jsonl(out / "rejects.jsonl")]
    contaminated = {r.text for r in rejects if r.reason == "contaminated_seed"}
    assert set(leaked) <= contaminated
    assert all(
        r.extra["matches"][0]["benchmark"] == "math_test" for r in rejects if r.reason == "contaminated_seed"
    )
    summary = read_summary(out)
    assert summary.contamination is not None
    assert summary.contamination.seeds_checked == 40
    assert summary.contamination.seeds_contaminated == summary.seeds.contaminated >= 10
    rows = read_jsonl(out / "contamination.jsonl")
    assert {r["kind"] for r in rows} == {"seed", "question"}
    assert (out / "contamination_report.md").is_file()


def test_gate_runs_before_generation_library(mixed: tuple[Path, Path, list[SeedProblem], list[str]]) -> None:
    _, bench, seeds, leaked = mixed
    rejects: list[Reject] = []
    with FakeOpenAIServer(MathRephraser(seeds, wrong_rate=0.0), models=["fake-math"]) as server:
        records = list(
            build_dpo(
                seeds,
                base_url=server.url,
                benchmarks=[f"math_test={bench}"],
                embeddings=False,
                on_reject=rejects.append,
            )
        )
        assert records and not _leaks(server, leaked)
    assert set(leaked) <= {r.text for r in rejects if r.reason == "contaminated_seed"}
    assert not {r.seed_id for r in records} & {r.seed_id for r in rejects if r.reason == "contaminated_seed"}


def test_library_gate_is_on_by_default(math_seeds: list[SeedProblem]) -> None:
    """No benchmark given and none reachable: the library refuses rather than hand back ungated data."""
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["fake-math"]) as server:
        with pytest.raises(BenchmarkUnavailableError, match="benchmark"):
            list(build_dpo(math_seeds[:2], base_url=server.url))
        assert not [b for b in server.requests if b.get("messages")]


def test_all_500_fails_and_keeps_earlier_output(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    out = tmp_path / "out"
    args = ["build-instruct", "--seeds", str(math_seeds_file), "--out", str(out), "--no-contamination"]
    args.append("--no-progress")
    ok = CliRunner().invoke(main, [*args, "--base-url", server.url, "--limit", "5"], catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    with FakeOpenAIServer(lambda body: HTTPFailure(500, "engine crashed"), models=["fake-math"]) as broken:
        result = CliRunner().invoke(
            main,
            [*args, "--base-url", broken.url, "--max-retries", "1", "--no-cache"],
            catch_exceptions=False,
        )
    assert result.exit_code != 0
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "engine crashed" in errors[0] and "Traceback" not in result.output
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.endswith(".partial")}
    assert after == before
    partial = json.loads((out / "summary.json.partial").read_text())
    assert partial["finished"] is False and "engine crashed" in partial["failure"]


def test_all_500_library_raises(math_seeds: list[SeedProblem]) -> None:
    with (
        FakeOpenAIServer(lambda body: HTTPFailure(503, "overloaded"), models=["m"]) as broken,
        pytest.raises(BuildFailedError, match="overloaded"),
    ):
        list(build_dpo(math_seeds, base_url=broken.url, max_retries=0, contamination=False))


def test_each_step_has_its_own_sampling(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    out = tmp_path / "out"
    args = ["build-instruct", "--seeds", str(math_seeds_file), "--limit", "3", "--base-url", server.url]
    args += [
        "--out",
        str(out),
        "--no-contamination",
        "--question-temperature",
        "1.1",
        "--answer-max-tokens",
        "77",
    ]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    questions = [b for b in server.requests if b["n"] == 2]
    answers = [b for b in server.requests if b["n"] == 1]
    assert questions and answers
    assert {(b["temperature"], b["max_tokens"]) for b in questions} == {(1.1, 1024)}
    assert {(b["temperature"], b["max_tokens"]) for b in answers} == {(0.7, 77)}
    summary = read_summary(out)
    assert summary.config["question_sampling"]["temperature"] == 1.1


def test_a_prompt_longer_than_the_context_is_never_sent(math_seeds: list[SeedProblem]) -> None:
    huge = math_seeds[0].model_copy(update={"id": "huge", "problem": "Compute $1+1$. " + "x" * 200_000})
    rejects: list[Reject] = []
    with FakeOpenAIServer(
        MathRephraser([huge, *math_seeds[1:4]]), models=["m"], max_model_len=8192
    ) as server:
        records = list(
            build_dpo(
                [huge, *math_seeds[1:4]], base_url=server.url, contamination=False, on_reject=rejects.append
            )
        )
        assert records and not any("x" * 1000 in json.dumps(b) for b in server.requests)
    too_long = [r for r in rejects if r.reason == "prompt_too_long"]
    assert [r.seed_id for r in too_long] == ["huge"] and "8192" in too_long[0].detail


def test_progress_counts_seeds_whose_output_is_written(
    server: FakeOpenAIServer, math_seeds: list[SeedProblem]
) -> None:
    import asyncio

    from synthmath import BuildConfig
    from synthmath.build import stream_build

    cfg = BuildConfig.load(base_url=server.url, contamination=False, concurrency=8)

    async def run() -> list[tuple[int, int]]:
        seen: list[str] = []
        marks = []
        async for pipeline, item in stream_build("instruct", cfg, math_seeds):
            seed_id = json.loads(item.line)["seed_id"]
            if seed_id not in seen:
                seen.append(seed_id)
            marks.append((pipeline.stats.seeds_finished, len(seen)))
        return marks

    marks = asyncio.run(run())
    assert marks and all(done < seen for done, seen in marks)  # the current seed is not yet counted
    assert marks[-1][1] == len(math_seeds)


def test_a_system_prompt_replaces_the_prompt_files_own(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    out = tmp_path / "out"
    args = ["build-instruct", "--seeds", str(math_seeds_file), "--limit", "2", "--base-url", server.url]
    args += ["--out", str(out), "--no-contamination", "--system-prompt", "You are terse."]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert server.requests and all(
        b["messages"][0] == {"role": "system", "content": "You are terse."}
        and sum(m["role"] == "system" for m in b["messages"]) == 1
        for b in server.requests
    )
    assert read_summary(out).config["system_prompt"] == "You are terse."


def test_progress_lines_keep_coming_while_no_seed_finishes(
    tmp_path: Path, math_seeds_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off a terminal, a plain line every interval even while the only seed is still being generated;
    none of them counts the seed before its output is written."""
    import re

    from synthmath.testing import FakeOpenAIServer

    monkeypatch.setenv("SYNTHMATH_PROGRESS_INTERVAL", "0.3")
    with FakeOpenAIServer(latency=1.5, models=["m"]) as slow:
        args = ["build-instruct", "--seeds", str(math_seeds_file), "--limit", "1", "--base-url", slow.url]
        args += ["--out", str(tmp_path / "out"), "--no-contamination", "--progress"]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = re.findall(
        r"synthmath: seeds done (\d+)/1 \| (\d+) in flight \| kept 0 \| rejected (\d+)", result.output
    )
    waiting = [line for line in found if line == ("0", "1", "0")]
    assert len(waiting) >= 3  # a 1.5 s request (the echoed question is a copy: no answer step)
    written = len(read_jsonl(tmp_path / "out" / "rejects.jsonl"))
    assert written and found[-1] == ("1", "0", str(written))  # the last line: what the files hold


def test_a_progress_interval_that_is_not_a_number_is_a_one_line_error(
    tmp_path: Path, math_seeds_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNTHMATH_PROGRESS_INTERVAL", "often")
    args = ["build-instruct", "--seeds", str(math_seeds_file), "--limit", "1", "--base-url", "http://x/v1"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out"), "--no-contamination"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: SYNTHMATH_PROGRESS_INTERVAL='often' is not a number")
