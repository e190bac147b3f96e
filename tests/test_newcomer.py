"""What a newcomer meets first: the fake model, the in-process engine, `show`, `--dry-run`, `seeds`,
the grouped help and the old flag name, messages in the caller's language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmath import build_instruct, load_seeds, overview
from synthmath.answers import extract_boxed
from synthmath.steps.verify import missing_numbers
from synthmath.testing import FakeMathModel, FakeOpenAIServer, FunctionEngine

from .conftest import SAMPLE, invoke, read_jsonl


@pytest.fixture(scope="module")
def fake_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build of the 40 test problems against the fake model over HTTP, shared by the tests here."""
    out = tmp_path_factory.mktemp("fake") / "out"
    with FakeOpenAIServer(FakeMathModel(), models=["fake-math"]) as server:
        code, output = invoke(
            "build-instruct", "--from", SAMPLE, "--base-url", server.url, "--out", out, "--no-progress"
        )
    assert code == 0, output
    return out


def test_the_fake_model_rewords_and_solves(fake_build: Path) -> None:
    seeds = {s.id: s for s in load_seeds(SAMPLE)}
    records = read_jsonl(fake_build / "instruct.jsonl")
    assert len({r["seed_id"] for r in records}) >= 0.6 * len(seeds)
    for r in records:
        seed = seeds[r["seed_id"]]
        assert r["question"] != seed.problem and not missing_numbers(seed.problem, r["question"])
        assert extract_boxed(r["answer"]) == seed.gold_answer
    reasons = {r["reason"] for r in read_jsonl(fake_build / "rejects.jsonl")}
    assert reasons <= {"question_copies_seed", "duplicate_rephrasing"}  # every answer checks out


def test_the_in_process_engine_gives_the_records_of_the_server(fake_build: Path) -> None:
    seeds = list(load_seeds(SAMPLE, limit=8))
    engine = FunctionEngine(FakeMathModel())
    local = [
        r.model_dump(exclude={"meta"}) for r in build_instruct(seeds, engine=engine, contamination=False)
    ]
    served = [
        {k: v for k, v in r.items() if k != "meta"}
        for r in read_jsonl(fake_build / "instruct.jsonl")
        if r["seed_id"] in {s.id for s in seeds}
    ]
    assert local == served and engine.requests


def test_show_prints_counts_reasons_and_records_beside_their_seeds(fake_build: Path) -> None:
    code, output = invoke("show", fake_build, "--examples", 1, "--no-plots")
    assert code == 0, output
    summary = json.loads((fake_build / "summary.json").read_text())
    assert output.startswith(f"{fake_build}: {summary['records']} instruct records")
    assert "question_copies_seed" in output and "seed sample/algebra/0" in output
    view = overview(fake_build, examples=2, plots=False)
    assert [r.example["reason"] for r in view.reasons] == [r.reason for r in view.reasons]
    assert all(view.seeds[r["seed_id"]]["problem"] for r in view.records)


def test_dry_run_counts_and_sends_nothing(tmp_path: Path) -> None:
    with FakeOpenAIServer(FakeMathModel()) as server:
        code, output = invoke(
            "build-dpo", "--seeds", SAMPLE, "--levels", "1", "--rephrasings", 3, "--dry-run",
            "--base-url", server.url, "--out", tmp_path / "o",
        )  # fmt: skip
        assert server.requests == []
    assert code == 0, output
    assert output.startswith(f"dry run, nothing sent: 7 seeds from {SAMPLE}")
    assert "requests: at most 28 (" in output  # 7 seeds x (1 question request + 3 answer requests)
    assert not (tmp_path / "o").exists()


def test_seeds_prints_tables_or_json_not_both() -> None:
    code, table = invoke("seeds", SAMPLE, "--show", 2)
    assert code == 0 and table.startswith("40 usable seeds, 0 skipped") and "{" not in table
    assert "sample/algebra/1" in table
    code, text = invoke("seeds", SAMPLE, "--show", 2, "--json")
    doc = json.loads(text)
    assert doc["usable"] == 40 and sum(doc["by_level"].values()) == 40 and len(doc["seeds"]) == 2


def test_build_help_is_grouped_and_names_the_source_apart_from_the_random_seed() -> None:
    code, output = invoke("build-dpo", "--help")
    assert code == 0
    titles = [
        line for line in output.splitlines() if line and not line.startswith(" ") and line.endswith(":")
    ]
    assert [t.split(":")[0].split()[0] for t in titles[-7:]] == [
        "Seeds", "Generation", "Checks", "Contamination", "Output", "Execution", "Other"
    ]  # fmt: skip
    seeds_section = output.split("Seeds:")[1].split("Generation:")[0]
    assert "--from SOURCE" in seeds_section and "--seed " not in seeds_section
    assert "--seeds" not in output  # the old name still works, unlisted
    assert "before any request is sent" in output  # the gate runs before generation


def test_offline_check_contamination_offers_only_its_own_flags(tmp_path: Path) -> None:
    code, output = invoke("check-contamination", SAMPLE, "--out", tmp_path / "c", "--no-progress")
    assert code == 1 and "--benchmark math_test=PATH" in output
    assert "--no-contamination" not in output and "contamination=False" not in output
