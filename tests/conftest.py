from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthmath.records import SeedProblem
from synthmath.seeds import load_seeds
from synthmath.testing import FakeOpenAIServer, Reply

from .fakes import MathRephraser

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
MATH_TRAIN = DATA / "math" / "MATH_train.jsonl"
# 40 MATH-like problems written for the tests (tests/data/README.md): the core suite needs nothing else
SAMPLE = ROOT / "tests" / "data" / "math_sample.jsonl"

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.pop("OPENAI_BASE_URL", None)
os.environ.pop("OPENAI_API_KEY", None)

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    host = address[0] if isinstance(address, tuple) else address
    local = isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1"))
    if not local and self.family in (socket.AF_INET, socket.AF_INET6):
        raise OSError(f"network is off in tests: refused connection to {host}")
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


def free_port() -> int:
    """A loopback port nothing listens on (the one free-port helper of the suite)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_GATE_FLAGS = ("--contamination", "--no-contamination", "--benchmark", "--judge")


def invoke(*args: object) -> tuple[int, str]:
    """The synthmath CLI in this process (the one CLI runner of the suite): exit code and output. A
    build skips the contamination gate unless the test says something about it (the gate has its own
    tests, and the default benchmarks live on the Hub)."""
    from click.testing import CliRunner

    from synthmath.cli import main

    argv = [str(a) for a in args]
    if argv[0].startswith("build-") and not any(a.startswith(_GATE_FLAGS) for a in argv):
        argv.append("--no-contamination")
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    return result.exit_code, result.output


def build_one_rewording(
    out: Path, problem: str, solution: str, rewording: str, answer: str, *extra: object
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``build-dpo`` of one seed against a model that rewords it as ``rewording`` and answers any
    reworded problem with ``answer`` (one rephrasing, no gate): the DPO records and the rejects."""
    out.mkdir(parents=True, exist_ok=True)
    seeds = out / "seeds.jsonl"
    seeds.write_text(json.dumps({"id": "s1", "problem": problem, "solution": solution}) + "\n")

    def model(body: dict[str, Any]) -> Reply:
        return Reply([answer if "Reworded problem:\n" in body["messages"][-1]["content"] else rewording])

    with FakeOpenAIServer(model) as server:
        args = ["--seeds", seeds, "--base-url", server.url, "--rephrasings", 1, "--no-contamination"]
        code, output = invoke("build-dpo", *args, "--out", out / "o", *extra)
    assert code == 0, output
    return read_jsonl(out / "o" / "dpo.jsonl"), read_jsonl(out / "o" / "rejects.jsonl")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def need_data() -> None:
    """Skip a test that needs the public datasets (MATH, GSM8K, benchmark test sets): they are not in the
    repository; tests/data/README.md says where they come from and where to put them."""
    if not DATA.is_dir():
        pytest.skip(f"needs the public datasets at {DATA} (MATH, GSM8K...; see tests/data/README.md)")


@pytest.fixture
def math_seeds_file(tmp_path: Path) -> Path:
    """The 40 test problems (every subject, levels 1-5) as a .jsonl file of MATH's layout."""
    path = tmp_path / "seeds.jsonl"
    path.write_bytes(SAMPLE.read_bytes())
    return path


@pytest.fixture
def math_seeds(math_seeds_file: Path) -> list[SeedProblem]:
    return list(load_seeds(math_seeds_file))


@pytest.fixture
def rephraser(math_seeds: list[SeedProblem]) -> MathRephraser:
    return MathRephraser(math_seeds, wrong_rate=0.3)


@pytest.fixture
def server(rephraser: MathRephraser) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(rephraser, models=["fake-math"]) as s:
        yield s
