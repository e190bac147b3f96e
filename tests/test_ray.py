"""Shard tasks on Ray (and as local processes) against the fake OpenAI-compatible server, on one local
Ray (``num_cpus=2``) shared by every test here: the merged output equals one process's, line for line;
``--concurrency`` is a ceiling for the whole run; a killed task worker and a cancelled run cost only
what was in flight; finished tasks are skipped on a rerun; every feature runs in the tasks."""

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
    ray.init(
        address="local", num_cpus=2, log_to_driver=False, logging_level="WARNING", include_dashboard=False
    )
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


def build(*args: object) -> str:
    result = CliRunner().invoke(main, ["build-dpo", "--no-progress", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


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


def same_output(a: Path, b: Path) -> None:
    assert without_time(a / "dpo.jsonl") == without_time(b / "dpo.jsonl")
    assert read_jsonl(a / "rejects.jsonl") == read_jsonl(b / "rejects.jsonl")
    assert counts(a) == counts(b)


def seeds_file(tmp_path: Path, seeds: list[SeedProblem], n: int) -> Path:
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(s.model_dump_json() + "\n" for s in seeds[:n]), encoding="utf-8")
    return path


def test_ray_output_equals_local(
    ray_cluster: Any, tmp_path: Path, gated: tuple[Path, Path, list[SeedProblem]]
) -> None:
    seeds, bench, problems = gated
    common = ["--seeds", seeds, "--benchmark", f"math_test={bench}", "--no-embeddings", "--concurrency", 8]
    with FakeOpenAIServer(MathRephraser(problems), models=["fake-math"]) as server:
        build(*common, "--base-url", server.url, "--out", tmp_path / "local")
        local_sent = len(server.requests)
        build(*common, "--base-url", server.url, "--out", tmp_path / "ray", "--executor", "ray", "--tasks", 3)
        assert len(server.requests) == 2 * local_sent  # no request twice, none for a contaminated seed
    local, remote = tmp_path / "local", tmp_path / "ray"
    same_output(remote, local)
    assert read_jsonl(remote / "contamination.jsonl") == read_jsonl(local / "contamination.jsonl")
    reasons = Counter(r["reason"] for r in read_jsonl(remote / "rejects.jsonl"))
    assert reasons["contaminated_seed"] == 4 and reasons["duplicate_id"] == 1
    summary = read_summary(remote)
    assert summary.engine["executor"] == "ray" and summary.engine["tasks"] == 3
    assert summary.engine["requests"] == local_sent
    plan = json.loads((remote / "shards" / "plan.json").read_text())
    assert [t["stop"] - t["start"] for t in plan["tasks"]] == [9, 8, 9]  # 26 rows, in three slices
    for k in range(3):  # each task wrote its own folder: records, rejects, cache, done marker
        task = remote / "shards" / f"{k:05d}"
        assert read_summary(task).finished and (task / "cache" / "requests.sqlite").is_file()


class InFlight:
    """A MathRephraser that takes ``delay`` seconds per reply and records the most replies in flight."""

    def __init__(self, seeds: list[SeedProblem], delay: float) -> None:
        self.inner, self.delay = MathRephraser(seeds), delay
        self.now = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Any:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.delay)
            return self.inner(request)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("executor", ["ray", "local"])
def test_concurrency_is_a_ceiling_for_the_whole_run(
    ray_cluster: Any, tmp_path: Path, math_seeds: list[SeedProblem], executor: str
) -> None:
    seeds = seeds_file(tmp_path, math_seeds, 16)
    handler = InFlight(math_seeds, 0.05)
    with FakeOpenAIServer(handler, models=["m"]) as server:
        build("--seeds", seeds, "--no-contamination", "--base-url", server.url, "--out", tmp_path / "out")
        build("--seeds", seeds, "--no-contamination", "--base-url", server.url, "--out", tmp_path / executor)
        handler.most = 0
        build(
            *("--seeds", seeds, "--no-contamination", "--base-url", server.url, "--concurrency", 3),
            *("--out", tmp_path / f"{executor}-3", "--executor", executor, "--tasks", 4, "--no-cache"),
        )
    assert 1 <= handler.most <= 3
    same_output(tmp_path / f"{executor}-3", tmp_path / "out")
    engine = read_summary(tmp_path / f"{executor}-3").engine
    assert engine["parallel_tasks"] * engine["concurrency_per_task"] <= 3


