"""Crashes and faults lose nothing: kill -9 then rerun, flaky servers, and changed prompts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from synthmath import SeedProblem, build_instruct
from synthmath.cli import main
from synthmath.prompts import PromptSet
from synthmath.testing import FakeOpenAIServer

from .conftest import ROOT, invoke, read_jsonl
from .fakes import Faults, MathRephraser


def records_without_time(path: Path) -> list[dict[str, Any]]:
    rows = read_jsonl(path)
    for r in rows:
        r["meta"].pop("created_at")
    return rows


def body_key(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True)


def cli(*args: object) -> None:
    code, output = invoke(*args)
    assert code == 0, output


def test_kill_9_then_rerun_gives_the_clean_output(
    tmp_path: Path, math_seeds_file: Path, math_seeds: list[SeedProblem]
) -> None:
    common = ["--seeds", math_seeds_file, "--concurrency", "4", "--no-progress"]
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as clean_server:
        cli("build-instruct", *common, "--base-url", clean_server.url, "--out", tmp_path / "clean")
    clean = records_without_time(tmp_path / "clean" / "instruct.jsonl")
    total = len(clean_server.requests)

    out = tmp_path / "crash"
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"], latency=0.03) as server:
        args = ["build-instruct", *common, "--base-url", server.url, "--out", out]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "synthmath.cli", *map(str, args), "--no-contamination"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(server.requests) < total // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        first = len(server.requests)
        assert 0 < first < total
        assert not (out / "summary.json").exists()  # an unfinished run is recognisable
        assert (out / "instruct.jsonl.partial").exists()

        cli(*args)
        sent = [body_key(b) for b in server.requests]

    assert records_without_time(out / "instruct.jsonl") == clean
    assert json.loads((out / "summary.json").read_text())["finished"] is True
    repeated = sum(c - 1 for c in Counter(sent).values())
    assert repeated <= 4  # at most the requests in flight at the kill (--concurrency 4)
    assert len(set(sent)) == total


def test_faulty_server_gives_the_clean_output(math_seeds: list[SeedProblem]) -> None:
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as server:
        clean = [
            r.model_dump(exclude={"meta"})
            for r in build_instruct(math_seeds, base_url=server.url, contamination=False)
        ]
    faults = Faults(MathRephraser(math_seeds), error_rate=0.2, cut_rate=0.05, seed=3)
    with FakeOpenAIServer(faults, models=["m"]) as server:
        flaky = [
            r.model_dump(exclude={"meta"})
            for r in build_instruct(math_seeds, base_url=server.url, contamination=False, max_retries=12)
        ]
    assert faults.injected["500"] >= 10 and faults.injected["cut"] >= 2
    assert flaky == clean


def test_changing_one_prompt_resends_only_its_requests(
    tmp_path: Path, math_seeds_file: Path, math_seeds: list[SeedProblem]
) -> None:
    rephraser = MathRephraser(math_seeds)
    out = tmp_path / "out"
    with FakeOpenAIServer(rephraser, models=["m"]) as server:
        cli(
            "build-instruct",
            "--seeds",
            math_seeds_file,
            "--limit",
            10,
            "--base-url",
            server.url,
            "--out",
            out,
        )
        first = dict(rephraser.calls)
        cli(
            "build-instruct",
            "--seeds",
            math_seeds_file,
            "--limit",
            10,
            "--base-url",
            server.url,
            "--out",
            out,
        )
        assert rephraser.calls == first  # an identical rerun sends nothing

        prompts = tmp_path / "prompts"
        prompts.mkdir()
        for name in ("rephrase_question", "rephrase_answer", "solve"):
            text = PromptSet()[name].path.read_text()
            if name == "rephrase_answer":
                text = text.replace("Show each step;", "Show every step;")
            (prompts / name).with_suffix(".yaml").write_text(text)
        args = ["--seeds", math_seeds_file, "--limit", 10, "--base-url", server.url, "--out", out]
        cli("build-instruct", *args, "--prompts-dir", prompts)
    assert rephraser.calls["question"] == first["question"]
    assert rephraser.calls["answer"] == 2 * first["answer"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["engine"]["cache_hits"] == first["question"]


def test_shards_cover_every_seed_once_and_merge(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    common = ["--seeds", math_seeds_file, "--base-url", server.url, "--no-progress"]
    cli("build-dpo", *common, "--out", tmp_path / "whole")
    for i in range(3):
        cli("build-dpo", *common, "--shard", f"{i}/3", "--out", tmp_path / f"s{i}")
    shard_seeds = [
        json.loads((tmp_path / f"s{i}" / "summary.json").read_text())["seeds"]["processed"] for i in range(3)
    ]
    assert sum(shard_seeds) == 40 and min(shard_seeds) > 0

    missing = CliRunner().invoke(
        main, ["merge", str(tmp_path / "s0"), str(tmp_path / "s2"), "--out", str(tmp_path / "m")]
    )
    assert missing.exit_code != 0 and "missing shard(s) 1/3" in missing.output
    twice = CliRunner().invoke(
        main, ["merge", str(tmp_path / "s0"), str(tmp_path / "s0"), "--out", str(tmp_path / "m")]
    )
    assert twice.exit_code != 0 and "given twice" in twice.output

    cli("merge", tmp_path / "s2", tmp_path / "s0", tmp_path / "s1", "--out", tmp_path / "merged")
    whole = records_without_time(tmp_path / "whole" / "dpo.jsonl")
    merged = records_without_time(tmp_path / "merged" / "dpo.jsonl")
    assert sorted(merged, key=lambda r: r["id"]) == sorted(whole, key=lambda r: r["id"])
    summary = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert summary["records"] == len(whole) and summary["seeds"]["processed"] == 40

    shards = [str(tmp_path / f"s{i}") for i in range(3)]
    into_shard = CliRunner().invoke(main, ["merge", *shards, "--out", shards[0]])
    assert into_shard.exit_code != 0 and "is one of the shards" in into_shard.output
    # the same seeds under another path: the same run; other seed contents: refused, naming the field
    moved = tmp_path / "elsewhere" / "seeds.jsonl"
    moved.parent.mkdir()
    moved.write_bytes(math_seeds_file.read_bytes())
    cli("build-dpo", *common[2:], "--seeds", moved, "--shard", "1/3", "--out", tmp_path / "s1-moved")
    cli("merge", shards[0], tmp_path / "s1-moved", shards[2], "--out", tmp_path / "merged-moved")
    changed = tmp_path / "changed.jsonl"
    rows = [json.loads(line) for line in math_seeds_file.read_text().splitlines()]
    rows[0]["solution"] += " "  # other contents, the same problems
    changed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cli("build-dpo", *common[2:], "--seeds", changed, "--shard", "1/3", "--out", tmp_path / "s1-changed")
    other = CliRunner().invoke(
        main, ["merge", shards[0], str(tmp_path / "s1-changed"), shards[2], "--out", str(tmp_path / "x")]
    )
    assert other.exit_code != 0 and "seed_revision" in other.output
