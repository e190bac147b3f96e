"""Opt-in: the CLI against a real vLLM server (e.g. ../shared/tools/vllm-cpu-serve.sh).

SYNTHMATH_TEST_BASE_URL=http://127.0.0.1:8000/v1 pytest tests/test_real_server.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthmath import InstructRecord, Reject
from synthmath.cli import main

from .conftest import read_jsonl

URL = os.environ.get("SYNTHMATH_TEST_BASE_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set SYNTHMATH_TEST_BASE_URL to a running vLLM server")


def test_build_instruct_against_real_vllm(tmp_path: Path, math_seeds_file: Path) -> None:
    out = tmp_path / "out"
    args = [
        "build-instruct",
        "--seeds",
        str(math_seeds_file),
        "--limit",
        "3",
        "--base-url",
        str(URL),
        "--max-tokens",
        "384",
        "--out",
        str(out),
        "--no-progress",
    ]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"]["processed"] == 3 and summary["tokens"]["completion"] > 0
    records = [InstructRecord.model_validate(r) for r in read_jsonl(out / "instruct.jsonl")]
    rejects = [Reject.model_validate(r) for r in read_jsonl(out / "rejects.jsonl")]
    assert summary["records"] == len(records)
    # every candidate is accounted for: kept, or rejected with a reason
    assert summary["questions"]["candidates"] == summary["questions"]["kept"] + sum(
        summary["questions"]["rejected_by_reason"].values()
    )
    assert all(r.reason for r in rejects)
