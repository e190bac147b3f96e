"""The Ray executor against the fake OpenAI-compatible server, on one local Ray (``num_cpus=2``) shared
by every test here: the same output as the local executor, a killed worker changes nothing, and a
cancelled run resumed re-sends at most ``concurrency`` requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from synthmath import SeedProblem, read_summary
from synthmath.cli import main
from synthmath.seeds import load_seeds
from synthmath.testing import FakeOpenAIServer

from .conftest import DATA, ROOT, need_data, read_jsonl
from .fakes import MathRephraser

ray = pytest.importorskip("ray", reason="needs synthmath[ray]")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """One local Ray for the session (starting one takes several seconds)."""
    ray.init(num_cpus=2, log_to_driver=False, logging_level="WARNING", include_dashboard=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def gated(tmp_path: Path) -> tuple[Path, Path, list[SeedProblem]]:
    """24 MATH train seeds with 4 MATH test problems among them, a repeated id and a row without an
    answer; and a benchmark file of MATH test items that holds the 4."""
    need_data()
    train = read_jsonl(DATA / "math" / "MATH_train.jsonl")[::301][:20]
    test = read_jsonl(DATA / "math" / "MATH_test.jsonl")
    leaked = test[::211][:4]
    broken = {**train[3], "solution": "no boxed answer here"}
    rows = train[:10] + leaked + [train[2], broken] + train[10:]
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps(r) + "\n" for r in test[::40][:100] + leaked), encoding="utf-8")
    return seeds, bench, list(load_seeds(str(seeds)))


def build(*args: object) -> None:
    result = CliRunner().invoke(main, ["build-dpo", "--no-progress", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def without_time(path: Path) -> list[dict[str, Any]]:
    rows = read_jsonl(path)
    for r in rows:
        r.get("meta", {}).pop("created_at", None)
    return rows


def counts(out: Path) -> dict[str, Any]:
    s = read_summary(out)
    gate = s.contamination.model_dump() if s.contamination is not None else None
    keep = ("seeds", "questions", "answers", "records", "rejects", "by_subject", "by_level", "prompt_hashes")
    return {**s.model_dump(include=set(keep)), "gate": gate, "model": s.model}


def test_ray_output_equals_local(
    ray_cluster: Any, tmp_path: Path, gated: tuple[Path, Path, list[SeedProblem]]
) -> None:
    seeds, bench, problems = gated
    common = ["--seeds", seeds, "--benchmark", f"math_test={bench}", "--no-embeddings", "--concurrency", 8]
    with FakeOpenAIServer(MathRephraser(problems), models=["fake-math"]) as server:
        build(*common, "--base-url", server.url, "--out", tmp_path / "local")
        local_sent = len(server.requests)
        build(*common, "--base-url", server.url, "--out", tmp_path / "ray", "--executor", "ray")
        assert len(server.requests) == 2 * local_sent  # no request twice, none for a contaminated seed
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert without_time(remote / "dpo.jsonl") == without_time(local / "dpo.jsonl")
    assert read_jsonl(remote / "rejects.jsonl") == read_jsonl(local / "rejects.jsonl")
    assert read_jsonl(remote / "contamination.jsonl") == read_jsonl(local / "contamination.jsonl")
    assert counts(remote) == counts(local)
    reasons = Counter(r["reason"] for r in read_jsonl(remote / "rejects.jsonl"))
    assert reasons["contaminated_seed"] == 4 and reasons["duplicate_id"] == 1
    engine = read_summary(remote).engine
    assert engine["executor"] == "ray" and engine["requests"] == local_sent
    assert {"questions (LLM)", "answers (LLM)", "answers (CPU)"} <= set(engine["stages"])


def _stage_pids(name: str) -> list[int]:
    """This session's Ray workers running the actor class ``name`` (Ray titles its workers after it)."""
    raylet = ray._private.worker.global_worker.node.all_processes["raylet"][0].process.pid
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if f"MapBatches({name})" in cmdline and ppid == raylet:
                pids.append(int(proc.name))
    return pids


