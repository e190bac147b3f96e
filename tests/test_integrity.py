"""Cut and half-written files: merge and push check a build before trusting it, and say in one line which
file, which line, and what to do; nothing is merged or staged from a damaged build."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthmath import ConfigError, push_to_hub
from synthmath.records import SeedProblem
from synthmath.seeds import load_seeds
from synthmath.testing import FakeOpenAIServer

from .conftest import MATH_TRAIN, invoke, need_data, read_jsonl
from .fakes import MathRephraser
from .faults import one_error_line

REDO = "rerun its build with the same --out: finished requests come from the cache"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two finished shards (0/2, 1/2) of one 12-seed build-instruct run, made once for the module."""
    need_data()
    root = tmp_path_factory.mktemp("shards")
    rows = read_jsonl(MATH_TRAIN)[::150][:12]
    seeds_file = root / "seeds.jsonl"
    seeds_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    seeds: list[SeedProblem] = list(load_seeds(seeds_file))
    with FakeOpenAIServer(MathRephraser(seeds, wrong_rate=0.2), models=["m"]) as server:
        for i in range(2):
            code, output = invoke(
                "build-instruct", "--seeds", seeds_file, "--base-url", server.url, "--no-progress",
                "--no-cache", "--shard", f"{i}/2", "--out", root / f"s{i}",
            )  # fmt: skip
            assert code == 0, output
    yield root


@pytest.fixture
def shards(built: Path, tmp_path: Path) -> list[Path]:
    """Fresh copies of the two shards, for a test to damage."""
    copies = [tmp_path / f"s{i}" for i in range(2)]
    for i, copy in enumerate(copies):
        shutil.copytree(built / f"s{i}", copy)
    return copies


def cut_to_lines(path: Path, n: int) -> int:
    """Keep the first ``n`` lines of ``path``; returns how many it had."""
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:n]))
    return len(lines)


def half_write_last_line(path: Path) -> int:
    """Cut ``path`` in the middle of its last line, as a copy or a write that stopped would; returns
    that line's number."""
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    return len(lines)


def test_whole_shards_merge_and_push(shards: list[Path], tmp_path: Path) -> None:
    code, output = invoke("merge", *shards, "--out", tmp_path / "all")
    assert code == 0, output
    code, output = invoke("push", tmp_path / "all", "--repo-id", "someone/x", "--dry-run")
    assert code == 0, output


@pytest.mark.parametrize("name", ["instruct.jsonl", "rejects.jsonl"])
def test_merge_refuses_a_shard_cut_at_a_line(shards: list[Path], tmp_path: Path, name: str) -> None:
    path = shards[1] / name
    had = cut_to_lines(path, 2)
    what = "records" if name == "instruct.jsonl" else "rejects"
    assert had > 2
    line = one_error_line(*invoke("merge", *shards, "--out", tmp_path / "all"))
    assert line == (
        f"{path}: 2 {what}, but summary.json says {had} - the file was cut short or changed after the "
        f"build; {REDO}"
    )
    assert not (tmp_path / "all").exists()


def test_merge_refuses_a_half_written_last_line(shards: list[Path], tmp_path: Path) -> None:
    path = shards[0] / "instruct.jsonl"
    last = half_write_last_line(path)
    line = one_error_line(*invoke("merge", *shards, "--out", tmp_path / "all"))
    assert line.startswith(f"{path}:{last}: not a whole JSON line (the last line, cut short): ")
    assert line.endswith(REDO)


def test_merge_refuses_a_line_that_is_not_a_record(shards: list[Path], tmp_path: Path) -> None:
    path = shards[0] / "instruct.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([lines[0], '{"question": "no id"}\n', *lines[2:]]))
    line = one_error_line(*invoke("merge", *shards, "--out", tmp_path / "all"))
    assert line == f"{path}:2: not a JSON object with id and seed_id - {REDO}"


def test_push_refuses_records_cut_short(shards: list[Path]) -> None:
    build = shards[0]
    had = cut_to_lines(build / "instruct.jsonl", 1)
    line = one_error_line(*invoke("push", build, "--repo-id", "someone/x", "--dry-run"))
    assert line.startswith(f"{build / 'instruct.jsonl'}: 1 records, but summary.json says {had} - ")
    assert not (build / "_hub").exists()


def test_push_refuses_a_half_written_last_line_in_one_line(shards: list[Path]) -> None:
    build = shards[1]
    last = half_write_last_line(build / "rejects.jsonl")
    code, output = invoke("push", build, "--repo-id", "someone/x", "--dry-run")
    line = one_error_line(code, output)
    assert line.startswith(
        f"{build / 'rejects.jsonl'}:{last}: not a whole JSON line (the last line, cut short)"
    )
    assert "DatasetGenerationError" not in output
    with pytest.raises(ConfigError, match=r"rerun its build with the same out: "):  # the field, from Python
        push_to_hub(build, "someone/x", dry_run=True)
