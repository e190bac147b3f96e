"""What an executor is: a place to run shard tasks, nothing more.

An executor is told how many tasks may run at once and gets the tasks' configs; it runs
:func:`~synthmath.executors.task.run_task` for each, somewhere, reports the tasks' progress counts to
``on_tick`` while they run, and returns their summaries in task order. It never touches seeds, records
or stages: each task reads its own slice and writes its own folder.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ..config import BuildConfig
from ..summary import Summary

__all__ = ["Executor", "Tick"]

Tick = Callable[[dict[int, dict[str, Any]]], None]  # each running task's latest counts, by task index


class Executor(AbstractContextManager["Executor"], Protocol):
    name: str

    @property
    def slots(self) -> int:
        """How many tasks can run at once here (CPUs of the machine or cluster, GPU groups for vLLM)."""
        ...

    def run(self, kind: str, configs: list[BuildConfig], parallel: int, on_tick: Tick) -> list[Summary]:
        """Run the tasks, at most ``parallel`` at once; their summaries in the order given."""
        ...
