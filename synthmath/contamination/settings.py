"""The checker's settings: thresholds and levels to drop, and a picklable spec to build a checker from
in a worker process (:meth:`~synthmath.contamination.check.ContaminationChecker.from_spec`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .benchmarks import Benchmark

__all__ = ["CheckerSpec", "Thresholds"]


@dataclass(frozen=True)
class Thresholds:
    """The checker's settings. ``drop``: the levels that make a text contaminated."""

    long_n: int = 13
    short_n: int = 8
    long_overlap: float = 0.2
    short_overlap: float = 0.5
    top_k: int = 5
    nearest_k: int = 15
    embed_score: float = 1.9
    problem_score: float = 1.5
    calibration: float = 0.99
    problem_calibration: float = 0.995
    function_df: float = 0.03
    judge_min: float = 0.5  # a right judge sees 0.90-1.0 of the tuning parts' rewordings (0.7: 0.89-0.98)
    nearest_cosine: float = 0.3
    nearest_score: float = 0.8
    nearest_margin: float = 0.3
    kept_cosine: float = 0.7
    kept_information: float = 8.0
    clear_score: float = 2.0
    clear_margin: float = 0.6
    drop: tuple[str, ...] = ("same_problem",)


@dataclass(frozen=True)
class CheckerSpec:
    """Everything a worker process needs to build the same checker: benchmarks (specs such as
    ``"math_test"`` or ``"gsm8k_test=PATH"``, or loaded :class:`Benchmark` s), whether to use the
    embedding stage and its model, thresholds and the index cache. Picklable."""

    benchmarks: tuple[str | Benchmark, ...]
    embeddings: bool = True
    model: str = "sentence-transformers/all-MiniLM-L6-v2"
    thresholds: Thresholds = field(default_factory=Thresholds)
    cache_dir: Path | None = None
    judge: bool = False  # list judge candidates in the screenings (the judge runs elsewhere)
