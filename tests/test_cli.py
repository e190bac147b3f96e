"""The CLI end to end: seeds file -> fake vLLM server -> output files loaded with ``datasets``."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from synthmath import DPORecord, InstructRecord, Reject, SeedProblem
from synthmath.testing import FakeOpenAIServer

from .conftest import free_port, invoke, read_jsonl
from .fakes import MathRephraser


def test_build_dpo_end_to_end(
    tmp_path: Path,
    server: FakeOpenAIServer,
    rephraser: MathRephraser,
    math_seeds_file: Path,
    math_seeds: list[SeedProblem],
) -> None:
    out = tmp_path / "out"
    code, output = invoke("build-dpo", "--seeds", math_seeds_file, "--base-url", server.url, "--out", out)
    assert code == 0, output
    assert "dpo records from" in output
    assert sorted(p.name for p in out.iterdir()) == ["cache", "dpo.jsonl", "rejects.jsonl", "summary.json"]

    ds = datasets.load_dataset("json", data_files=str(out / "dpo.jsonl"), split="train")
    assert {"prompt", "chosen", "rejected"} <= set(ds.column_names)
    by_id = {s.id: s for s in math_seeds}
    assert len(set(ds["seed_id"])) >= 0.6 * len(math_seeds)
    for row in ds:
        DPORecord.model_validate(row)
        seed = by_id[row["seed_id"]]
        assert row["rejected"] == seed.solution
        assert row["prompt"] != seed.problem.strip()
        assert row["chosen"] not in rephraser.wrong

    rejects = [Reject.model_validate(r) for r in read_jsonl(out / "rejects.jsonl")]
    assert {r.text for r in rejects if r.reason == "wrong_answer"} == rephraser.wrong
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] is True and summary["records"] == len(ds)
    assert summary["seeds"]["processed"] == 40
    assert summary["answers"]["rejected_by_reason"]["wrong_answer"] == rephraser.wrong_count
    assert summary["tokens"]["completion"] > 0 and summary["tokens"]["prompt"] > 0
    assert summary["config"]["seeds"] == str(math_seeds_file)
    assert summary["servers"] == {server.url: {"model": "fake-math", "version": "0.0.0-fake"}}
    assert set(summary["prompts"]) == {"rephrase_question", "rephrase_answer"}
    assert sum(v["seeds"] for v in summary["by_subject"].values()) == 40
    assert sum(v["records"] for v in summary["by_level"].values()) == len(ds)


def test_build_instruct_loads_as_conversations(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    out = tmp_path / "out"
    code, output = invoke(
        "build-instruct", "--seeds", math_seeds_file, "--limit", 8, "--base-url", server.url, "--out", out
    )
    assert code == 0, output
    ds = datasets.load_dataset("json", data_files=str(out / "instruct.jsonl"), split="train")
    assert len(ds) > 0 and "messages" in ds.column_names
    for row in ds:
        InstructRecord.model_validate(row)
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    assert json.loads((out / "summary.json").read_text())["seeds"]["processed"] == 8


def test_dpo_chat_flag_gives_message_lists(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    out = tmp_path / "out"
    code, output = invoke(
        "build-dpo",
        "--chat",
        "--seeds",
        math_seeds_file,
        "--limit",
        4,
        "--base-url",
        server.url,
        "--out",
        out,
    )
    assert code == 0, output
    ds = datasets.load_dataset("json", data_files=str(out / "dpo.jsonl"), split="train")
    row = ds[0]
    assert row["prompt"][0]["role"] == "user" and row["chosen"][0]["role"] == "assistant"
    assert row["rejected"][0]["role"] == "assistant"


def test_config_file_and_flag_override(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"seeds: {math_seeds_file}\nbase-url: {server.url}\nrephrasings: 3\ntemperature: 0.1\n"
        f"out: {tmp_path / 'from-file'}\nlimit: 2\n"
    )
    code, output = invoke("build-instruct", "--config", cfg, "--temperature", 0.9)
    assert code == 0, output
    summary = json.loads((tmp_path / "from-file" / "summary.json").read_text())
    assert summary["config"]["rephrasings"] == 3 and summary["config"]["temperature"] == 0.9
    assert {b["n"] for b in server.requests if "rewrite" in b["messages"][0]["content"]} == {3}


def _one_line_error(code: int, output: str) -> str:
    assert code != 0
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert "Traceback" not in output
    return lines[0]


def test_missing_seed_file(tmp_path: Path, server: FakeOpenAIServer) -> None:
    line = _one_line_error(
        *invoke(
            "build-dpo", "--seeds", tmp_path / "nope.jsonl", "--base-url", server.url, "--out", tmp_path / "o"
        )
    )
    assert "nope.jsonl: no such file" in line


def test_unreadable_line(tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(math_seeds_file.read_text().splitlines()[0] + "\n{broken\n")
    line = _one_line_error(
        *invoke("build-dpo", "--seeds", bad, "--base-url", server.url, "--out", tmp_path / "o")
    )
    assert f"{bad}:2: not valid JSON" in line


def test_seed_without_solution(tmp_path: Path, server: FakeOpenAIServer) -> None:
    seeds = tmp_path / "s.jsonl"
    seeds.write_text(json.dumps({"id": "x", "problem": "What is 2+3?"}) + "\n")
    line = _one_line_error(
        *invoke("build-instruct", "--seeds", seeds, "--base-url", server.url, "--out", tmp_path / "o")
    )
    assert f"{seeds}:1: seed has no solution" in line


def test_unreachable_server(tmp_path: Path, math_seeds_file: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    line = _one_line_error(
        *invoke("build-dpo", "--seeds", math_seeds_file, "--base-url", url, "--out", tmp_path / "o")
    )
    assert f"no server at {url}" in line and "vllm serve" in line


def test_unknown_model(tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path) -> None:
    line = _one_line_error(
        *invoke(
            "build-dpo",
            "--seeds",
            math_seeds_file,
            "--base-url",
            server.url,
            "--model",
            "gpt-nope",
            "--out",
            tmp_path / "o",
        )
    )
    assert "'gpt-nope' is not served" in line and "fake-math" in line


def test_unwritable_output_dir(tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = _one_line_error(
        *invoke("build-dpo", "--seeds", math_seeds_file, "--base-url", server.url, "--out", blocker / "sub")
    )
    assert "cannot write to" in line and "--out" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--rephrasings", "0"], "rephrasings"),
        (["--base-url", "localhost:8000"], "not an http(s) URL"),
        (["--config", "missing.yaml"], "cannot read config file"),
    ],
)
def test_bad_options(tmp_path: Path, math_seeds_file: Path, args: list[str], expected: str) -> None:
    line = _one_line_error(
        *invoke("build-instruct", "--seeds", math_seeds_file, "--out", tmp_path / "o", *args)
    )
    assert expected in line


def test_seeds_command(math_seeds_file: Path) -> None:
    code, output = invoke("seeds", math_seeds_file)
    assert code == 0 and output.startswith("40 usable seeds, 0 skipped")


def test_the_missing_embedding_stage_is_said_once_in_flags_and_not_when_chosen(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without synthmath[embed] a gated build says so once per process, naming the CLI's flag; a user
    who passed --no-embeddings is not told again."""
    import importlib.util

    from synthmath.contamination import run as contamination_run

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sentence_transformers" else real_find_spec(name, *a),
    )
    monkeypatch.setattr(contamination_run, "_warned", set())
    bench = tmp_path / "bench.jsonl"
    bench.write_text(
        json.dumps({"problem": "What is the sum of the first 100 positive odd integers?"}) + "\n"
    )
    argv = ["build-instruct", "--base-url", server.url, "--seeds", math_seeds_file, "--limit", "2"]
    argv += ["--benchmark", f"mine={bench}", "--no-progress"]
    outputs = [invoke(*argv, "--out", tmp_path / f"out{i}") for i in range(2)]
    assert [code for code, _ in outputs] == [0, 0], outputs
    warning = "contamination check without its embedding stage"
    assert outputs[0][1].count(warning) == 1 and outputs[1][1].count(warning) == 0  # once per process
    assert "--no-embeddings to say you mean it" in outputs[0][1] and "embeddings=False" not in outputs[0][1]
    monkeypatch.setattr(contamination_run, "_warned", set())
    code, output = invoke(*argv, "--no-embeddings", "--out", tmp_path / "chosen")
    assert code == 0 and warning not in output
