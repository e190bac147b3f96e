"""The Ray executor: shard tasks as Ray tasks on a cluster.

Each task asks Ray for one CPU (and, with ``--backend vllm``, the GPUs of one vLLM engine, which it
loads inside the task), reads its own slice of the seeds and writes its own folder under ``--out``, so
nothing funnels through the driver: the driver plans the tasks, keeps at most ``parallel`` of them
submitted (which keeps ``--concurrency`` a ceiling for the whole run), shows their counts and merges
their summaries. A task whose worker or node dies is run again by Ray wherever there is room, and
resumes from its own request cache; a cluster that shrinks to one CPU still finishes the run.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from ..config import BuildConfig
from ..errors import SynthmathError
from ..summary import Summary
from .base import Tick
from .plan import task_json
from .ray_runtime import cluster_resources, ray_session
from .task import run_task

__all__ = ["RayExecutor"]

TASK_RETRIES = 100  # a task is run again after its worker or node died, up to this many times
FORWARDED_PREFIXES = ("AWS_", "GOOGLE_", "AZURE_", "FSSPEC_", "HF_", "SYNTHMATH_")
CANCEL_GRACE_S = 15.0  # after Ctrl-C: how long cancelled tasks get to write their partial summaries
CANCEL_AGAIN_S = 4.0  # after Ctrl-C: how long a task has to end before its cancel is sent again


class Board:
    """The tasks' latest counts, by task index (an actor on the driver's node; one small call a second
    from each task)."""

    def __init__(self) -> None:
        self.counts: dict[int, dict[str, Any]] = {}

    def report(self, index: int, counts: dict[str, Any]) -> None:
        self.counts[index] = counts

    def snapshot(self) -> dict[int, dict[str, Any]]:
        return self.counts


class _Report:
    """What a task calls with its counts: a fire-and-forget call to the board."""

    def __init__(self, board: Any) -> None:
        self.board = board

    def __call__(self, index: int, counts: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # progress is never worth failing a task for
            self.board.report.remote(index, counts)


class RayExecutor:
    name = "ray"

    def __init__(self, config: BuildConfig, verbose: bool = False) -> None:
        self.config, self.verbose = config, verbose
        self._session = ray_session(config.ray_address, verbose=verbose)
        self.ray: Any = None

    def __enter__(self) -> RayExecutor:
        self.ray = self._session.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._session.__exit__(*exc)

    def _gpus_per_task(self) -> int:
        if self.config.backend != "vllm":
            return 0
        return int(self.config.vllm_args.get("tensor_parallel_size", 1))

    @property
    def slots(self) -> int:
        total = cluster_resources()
        gpus = self._gpus_per_task()
        if gpus:
            if total["GPU"] < gpus:
                raise SynthmathError(
                    f"--backend vllm on Ray needs GPU nodes: the cluster has {total['GPU']:g} GPUs and each "
                    f"task needs tensor_parallel_size={gpus} - join a GPU cluster with --ray-address, or "
                    "use --base-url"
                )
            return max(1, int(total["GPU"] // gpus))
        return max(1, int(total["CPU"]))

    def run(self, kind: str, configs: list[BuildConfig], parallel: int, on_tick: Tick) -> list[Summary]:
        ray = self.ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = ray.get_runtime_context().get_node_id()
        board = (
            ray.remote(Board)
            .options(
                num_cpus=0,
                max_restarts=-1,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=True),
            )
            .remote()
        )
        env = forwarded_env()
        task = ray.remote(run_task).options(
            num_cpus=1,
            num_gpus=self._gpus_per_task(),
            max_retries=TASK_RETRIES,
            retry_exceptions=False,
            **({"runtime_env": {"env_vars": env}} if env else {}),
        )
        report = _Report(board)
        queue = list(enumerate(configs))
        running: dict[Any, int] = {}
        results: dict[int, Summary] = {}
        try:
            while queue or running:
                while queue and len(running) < parallel:
                    i, c = queue.pop(0)
                    running[task.remote(kind, task_json(c), report, self.verbose)] = i
                done, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
                for ref in done:
                    i = running.pop(ref)
                    results[i] = Summary.model_validate_json(_get(ray, ref))
                with contextlib.suppress(Exception):
                    on_tick(ray.get(board.snapshot.remote(), timeout=5))
        except BaseException:
            _cancel(ray, list(running))
            raise
        with contextlib.suppress(Exception):  # the tasks' last counts
            on_tick(ray.get(board.snapshot.remote(), timeout=5))
        return [results[i] for i in range(len(configs))]


def forwarded_env() -> dict[str, str]:
    """The driver's settings that tasks need wherever they run: storage credentials and endpoints for
    ``--out`` (AWS_*, GOOGLE_*, AZURE_*, FSSPEC_*), Hub access (HF_*) and synthmath's own."""
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES)}


def _get(ray: Any, ref: Any) -> str:
    """A task's result; the SynthmathError that stopped it, as it was raised there."""
    try:
        return str(ray.get(ref))
    except Exception as e:
        raise unwrap(e) from None


def _cancel(ray: Any, refs: list[Any]) -> None:
    """Cancel running tasks (each gets a KeyboardInterrupt and writes its partial summary and cache),
    waiting a little for them to finish doing so. The cancel is sent again to a task that goes on
    running: one that lands as the task starts can be lost, and the task would run on (and send
    requests) until Ray kills it with the driver. One still running at the end is stopped outright."""
    deadline = time.monotonic() + CANCEL_GRACE_S
    pending = list(refs)
    while pending and time.monotonic() < deadline:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=False)
        waited = time.monotonic() + CANCEL_AGAIN_S  # a cancelled task writes its summary in well under this
        while pending and time.monotonic() < min(waited, deadline):
            with contextlib.suppress(Exception):
                _, pending = ray.wait(pending, num_returns=len(pending), timeout=0.5)
    for ref in pending:
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=True)


def unwrap(e: BaseException) -> BaseException:
    """The SynthmathError inside Ray's wrappers (a benchmark that cannot load in a task, ...)."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, SynthmathError):
            return cur
        seen.add(id(cur))
        cur = getattr(cur, "cause", None) or cur.__cause__
    return e
