"""Feeding the CPU stages to worker processes in batches, from the event loop.

One pool per build (``workers`` processes, default: cores - 1, at least 1). Jobs submitted within a few
milliseconds of each other travel together, so the per-batch cost of pickling and waking a process is
shared. Every batch has a time budget (``job_timeout`` per job, e.g. the verification timeout per
answer): a batch that overruns it (a pathological expression that sympy cannot finish) gets its
processes killed and its jobs retried one by one on a fresh pool, and a job that overruns alone gets its
``on_timeout`` result. Other requests go on meanwhile: the event loop never waits on the CPU.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..errors import SynthmathError
from .cpu import init_worker, run_batch, warm_up
from .jobs import WorkerSpec

__all__ = ["WorkerPool", "default_workers"]

log = logging.getLogger(__name__)


def default_workers() -> int:
    """Cores minus one for the event loop, at least one."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cpus - 1)


_SLACK = 2.0  # seconds a batch may take beyond its jobs' budgets (pickling, a slow machine)


class _Job:
    __slots__ = ("cost", "future", "on_timeout", "payload")

    def __init__(
        self, payload: tuple[Any, ...], on_timeout: Callable[[], Any], cost: int, future: asyncio.Future[Any]
    ) -> None:
        self.payload, self.on_timeout, self.cost, self.future = payload, on_timeout, cost, future


class WorkerPool:
    """Submit CPU jobs with :meth:`run`; batching, timeouts and worker restarts happen here."""

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        workers: int | None = None,
        job_timeout: float = 5.0,
        max_batch: int = 64,
        linger: float = 0.002,
    ) -> None:
        self.spec = spec
        self.workers = workers or default_workers()
        self.job_timeout = job_timeout
        self.max_batch = max_batch
        self.linger = linger
        self._executor: ProcessPoolExecutor | None = None
        self._pending: list[_Job] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight = 0
        self._warming: asyncio.Future[dict[str, Any]] | None = None
        self.batches = 0
        self.restarts = 0
        self.timeouts = 0

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn: a clean interpreter, never a fork of a process with an event loop and open sockets
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(self.spec,),
        )

    async def start(self) -> dict[str, Any]:
        """Start the workers and build their state; returns the gate's description. An error in building
        it (a benchmark that cannot load) is raised here, before any request is sent."""
        self._executor = self._new_executor()
        self._warming = asyncio.ensure_future(self._warm(self._executor))
        try:
            return await self._warming
        except BrokenProcessPool as e:
            raise SynthmathError(
                "the worker processes for verification and the gate died while starting (see the lines "
                "above) - check that synthmath imports in a fresh Python, or set workers to another number"
            ) from e

    async def _warm(self, executor: ProcessPoolExecutor) -> dict[str, Any]:
        """Build every worker's state (benchmark index, embedding model) outside any time budget: one
        warm-up per worker, each long enough that no worker takes two."""
        loop = asyncio.get_running_loop()
        infos = await asyncio.gather(*(loop.run_in_executor(executor, warm_up) for _ in range(self.workers)))
        return infos[0]

    async def run(self, payload: tuple[Any, ...], on_timeout: Callable[[], Any], cost: int = 1) -> Any:
        """The result of one job (``cost``: how many ``job_timeout`` budgets it may take, e.g. its
        answers); the job's exception is raised here."""
        loop = asyncio.get_running_loop()
        job = _Job(payload, on_timeout, max(cost, 1), loop.create_future())
        self._pending.append(job)
        if self._inflight < self.workers:
            if len(self._pending) >= self.max_batch:
                self._dispatch()
            elif self._flush_handle is None:
                self._flush_handle = loop.call_later(self.linger, self._dispatch)
        result = await job.future
        if isinstance(result, BaseException):
            raise result
        return result

    def _dispatch(self) -> None:
        """One batch per idle worker: while all are busy, jobs gather into the next batches (so the
        batches grow with the load, and a batch's time budget starts when a worker takes it)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        while self._pending and self._inflight < self.workers:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            self._inflight += 1
            task = asyncio.ensure_future(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._inflight -= 1
        self._dispatch()

    async def _send(self, batch: list[_Job]) -> None:
        executor = self._executor
        try:
            budget = self.job_timeout * sum(j.cost for j in batch) + _SLACK
            results = await self._submit([j.payload for j in batch], budget)
        except (TimeoutError, BrokenProcessPool) as e:
            self._restart(e, executor)
            for job in batch:  # alone, each job either finishes or is the one that hangs
                executor = self._executor
                try:
                    (result,) = await self._submit([job.payload], self.job_timeout * job.cost + _SLACK)
                except (TimeoutError, BrokenProcessPool) as e1:
                    self._restart(e1, executor)
                    self.timeouts += 1
                    result = job.on_timeout()
                except BaseException as e2:
                    result = e2
                if not job.future.done():
                    job.future.set_result(result)
            return
        except BaseException as e:  # the pool is gone (shutdown, Ctrl-C): fail the jobs
            results = [e] * len(batch)
        self.batches += 1
        for job, result in zip(batch, results, strict=True):
            if not job.future.done():
                job.future.set_result(result)

    async def _submit(self, payloads: list[tuple[Any, ...]], budget: float) -> list[Any]:
        if self._executor is None or self._warming is None:
            raise SynthmathError("the worker pool is not running - call start() first")
        await self._warming  # fresh workers build their state first, outside the budget
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._executor, run_batch, payloads)
        return await asyncio.wait_for(fut, budget)

    def _restart(self, why: BaseException, old: ProcessPoolExecutor | None) -> None:
        if old is None or old is not self._executor:
            return  # another batch restarted the workers already
        log.warning(
            "a CPU worker overran its time budget or died (%s): restarting the workers", type(why).__name__
        )
        self.restarts += 1
        for proc in list(getattr(old, "_processes", {}).values()):  # a hung worker never returns
            proc.kill()
        old.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()
        self._warming = asyncio.ensure_future(self._warm(self._executor))

    async def close(self) -> None:
        self._dispatch()
        while self._tasks:  # a finished batch may dispatch the next one
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)
