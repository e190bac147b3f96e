"""The contamination gate: which benchmarks seeds and generated questions are checked against, and
what happens to a match (docs/contamination.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..contamination.benchmarks import DEFAULT_BENCHMARKS, check_benchmark_specs
from .io import key_values, known_thresholds, split_commas

__all__ = ["GateConfig", "Level"]

Level = Literal["same_problem", "same_template"]


class GateConfig(BaseModel):
    """The gate's benchmarks, stages, thresholds and what it does with a contaminated text."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    contamination: bool = Field(True, description="check seeds and generated questions against benchmarks")
    benchmarks: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BENCHMARKS),
        description="benchmark names (loaded from the Hub) or NAME=PATH for local files",
    )
    on_contamination: Literal["drop", "flag", "fail"] = "drop"
    contamination_drop: list[Level] = Field(
        ["same_problem"],  # copied for each config, as pydantic does with mutable defaults
        description="the match levels that count as contaminated (same_template: shared wording, other math)",
    )
    contamination_thresholds: dict[str, float] = Field(
        default_factory=dict, description="the gate's thresholds to override, e.g. {nearest_cosine: 0.75}"
    )
    embeddings: bool | None = Field(
        None, description="embedding stage: on, off, or None for on when synthmath[embed] is installed"
    )
    judge: bool = Field(
        False, description="ask the run's model about top candidates and to confirm same-problem matches"
    )
    contamination_cache: Path | None = Field(
        None, description="benchmark index cache [default: ~/.cache/synthmath/contamination]"
    )

    @field_validator("benchmarks", mode="before")
    @classmethod
    def _one_benchmark(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("contamination_drop", mode="before")
    @classmethod
    def _drop_levels(cls, v: Any) -> Any:
        return split_commas(v)

    @field_validator("contamination_thresholds", mode="before")
    @classmethod
    def _threshold_pairs(cls, v: Any) -> Any:
        return known_thresholds(key_values(v, "nearest_cosine=0.75"))  # from repeated --threshold

    @field_validator("benchmarks")
    @classmethod
    def _benchmark_specs(cls, v: list[str]) -> list[str]:
        check_benchmark_specs(v)  # NAME or NAME=PATH, no empty name, no name twice
        return v

    def benchmarks_are_default(self) -> bool:
        return self.benchmarks == list(DEFAULT_BENCHMARKS)
