"""The driver of a sharded build: plan the tasks, run the missing ones on an executor, merge.

    plan (count the selected seeds, cut them into slices) ──► executor runs task k ──► OUT/shards/k/
    skip tasks whose folder holds their finished summary                   records, rejects, cache,
    merge the tasks' files, in task order, into OUT  ◄──────────────────── summary.json (done marker)

The driver reads the seeds once, only to count them; each task reads its own slice, sends its own
requests and writes its own files. A rerun after a crash or Ctrl-C skips the finished tasks, and the
others resume from their own request caches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ..config import BuildConfig
from ..errors import opt
from ..location import Location
from ..lock import hold
from ..merge import merge_tasks
from ..output import RemoteMirror, prepare_dir
from ..progress import ProgressReporter
from ..summary import Summary
from .base import Executor
from .plan import load_or_plan, task_config, task_dir
from .task import finished_summary

__all__ = ["open_executor", "run_sharded"]

log = logging.getLogger(__name__)


def open_executor(config: BuildConfig) -> Executor:
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    if config.executor == "ray":
        from .ray import RayExecutor

        return RayExecutor(config, verbose)
    from .local import LocalExecutor

    return LocalExecutor(config, verbose)


def run_sharded(kind: str, config: BuildConfig, *, progress: bool = False) -> Summary:
    """Build ``config`` as shard tasks on its executor and merge them into ``config.out``."""
    from ..run_build import preflight

    assert config.out is not None
    location = Location(config.out)
    started = time.time()
    asyncio.run(preflight(config, executor_checks=config.executor != "ray"))
    staging = location.staging()
    prepare_dir(staging)
    with hold(staging, f"build-{kind}"):  # one run writes OUT at a time (and its tasks' folders with it)
        return _run(kind, config, location, started, progress)


def _run(kind: str, config: BuildConfig, location: Location, started: float, progress: bool) -> Summary:
    with open_executor(config) as executor:
        plan = load_or_plan(config, location, executor.slots)
        parallel = max(1, min(len(plan.tasks), executor.slots, config.concurrency))
        share = max(1, config.concurrency // parallel)
        with _managed(config, location) as run_config:
            configs = [task_config(run_config, location, t, share) for t in plan.tasks]
            finished = {i: s for i, c in enumerate(configs) if (s := finished_summary(location, c))}
            todo = [c for i, c in enumerate(configs) if i not in finished]
            if finished:
                log.info("%d of %d tasks already finished: resuming the others", len(finished), len(configs))
            done_positions = sum(plan.tasks[i].stop - plan.tasks[i].start for i in finished)
            with ProgressReporter(plan.positions, enabled=progress) as bar:
                line = _Line(bar, done_positions, len(finished), len(configs), [c.task for c in todo])
                ran = executor.run(kind, todo, parallel, line.tick) if todo else []
                line.tick({}, final=True)
    summaries = dict(finished)
    for c, s in zip(todo, ran, strict=True):
        assert c.task is not None
        summaries[c.task.index] = s
    tasks = [task_dir(location, t) for t in plan.tasks]
    merged, names = merge_tasks(
        tasks, [summaries[i] for i in range(len(tasks))], location, config.public_dict()
    )
    merged = merged.model_copy(
        update={
            "wall_time_s": round(time.time() - started, 3),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "engine": {
                **merged.engine,
                "executor": executor.name,
                "tasks": len(tasks),
                "tasks_resumed": len(finished),
                "parallel_tasks": parallel,
                "concurrency_per_task": share,
                "tasks_per_node": line.per_node(),
            },
        }
    )
    staging = location.staging()
    merged.write(staging / "summary.json")
    if location.remote:
        RemoteMirror(location, staging, None).publish(names)
    return merged


class _Line:
    """The driver's progress: positions finished across tasks, tasks done, and the running totals."""

    def __init__(self, bar: ProgressReporter, base: int, done: int, total: int, todo: list[Any]) -> None:
        self.bar, self.base, self.done, self.total = bar, base, done, total
        self.sizes = {t.index: t.stop - t.start for t in todo}
        self.latest: dict[int, dict[str, Any]] = {}

    def per_node(self) -> dict[str, int]:
        """How many of the tasks that ran now ran on each node (host)."""
        nodes = Counter(str(c.get("node")) for c in self.latest.values() if c.get("node"))
        return dict(sorted(nodes.items()))

    def tick(self, counts: dict[int, dict[str, Any]], final: bool = False) -> None:
        self.latest.update(counts)
        finished = sum(c.get("seeds_finished", 0) for c in self.latest.values())
        done_tasks = self.done + sum(
            1 for i, c in self.latest.items() if c.get("seeds_finished", 0) >= self.sizes.get(i, 0) > 0
        )
        kept = sum(c.get("records", 0) for c in self.latest.values())
        rejected = sum(c.get("rejects", 0) for c in self.latest.values())
        requests = sum(c.get("requests", 0) for c in self.latest.values())
        tokens = sum(c.get("completion_tokens", 0) for c in self.latest.values())
        elapsed = max(self.bar.elapsed, 1e-9)
        text = (
            f"tasks done {done_tasks}/{self.total} | kept {kept} | rejected {rejected} | "
            f"{requests / elapsed:.1f} req/s | {tokens / elapsed:.0f} out tok/s"
        )
        self.bar.update(self.base + finished, text, force=final)


@contextlib.contextmanager
def _managed(config: BuildConfig, location: Location) -> Iterator[BuildConfig]:
    """The config the tasks run with: a server that ``local`` (llama.cpp) or ``serve`` asks for is
    started here, once, and the tasks send to it like to any ``base_url``."""
    from ..engine.managed import ManagedServer

    log_path = location.staging() / "logs" / "server.log" if not location.remote else None
    server = ManagedServer.from_config(config, log_path=log_path)
    if server is None:
        yield config
        return
    if config.executor == "ray":
        log.warning(
            "%s starts its server on this machine: tasks on other nodes cannot reach it - "
            "serve the model on every node and pass --base-url instead",
            opt("serve") if config.serve else opt("local"),
        )
    with server:
        yield server.config_for_run(config)