def test_solve_check_runs_in_the_tasks(
    ray_cluster: Any, tmp_path: Path, math_seeds: list[SeedProblem]
) -> None:
    seeds = seeds_file(tmp_path, math_seeds, 8)
    args = ["--seeds", seeds, "--no-contamination", "--check-questions", "solve", "--solve-check-samples", 2]
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as server:
        build(*args, "--base-url", server.url, "--out", tmp_path / "local")
        build(*args, "--base-url", server.url, "--out", tmp_path / "ray", "--executor", "ray")
    same_output(tmp_path / "ray", tmp_path / "local")
    tokens = read_summary(tmp_path / "ray").tokens
    assert tokens.solve_check_completion == read_summary(tmp_path / "local").tokens.solve_check_completion > 0


def _task_pids() -> list[int]:
    """This session's Ray workers running a shard task (Ray titles a worker after its task)."""
    raylet = ray._private.worker.global_worker.node.all_processes["raylet"][0].process.pid
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if "ray::run_task" in cmdline and ppid == raylet:
                pids.append(int(proc.name))
    return pids


def test_killed_task_worker_changes_nothing(
    ray_cluster: Any, tmp_path: Path, math_seeds: list[SeedProblem]
) -> None:
    seeds = seeds_file(tmp_path, math_seeds, 24)
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
            for pid in _task_pids()[:1]:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        killer = threading.Thread(target=kill_midway)
        killer.start()
        build(*common, "--base-url", server.url, "--out", tmp_path / "killed", "--executor", "ray")
        killer.join()
        sent = len(server.requests)
    assert killed, "no Ray worker was running a shard task"
    same_output(tmp_path / "killed", tmp_path / "clean")
    assert sent <= total + 4  # the rerun task resumed from its cache: only what was in flight went again


def test_cancelled_run_resumed_resends_at_most_concurrency(
    ray_cluster: Any, tmp_path: Path, math_seeds: list[SeedProblem]
) -> None:
    seeds = seeds_file(tmp_path, math_seeds, 30)
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
        lines = [line for line in err.decode().splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in err.decode(), err.decode()[-2000:]
        assert not (out / "summary.json").exists()
        build(*args[1:])
        second = [json.dumps(b, sort_keys=True) for b in server.requests[len(first) :]]
    assert second and len(first) >= 40
    resent = sum(1 for body in set(second) if body in set(first))
    assert resent <= concurrency
    assert read_summary(out).finished and read_summary(out).records > 0


def test_finished_tasks_are_skipped_on_a_rerun(
    ray_cluster: Any, tmp_path: Path, math_seeds: list[SeedProblem]
) -> None:
    seeds = seeds_file(tmp_path, math_seeds, 12)
    args = [
        "--seeds",
        seeds,
        "--no-contamination",
        "--out",
        tmp_path / "out",
        "--executor",
        "ray",
        "--tasks",
        2,
    ]
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as server:
        build(*args, "--base-url", server.url)
        sent = len(server.requests)
        first = without_time(tmp_path / "out" / "dpo.jsonl")
        build(*args, "--base-url", server.url)
        assert len(server.requests) == sent  # both tasks' done markers were found: nothing ran
    assert read_summary(tmp_path / "out").engine["tasks_resumed"] == 2
    assert without_time(tmp_path / "out" / "dpo.jsonl") == first


def test_out_on_s3_with_both_executors(
    ray_cluster: Any, tmp_path: Path, math_seeds: list[SeedProblem], monkeypatch: pytest.MonkeyPatch
) -> None:
    moto = pytest.importorskip("moto.server", reason="needs moto[server] (synthmath[dev])")
    fsspec = pytest.importorskip("fsspec")
    pytest.importorskip("s3fs", reason="needs s3fs (synthmath[s3])")
    s3 = moto.ThreadedMotoServer(port=0, ip_address="127.0.0.1", verbose=False)
    s3.start()
    try:
        host, port = s3.get_host_and_port()
        for key, value in {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "SYNTHMATH_STAGING": str(tmp_path / "staging"),
        }.items():
            monkeypatch.setenv(key, value)
        fs = fsspec.filesystem("s3", skip_instance_cache=True)
        fs.mkdir("synthmath-test")
        seeds = seeds_file(tmp_path, math_seeds, 10)
        with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as server:
            common = ["--seeds", seeds, "--no-contamination", "--base-url", server.url]
            build(*common, "--out", tmp_path / "local")
            build(*common, "--out", "s3://synthmath-test/one")
            output = build(*common, "--out", "s3://synthmath-test/ray", "--executor", "ray", "--tasks", 2)
        assert "s3://synthmath-test/ray/dpo.jsonl" in output
        for run in ("one", "ray"):
            got = tmp_path / f"from-{run}"
            fs.get(f"synthmath-test/{run}/", str(got), recursive=True)
            same_output(got, tmp_path / "local")
        assert fs.exists("synthmath-test/ray/shards/00001/cache/requests.sqlite")
        assert not (Path.cwd() / "s3:").exists()
    finally:
        s3.stop()


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("nosuchfs://bucket/run", "unknown filesystem nosuchfs://"),
        ("gs://bucket/run", "pip install gcsfs"),
    ],
)
def test_out_uri_that_cannot_be_written_is_one_line(tmp_path: Path, out: str, expected: str) -> None:
    if expected.startswith("pip") and _has_module("gcsfs"):
        pytest.skip("gcsfs is installed here")
    result = CliRunner().invoke(
        main, ["build-dpo", "--seeds", str(tmp_path / "x.jsonl"), "--out", out, "--no-contamination"]
    )
    assert result.exit_code != 0
    assert expected in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not list(tmp_path.glob("*:*")) and not (Path.cwd() / (out.split(":")[0] + ":")).exists()


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


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


