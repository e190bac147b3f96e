"""Planning a build as shard tasks: the selected seed stream cut into contiguous slices.

A slice is a range of *positions* of the stream (seeds and the rows that cannot be seeds alike), so
the tasks' outputs, joined in task order, are line for line what one process writes. The plan is
saved beside the tasks (``OUT/shards/plan.json``): a rerun keeps it, so each task finds its own
output and request cache again even when the cluster has grown or shrunk since.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..config import BuildConfig, TaskSlice
from ..location import Location
from ..seeds import iter_seed_stream

__all__ = ["Plan", "count_positions", "load_or_plan", "task_config", "task_dir", "task_json"]

PLAN_FILE = "shards/plan.json"
SEEDS_PER_TASK = 2000  # a task's start-up (imports, worker pool, gate index) is small beside this much work


class Plan(BaseModel):
    """The tasks of one build: ``positions`` items of the selected stream, cut into ``tasks``."""

    model_config = ConfigDict(extra="forbid")

    positions: int
    tasks: list[TaskSlice]
    selection: dict[str, Any]


def count_positions(config: BuildConfig) -> int:
    """How many items (seeds and seed-stage rejects) the config's selection streams."""
    options = {**config.seed_options(), "positions": None}
    return sum(1 for _ in iter_seed_stream(config.require_seeds(), **options))


def _selection(config: BuildConfig) -> dict[str, Any]:
    return {"seeds": config.seeds, **{k: v for k, v in config.seed_options().items() if k != "positions"}}


def default_tasks(positions: int, slots: int) -> int:
    """Every slot busy, up to four tasks a slot (a lost node then costs little), and no task so small
    that its start-up outweighs its work."""
    return max(slots, min(4 * slots, math.ceil(positions / SEEDS_PER_TASK)))


def make_plan(config: BuildConfig, positions: int, slots: int) -> Plan:
    n = max(1, min(config.tasks or default_tasks(positions, slots), max(positions, 1)))
    bounds = [round(i * positions / n) for i in range(n + 1)]
    tasks = [TaskSlice(index=i, count=n, start=bounds[i], stop=bounds[i + 1]) for i in range(n)]
    return Plan(positions=positions, tasks=tasks, selection=_selection(config))


def load_or_plan(config: BuildConfig, location: Location, slots: int) -> Plan:
    """The saved plan when it is for the same selection (and ``tasks`` agrees), else a new one, saved."""
    positions = count_positions(config)
    if location.exists(PLAN_FILE):
        try:
            saved = Plan.model_validate_json(location.read_text(PLAN_FILE))
        except (ValidationError, ValueError):
            saved = None
        if (
            saved is not None
            and saved.positions == positions
            and saved.selection == json.loads(json.dumps(_selection(config)))
            and (config.tasks is None or config.tasks == len(saved.tasks))
        ):
            return saved
    plan = make_plan(config, positions, slots)
    location.mkdir()
    location.child("shards").mkdir()
    with location.open(PLAN_FILE, "w") as f:
        f.write(plan.model_dump_json(indent=2) + "\n")
    return plan


def task_dir(location: Location, task: TaskSlice) -> Location:
    return location.child(f"shards/{task.index:05d}")


def task_config(config: BuildConfig, location: Location, task: TaskSlice, concurrency: int) -> BuildConfig:
    """The config a task runs: the build's own, over its slice, into its folder, with its share of
    ``concurrency``, one worker process (a task holds one CPU) and its own request cache."""
    update: dict[str, Any] = {
        "out": task_dir(location, task).uri,
        "task": task,
        "tasks": None,
        "executor": "local",
        "concurrency": concurrency,
        "workers": config.workers or 1,
        "cache": None,
    }
    if not config.local:  # the driver's servers and key, not defaults read again from a node's environment
        update.update(base_url=config.base_url, api_key=config.api_key)
    return config.model_copy(update=update)


def task_json(config: BuildConfig) -> str:
    """A task's config as it travels to the task: the fields that were set, as set (a default stays a
    default, so the option checks see what the user chose)."""
    return config.model_dump_json(exclude_unset=True)
