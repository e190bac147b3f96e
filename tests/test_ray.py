"""The Ray executor against the fake OpenAI-compatible server, on one local Ray (``num_cpus=2``) shared
by every test here: the same output as the local executor, a killed worker changes nothing, and a
cancelled run resumed re-sends at most ``concurrency`` requests."""

from __future__ import annotations

import json
import os
import signal
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

from .conftest import DATA, need_data, read_jsonl
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


def test_ray_output_equals_local(ray_cluster: Any, tmp_path: Path, gated: tuple[Path, Path, list[SeedProblem]]) -> None:
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