def test_no_cluster_at_the_address_is_one_line_at_once(tmp_path: Path) -> None:
    from .conftest import free_port

    address = f"127.0.0.1:{free_port()}"
    seeds = tmp_path / "x.jsonl"
    row = {"id": "a/1", "problem": "What is $1+1$?", "solution": "It is $\\boxed{2}$."}
    seeds.write_text(json.dumps(row) + "\n", encoding="utf-8")
    started = time.monotonic()
    cmd = [sys.executable, "-m", "synthmath.cli", "build-dpo", "--seeds", str(seeds), "--out", str(tmp_path)]
    cmd += ["--executor", "ray", "--ray-address", address, "--no-contamination"]
    # a process of its own: this one may have joined the session's Ray already
    proc = subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert proc.returncode != 0 and f"no Ray cluster at {address}" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 30


def test_library_build_on_ray_yields_the_local_records(
    ray_cluster: Any, tmp_path: Path, math_seeds: list[SeedProblem]
) -> None:
    from synthmath import build_instruct

    seeds = seeds_file(tmp_path, math_seeds, 8)
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as server:
        options = {"seeds": str(seeds), "base_url": server.url, "contamination": False}
        local = [r.model_dump(exclude={"meta"}) for r in build_instruct(**options)]
        rejects: list[Any] = []
        remote = [
            r.model_dump(exclude={"meta"})
            for r in build_instruct(**options, executor="ray", tasks=2, on_reject=rejects.append)
        ]
    assert remote == local and len(local) > 0
    assert all(r.seed_id for r in rejects)


def test_judge_runs_in_the_tasks(
    ray_cluster: Any, tmp_path: Path, gated: tuple[Path, Path, list[SeedProblem]]
) -> None:
    pytest.importorskip("sentence_transformers", reason="the judge sees the embedding stage's candidates")
    seeds, bench, problems = gated
    rephraser = MathRephraser(problems)
    judged: list[str] = []

    def handler(request: dict[str, Any]) -> Any:
        if "same problem, same template, different" in request["messages"][0]["content"]:
            judged.append(request["messages"][-1]["content"])
            return "different"
        return rephraser(request)

    common = ["--seeds", seeds, "--benchmark", f"math_test={bench}", "--judge", "--concurrency", 8]
    with FakeOpenAIServer(handler, models=["m"]) as server:
        build(*common, "--base-url", server.url, "--out", tmp_path / "local")
        asked_locally = len(judged)
        if not asked_locally:
            pytest.skip("the gate settled every candidate of these seeds without the judge")
        build(*common, "--base-url", server.url, "--out", tmp_path / "ray", "--executor", "ray")
    same_output(tmp_path / "ray", tmp_path / "local")
    assert read_jsonl(tmp_path / "ray" / "contamination.jsonl") == read_jsonl(
        tmp_path / "local" / "contamination.jsonl"
    )
    assert len(judged) == 2 * asked_locally  # the tasks asked the judge what the local run asked
