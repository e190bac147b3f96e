"""Where and how a build runs: executor, shard tasks, CPU workers and the rules that stop it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ExecutionConfig", "TaskSlice"]


class TaskSlice(BaseModel):
    """One shard task of a build: task ``index`` of ``count``, over positions ``[start, stop)`` of the
    selected seed stream (rows that cannot be seeds count as positions too)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0)
    count: int = Field(ge=1)
    start: int = Field(ge=0)
    stop: int = Field(ge=0)


class ExecutionConfig(BaseModel):
    """The executor and its shard tasks (docs/scaling.md), the CPU workers and the failure rules."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    executor: Literal["local", "ray"] = Field(
        "local", description="local: this machine; ray: shard tasks on a Ray cluster (synthmath[ray])"
    )
    tasks: int | None = Field(
        None,
        ge=1,
        description="shard tasks to cut the seeds into [default: 1 locally; on Ray, from the seeds and CPUs]",
    )
    ray_address: str | None = Field(
        None, description="Ray cluster to join [default: $RAY_ADDRESS, else a local Ray for the run]"
    )
    task: TaskSlice | None = Field(
        None, description="set by the executors: this run is one shard task of a build"
    )
    workers: int | None = Field(
        None, ge=1, description="worker processes for the CPU stages [default: cores - 1]"
    )
    verify_timeout: float = Field(5.0, gt=0, description="seconds per answer before verify_timeout")
    max_failed_seeds: int = Field(
        10, ge=1, description="stop the build when every request of this many seeds in a row failed"
    )
    max_failed_fraction: float = Field(
        0.5, ge=0.0, le=1.0, description="stop the build when more than this share of requests failed"
    )
