from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthmath import Reject, SeedError, load_seeds

from .conftest import DATA, MATH_TRAIN, need_data


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_math_jsonl_fields_and_ids() -> None:
    need_data()
    seeds = list(load_seeds(MATH_TRAIN, limit=3))
    assert [s.id for s in seeds] == ["train/algebra/0", "train/algebra/3", "train/algebra/4"]
    first = seeds[0]
    assert first.gold_answer == "0"
    assert first.subject == "algebra" and first.level == 5
    assert first.solution.endswith(r"\boxed{0}$.")


def test_math_directory_layout_ids_and_split() -> None:
    need_data()
    root = DATA / "math" / "MATH_dir_sample"
    train = list(load_seeds(root))
    assert len(train) == 21
    assert all(s.id.startswith("train/") for s in train)
    assert {s.subject for s in train} == {
        "algebra",
        "counting_and_probability",
        "geometry",
        "intermediate_algebra",
        "number_theory",
        "prealgebra",
        "precalculus",
    }
    one = next(s for s in train if s.subject == "geometry")
    number = one.id.rsplit("/", 1)[1]
    raw = json.loads((root / "train" / "geometry" / f"{number}.json").read_text())
    assert one.problem == raw["problem"] and one.solution == raw["solution"]
    # pointing at the split folder works too
    assert [s.id for s in load_seeds(root / "train")] == [s.id for s in train]
    assert all(s.id.startswith("test/") for s in load_seeds(root, split="test"))


def test_gsm8k_rows_load_with_hash_ids() -> None:
    need_data()
    seeds = list(load_seeds(DATA / "gsm8k" / "train.jsonl", limit=5))
    assert seeds[0].gold_answer == "72"
    assert seeds[0].id.startswith("sha256/")
    again = list(load_seeds(DATA / "gsm8k" / "train.jsonl", limit=5))
    assert [s.id for s in again] == [s.id for s in seeds]  # stable across reads


def test_json_array_parquet_and_dataset(tmp_path: Path) -> None:
    need_data()
    rows = [json.loads(line) for line in MATH_TRAIN.read_text().splitlines()[:20]]
    (tmp_path / "s.json").write_text(json.dumps(rows))
    import datasets

    ds = datasets.Dataset.from_list(rows)
    ds.to_parquet(str(tmp_path / "s.parquet"))
    from_json = list(load_seeds(tmp_path / "s.json"))
    from_parquet = list(load_seeds(tmp_path / "s.parquet"))
    from_ds = list(load_seeds(ds))
    key = [(s.id, s.gold_answer) for s in from_json]
    assert len(key) == 20
    assert key == [(s.id, s.gold_answer) for s in from_parquet] == [(s.id, s.gold_answer) for s in from_ds]


def test_filters_limit_and_sample() -> None:
    need_data()
    geo45 = list(load_seeds(MATH_TRAIN, subjects=["Geometry"], levels=[4, 5], limit=30))
    assert len(geo45) == 30 and all(s.subject == "geometry" and s.level in (4, 5) for s in geo45)
    a = [s.id for s in load_seeds(MATH_TRAIN, sample=25, seed=7)]
    b = [s.id for s in load_seeds(MATH_TRAIN, sample=25, seed=7)]
    c = [s.id for s in load_seeds(MATH_TRAIN, sample=25, seed=8)]
    assert a == b and a != c and len(set(a)) == 25
    assert len({i.split("/")[1] for i in a}) > 2  # drawn from across the file, not its head


def test_seed_without_answer_is_skipped_with_reason(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "s.jsonl",
        [
            {"problem": "What is 1+1?", "solution": "It is $\\boxed{2}$."},
            {"problem": "What is 2+2?", "solution": "It is four."},
        ],
    )
    skipped: list[Reject] = []
    seeds = list(load_seeds(path, on_skip=skipped.append))
    assert [s.gold_answer for s in seeds] == ["2"]
    assert [(r.stage, r.reason) for r in skipped] == [("seed", "no_answer")]
    assert f"{path}:2" in skipped[0].detail


def test_bad_inputs_name_the_place(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="no such file"):
        list(load_seeds(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"problem": "a", "solution": "\\\\boxed{1}"}\n{not json\n')
    with pytest.raises(SeedError, match=rf"{bad}:2: not valid JSON"):
        list(load_seeds(bad))
    nosol = write_jsonl(tmp_path / "nosol.jsonl", [{"problem": "What is 1+1?"}])
    with pytest.raises(SeedError, match=rf"{nosol}:1: seed has no solution"):
        list(load_seeds(nosol))
    with pytest.raises(SeedError, match="not a MATH-layout directory"):
        list(load_seeds(tmp_path))


def test_math_train_seeds_with_an_empty_box_are_skipped_with_reason() -> None:
    """Two MATH train solutions end in an empty \\boxed{}: they cannot be verified, so they are skipped."""
    need_data()
    skipped: list[Reject] = []
    seeds = list(load_seeds(MATH_TRAIN, on_skip=skipped.append))
    assert len(seeds) + len(skipped) == 7500
    empty = [r for r in skipped if r.reason == "no_answer"]
    assert sorted(r.seed_id for r in empty) == ["train/number_theory/7115", "train/number_theory/7117"]
    assert all("is empty" in r.detail for r in empty)
    # the other skips: solutions that box different answers, which no check can trust (docs/verification.md)
    assert {r.reason for r in skipped} - {"no_answer"} == {"ambiguous_gold"} and len(skipped) == 24
