"""The local executor: shard tasks as processes of this machine.

With one task (the default) a build runs in the calling process and writes ``--out`` directly; with
``tasks`` above 1 each task is a process of its own, ``parallel`` at a time, exactly as the Ray executor
runs them on a cluster.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from ..config import BuildConfig
from ..pipeline.spawn import clean_spawn_context
from ..stopping import Stopped
from ..summary import Summary
from .base import Tick
from .plan import task_json
from .task import run_task

__all__ = ["LocalExecutor"]


class _Board:
    """Where task processes leave their latest counts (a managed dict, picklable to them)."""

    def __init__(self, shared: Any) -> None:
        self.shared = shared

    def __call__(self, index: int, counts: dict[str, Any]) -> None:
        self.shared[index] = counts


class LocalExecutor:
    name = "local"

    def __init__(self, config: BuildConfig, verbose: bool = False) -> None:
        self.config, self.verbose = config, verbose

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @property
    def slots(self) -> int:
        return max(1, os.cpu_count() or 1)

    def run(self, kind: str, configs: list[BuildConfig], parallel: int, on_tick: Tick) -> list[Summary]:
        ctx = clean_spawn_context()  # spawn, never running the caller's __main__ again (a script, a notebook)
        with ctx.Manager() as manager, ProcessPoolExecutor(max_workers=parallel, mp_context=ctx) as pool:
            board = _Board(manager.dict())
            futures: dict[Future[str], int] = {
                pool.submit(run_task, kind, task_json(c), board, self.verbose): i
                for i, c in enumerate(configs)
            }
            results: dict[int, Summary] = {}
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for fut in done:
                        results[futures[fut]] = Summary.model_validate_json(fut.result())
                    on_tick(dict(board.shared))
            except BaseException as e:
                for fut in pending:
                    fut.cancel()
                if isinstance(e, Stopped) and e.signum != signal.SIGINT:
                    _interrupt(pool)  # SIGTERM, SIGHUP reached this process only: the tasks stop as on Ctrl-C
                time.sleep(0)  # the running tasks got the same Ctrl-C and write their partial summaries
                raise
        return [results[i] for i in range(len(configs))]


def _interrupt(pool: ProcessPoolExecutor) -> None:
    """Ctrl-C for each task process still running: it writes its partial summary and stops its own."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.pid and proc.is_alive():
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGINT)
