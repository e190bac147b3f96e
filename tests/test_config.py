"""The one config object: layered sources, and what the executors derive from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmath import BuildConfig
from synthmath.errors import ConfigError


def test_a_step_flag_changes_one_key_of_the_files_block(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("question_sampling:\n  temperature: 0.2\n  max_tokens: 300\n", encoding="utf-8")
    config = BuildConfig.load(path, question_sampling={"temperature": 0.9})
    assert config.question_sampling.temperature == 0.9
    assert config.question_sampling.max_tokens == 300  # kept from the file


@pytest.mark.parametrize("out", ["s3://bucket/run", "file:///tmp/x", "runs/a"])
def test_out_is_kept_as_written(out: str) -> None:
    pytest.importorskip("s3fs")
    assert BuildConfig.load(out=out).out == out


def test_out_with_an_unknown_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown filesystem nosuch://"):
        BuildConfig.load(out="nosuch://bucket/run")


def test_remote_out_keeps_its_cache_in_a_local_staging_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("s3fs")
    monkeypatch.setenv("SYNTHMATH_STAGING", str(tmp_path))
    cache = BuildConfig.load(out="s3://bucket/run").cache_path()
    assert cache is not None and cache.is_relative_to(tmp_path) and cache.name == "requests.sqlite"


def test_the_parts_make_the_whole_config() -> None:
    """BuildConfig is its parts at once: every part's fields and validators, none shadowing another's
    (two validators of one name in two parts would leave only one)."""
    from synthmath.config import PARTS, BuildConfig

    fields = [name for part in PARTS.values() for name in part.model_fields]
    assert sorted(fields) == sorted(BuildConfig.model_fields) and len(fields) == len(set(fields))
    mine = BuildConfig.__pydantic_decorators__
    for part in PARTS.values():
        theirs = part.__pydantic_decorators__  # type: ignore[attr-defined]
        assert set(theirs.field_validators) <= set(mine.field_validators), part.__name__
        assert set(theirs.model_validators) <= set(mine.model_validators), part.__name__
    names = [v for part in PARTS.values() for v in part.__pydantic_decorators__.field_validators]  # type: ignore[attr-defined]
    assert len(names) == len(set(names))
    config = BuildConfig(
        subjects="algebra, geometry", benchmarks="math500", contamination_drop="same_problem"
    )
    assert config.subjects == ["algebra", "geometry"] and config.benchmarks == ["math500"]