def test_killed_worker_changes_nothing(
    ray_cluster: Any, tmp_path: Path, math_seeds: list[SeedProblem]
) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(s.model_dump_json() + "\n" for s in math_seeds[:24]), encoding="utf-8")
    common = ["--seeds", seeds, "--no-contamination", "--concurrency", 4]
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as server:
        build(*common, "--base-url", server.url, "--out", tmp_path / "clean")
        total = len(server.requests)
    killed: list[int] = []
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"], latency=0.05) as server:

        def kill_midway() -> None:
            deadline = time.monotonic() + 120
            while len(server.requests) < total // 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            for pid in _stage_pids("LLMStage")[:1]:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        killer = threading.Thread(target=kill_midway)
        killer.start()
        build(*common, "--base-url", server.url, "--out", tmp_path / "killed", "--executor", "ray")
        killer.join()
    assert killed, "no Ray worker was running the LLM stage"
    assert without_time(tmp_path / "killed" / "dpo.jsonl") == without_time(tmp_path / "clean" / "dpo.jsonl")
    assert read_jsonl(tmp_path / "killed" / "rejects.jsonl") == read_jsonl(
        tmp_path / "clean" / "rejects.jsonl"
    )
    assert counts(tmp_path / "killed") == counts(tmp_path / "clean")


def test_cancelled_run_resumed_resends_at_most_concurrency(
    ray_cluster: Any, tmp_path: Path, math_seeds: list[SeedProblem]
) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(s.model_dump_json() + "\n" for s in math_seeds[:30]), encoding="utf-8")
    out, concurrency = tmp_path / "out", 4
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"], latency=0.05) as server:
        args = ["build-dpo", "--seeds", seeds, "--no-contamination", "--concurrency", concurrency]
        args += ["--base-url", server.url, "--out", out, "--executor", "ray", "--no-progress"]
        address = ray.get_runtime_context().gcs_address  # the run joins this session's Ray: no start-up
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "synthmath.cli", *map(str, args), "--ray-address", address],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while len(server.requests) < 40 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        first = [json.dumps(b, sort_keys=True) for b in server.requests]
        assert proc.returncode == 130, err.decode()[-2000:]
        assert not (out / "summary.json").exists()
        build(*args[1:])
        second = [json.dumps(b, sort_keys=True) for b in server.requests[len(first) :]]
    assert second and len(first) >= 40
    resent = sum(1 for body in set(second) if body in set(first))
    assert resent <= concurrency
    assert read_summary(out).finished and read_summary(out).records > 0


def test_check_contamination_on_ray_flags_as_local(ray_cluster: Any, tmp_path: Path) -> None:
    need_data()
    test = read_jsonl(DATA / "math" / "MATH_test.jsonl")
    train = read_jsonl(DATA / "math" / "MATH_train.jsonl")[::97][:60]
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps(r) + "\n" for r in test[::25][:200]), encoding="utf-8")
    rows = [{"id": f"train-{i}", "problem": r["problem"]} for i, r in enumerate(train)]
    rows += [{"id": f"copy-{i}", "problem": r["problem"]} for i, r in enumerate(test[::250][:8])]
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    reports = {}
    for executor in ("local", "ray"):
        args = [
            "check-contamination",
            data,
            "--out",
            tmp_path / executor,
            "--benchmark",
            f"math_test={bench}",
        ]
        args += [
            "--no-embeddings",
            "--cache-dir",
            tmp_path / "cache",
            "--no-progress",
            "--executor",
            executor,
        ]
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        reports[executor] = json.loads((tmp_path / executor / "contamination_report.json").read_text())
    assert read_jsonl(tmp_path / "ray" / "contamination.jsonl") == read_jsonl(
        tmp_path / "local" / "contamination.jsonl"
    )
    flagged = {r["id"] for r in read_jsonl(tmp_path / "ray" / "contamination.jsonl") if r["contaminated"]}
    assert {f"copy-{i}" for i in range(8)} <= flagged
    for key in ("checked", "contaminated", "found", "examples", "stages"):
        assert reports["ray"][key] == reports["local"][key]
