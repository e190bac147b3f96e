"""Publishing: the dataset card from a real build directory, the dry run, and the upload to a fake Hub."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import datasets
import pytest
import yaml
from click.testing import CliRunner

from synthmath import BuildConfig, SynthmathError, build_to_dir, push_to_hub
from synthmath.cli import main
from synthmath.testing import FakeOpenAIServer

from .conftest import read_jsonl

BENCHMARK = [
    "How many edges does a cube have?",
    "Find the area of a circle of radius $7$. Express it in terms of $\\pi$.",
    "Solve for $y$: $5y - 3 = 12$.",
]


@pytest.fixture
def build_dir(tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path) -> Path:
    out = tmp_path / "build"
    bench = tmp_path / "bench.jsonl"  # a benchmark of its own: the card's gate section, no ../shared
    rows = [{"id": f"b/{i}", "problem": p} for i, p in enumerate(BENCHMARK)]
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = BuildConfig.load(
        seeds=str(math_seeds_file),
        base_url=server.url,
        out=str(out),
        benchmarks=[f"math500={bench}"],
        embeddings=False,
        contamination_cache=str(tmp_path / "index-cache"),
    )
    build_to_dir("dpo", cfg)
    return out


def front_matter(card: str) -> dict[str, Any]:
    assert card.startswith("---\n")
    data: dict[str, Any] = yaml.safe_load(card.split("---\n")[1])
    return data


def test_dry_run_leaves_card_plots_and_shards(build_dir: Path) -> None:
    result = CliRunner().invoke(main, ["push", str(build_dir), "--repo-id", "someone/x", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "nothing uploaded" in result.output
    hub = build_dir / "_hub"
    card = (hub / "README.md").read_text()
    meta = front_matter(card)
    assert meta["license"] == "mit" and meta["task_categories"] and meta["size_categories"] == ["n<1K"]
    assert meta["configs"] == [
        {
            "config_name": "dpo",
            "data_files": [{"split": "train", "path": "data/dpo-*.parquet"}],
            "default": True,
        }
    ]
    assert "fake-math" in card and "MATH" in card and "## Contamination" in card
    assert "arXiv:2312.15166" in card and "arXiv:2309.12284" in card and "arXiv:2103.03874" in card
    for name in ("dpo-lengths.png", "dpo-acceptance-subject.png", "dpo-acceptance-level.png"):
        assert (hub / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"(plots/{name})" in card
    summary = json.loads((build_dir / "summary.json").read_text())
    assert f"**{summary['records']} records**" in card
    assert summary["prompts"]["rephrase_question"]["hash"] in card
    # the seeds' version: the sha256 of the seeds file the build read
    seeds_file = Path(summary["config"]["seeds"])
    assert summary["seed_revision"] == "sha256:" + hashlib.sha256(seeds_file.read_bytes()).hexdigest()[:16]
    assert f"revision: {summary['seed_revision']}" in card
    shards = sorted((hub / "data").glob("dpo-*.parquet"))
    assert [p.name for p in shards] == ["dpo-00000-of-00001.parquet"]
    ds = datasets.load_dataset("parquet", data_files=[str(p) for p in shards], split="train")
    assert ds["id"] == [r["id"] for r in read_jsonl(build_dir / "dpo.jsonl")]
    assert {"prompt", "chosen", "rejected"} <= set(ds.column_names)


class _Status(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.response = type("R", (), {"status_code": status})()


class FakeHfApi:
    """The slice of huggingface_hub.HfApi that push uses, over an in-memory repository."""

    def __init__(self, fail_commits: int = 0, files: dict[str, bytes] | None = None) -> None:
        self.files = dict(files or {})
        self.fail_commits = fail_commits
        self.commits = 0
        self.attempts = 0

    def create_repo(self, repo_id: str, repo_type: str, private: bool, exist_ok: bool) -> None:
        assert repo_type == "dataset" and exist_ok

    def list_repo_files(self, repo_id: str, repo_type: str) -> list[str]:
        return sorted(self.files)

    def create_commit(self, repo_id: str, operations: list[Any], commit_message: str, repo_type: str) -> None:
        self.attempts += 1
        if self.fail_commits:
            self.fail_commits -= 1
            raise _Status(502)
        for op in operations:
            if type(op).__name__ == "CommitOperationDelete":
                del self.files[op.path_in_repo]
            else:
                self.files[op.path_in_repo] = Path(op.path_or_fileobj).read_bytes()
        self.commits += 1


def test_push_retries_a_failed_commit_and_a_second_push_changes_nothing(build_dir: Path) -> None:
    stale = {"data/dpo-00000-of-00002.parquet": b"old", "data/instruct-00000-of-00001.parquet": b"keep"}
    api = FakeHfApi(fail_commits=1, files=stale)
    push_to_hub(build_dir, "someone/x", api=api, backoff=0.01)
    assert api.attempts == 2 and api.commits == 1
    assert "data/dpo-00000-of-00002.parquet" not in api.files  # this kind's old shards are replaced
    assert api.files["data/instruct-00000-of-00001.parquet"] == b"keep"  # the other kind is left alone
    first = dict(api.files)
    card = front_matter(first["README.md"].decode())
    assert [c["config_name"] for c in card["configs"]] == ["dpo", "instruct"]

    push_to_hub(build_dir, "someone/x", api=api, backoff=0.01)
    assert sorted(api.files) == sorted(first)
    assert api.files["data/dpo-00000-of-00001.parquet"] == first["data/dpo-00000-of-00001.parquet"]


def test_push_gives_up_on_a_client_error(build_dir: Path) -> None:
    class Forbidden(FakeHfApi):
        def create_commit(self, *a: Any, **k: Any) -> None:
            self.attempts += 1
            raise _Status(403)

    api = Forbidden()
    with pytest.raises(SynthmathError, match=r"could not upload.*HTTP 403.*write access"):
        push_to_hub(build_dir, "someone/x", api=api, backoff=0.01)
    assert api.attempts == 1


def test_push_without_token_is_a_one_line_error(
    build_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    result = CliRunner().invoke(main, ["push", str(build_dir), "--repo-id", "someone/x"])
    assert result.exit_code != 0
    assert result.output.strip().startswith("Error: no Hugging Face token - set HF_TOKEN")


def test_push_needs_a_finished_build(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["push", str(tmp_path), "--repo-id", "someone/x", "--dry-run"])
    assert result.exit_code != 0 and "no summary.json" in result.output
