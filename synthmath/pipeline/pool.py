"""Feeding the CPU stages to worker processes in batches, from the event loop.

One :class:`WorkerPool` per build (``workers`` processes, default: cores - 1, at least 1). The processes
behind it are shared by every build of the process that asks for as many workers, and kept between
builds: a second build in a notebook, a test session or a script starts without spawning anything. Each
batch names its build; a worker builds that build's state on its warm-up (or on the first batch that
reaches it) and keeps the last two. Jobs submitted within a few
milliseconds of each other travel together, so the per-batch cost of pickling and waking a process is
shared. Every batch has a time budget (``job_timeout`` per job, e.g. the verification timeout per
answer): a batch that overruns it (a pathological expression that sympy cannot finish) gets its
processes killed and its jobs retried one by one on a fresh pool, and a job that overruns alone gets its
``on_timeout`` result. Other requests go on meanwhile: the event loop never waits on the CPU.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing.util
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..errors import SynthmathError
from .cpu import NEED_SPEC, init_worker, prepare_gate, run_batch, warm_up
from .jobs import GateSpec, WorkerSpec
from .spawn import clean_spawn_context

__all__ = ["WorkerPool", "default_workers", "drop_prepared", "prepare_workers", "shutdown_workers"]

log = logging.getLogger(__name__)


def default_workers() -> int:
    """Cores minus one for the event loop, at least one."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cpus - 1)


_SLACK = 2.0  # seconds a batch may take beyond its jobs' budgets (pickling, a slow machine)

_shared: dict[int, ProcessPoolExecutor] = {}  # by number of workers
_shared_lock = threading.Lock()  # builds in several threads share the registry
_finalizer: multiprocessing.util.Finalize | None = None


def _new_executor(workers: int) -> ProcessPoolExecutor:
    # spawn: a clean interpreter, never a fork of a process with an event loop and open sockets; and
    # one that never runs the caller's __main__ again (a script without a main guard, a notebook)
    context = clean_spawn_context()
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=init_worker, initargs=(context.Barrier(workers),)
    )


def _executor(workers: int) -> ProcessPoolExecutor:
    """The process's pool of ``workers`` processes, started on first use (a broken one is replaced)."""
    global _finalizer
    with _shared_lock:
        executor = _shared.get(workers)
        if executor is None or getattr(executor, "_broken", False):
            executor = _shared[workers] = _new_executor(workers)
        if _finalizer is None:
            # stopped before multiprocessing joins the children at exit: a process that is itself a
            # multiprocessing child (a build's shard task) would otherwise wait on idle workers forever
            _finalizer = multiprocessing.util.Finalize(None, shutdown_workers, exitpriority=100)
        return executor


def _replace(workers: int, old: ProcessPoolExecutor) -> bool:
    """Kill ``old``'s processes (a hung worker never returns) and retire it; False when another build
    did so already."""
    with _shared_lock:
        if _shared.get(workers) is not old:
            return False
        del _shared[workers]
    for proc in list(getattr(old, "_processes", {}).values()):
        proc.kill()
    old.shutdown(wait=False, cancel_futures=True)
    return True


def shutdown_workers() -> None:
    """Stop every shared worker process now (they also stop when the process exits)."""
    with _shared_lock:
        executors = list(_shared.values())
        _shared.clear()
    for executor in executors:
        executor.shutdown(wait=True, cancel_futures=True)


# by gate key: its checker, being built in the workers, and their pool
_prepared: dict[str, tuple[asyncio.Future[Any], int, ProcessPoolExecutor]] = {}


def prepare_workers(workers: int | None, gate: GateSpec | None, *, modules: bool = False) -> None:
    """Start the worker processes now and, with a gate, have each build the gate's checker (its index
    from the cache: a second or more), while the caller does its own start-up (the engine); the build's
    :class:`WorkerPool` then finds both ready. ``modules``: only import the gate's modules (NumPy, the
    tokenizer), before the gate's benchmarks are loaded. An error in building the checker is raised by
    the pool's :meth:`~WorkerPool.start`, before any request is sent. Call it from the event loop."""
    workers = workers or default_workers()
    loop = asyncio.get_running_loop()
    executor = _executor(workers)
    # one job per worker: each waits at the pool's barrier, so that no worker takes two
    done = asyncio.gather(
        *(loop.run_in_executor(executor, prepare_gate, gate, modules) for _ in range(workers))
    )
    done.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved by start(), or no one
    if gate is not None and gate.key:
        _prepared[gate.key] = (done, workers, executor)


def drop_prepared(gate: GateSpec | None) -> None:
    """The build ended before its pool started (the engine did not start): stop building its checker
    (a fresh index takes a minute), rather than make the process wait for it at exit."""
    workers, executor = 0, None
    if gate is not None and gate.key in _prepared:
        done, workers, executor = _prepared.pop(gate.key)
        if done.done():
            executor = None
    if executor is not None:
        _replace(workers, executor)


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
        self._key = uuid.uuid4().hex  # names this build's state in the workers
        self._started = False
        self._warmed_on: ProcessPoolExecutor | None = None  # the executor whose workers have our state
        self._warm_lock: asyncio.Lock | None = None
        self._gate_info: dict[str, Any] = {}
        self._pending: list[_Job] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight = 0
        self.batches = 0
        self.restarts = 0
        self.timeouts = 0

    async def start(self) -> dict[str, Any]:
        """Start the workers (or reuse the process's) and build their state; returns the gate's
        description. An error in building it (a benchmark that cannot load) is raised here, before any
        request is sent."""
        self._started = True
        try:
            await self._ready()
        except BrokenProcessPool as e:
            raise SynthmathError(
                "the worker processes for verification and the gate died while starting (see the lines "
                "above) - check that synthmath imports in a fresh Python, or set workers to another number"
            ) from e
        return self._gate_info

    async def _ready(self) -> ProcessPoolExecutor:
        """The executor to submit to, its workers warmed with this build's state (once per executor)."""
        executor = _executor(self.workers)
        if self._warmed_on is executor:
            return executor
        if self._warm_lock is None:
            self._warm_lock = asyncio.Lock()
        async with self._warm_lock:
            executor = _executor(self.workers)
            if self._warmed_on is not executor:
                self._gate_info = await self._warm(executor)
                self._warmed_on = executor
        return executor

    async def _warm(self, executor: ProcessPoolExecutor) -> dict[str, Any]:
        """Build every worker's state (benchmark index, embedding model) outside any time budget: one
        warm-up per worker (each waits at a barrier for the others, so that no worker takes two)."""
        loop = asyncio.get_running_loop()
        gate = self.spec.gate
        prepared = _prepared.pop(gate.key, None) if gate is not None and gate.key else None
        if prepared is not None:
            await prepared[0]  # the checker's error, if building it failed, before any request
        warm = [loop.run_in_executor(executor, warm_up, self._key, self.spec) for _ in range(self.workers)]
        infos = await asyncio.gather(*warm)
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
        executor: ProcessPoolExecutor | None = None
        try:
            executor = await self._ready()  # fresh workers build their state first, outside the budget
            budget = self.job_timeout * sum(j.cost for j in batch) + _SLACK
            results = await self._submit(executor, [j.payload for j in batch], budget)
        except (TimeoutError, BrokenProcessPool) as e:
            self._restart(e, executor)
            for job in batch:  # alone, each job either finishes or is the one that hangs
                executor = None
                try:
                    executor = await self._ready()
                    (result,) = await self._submit(
                        executor, [job.payload], self.job_timeout * job.cost + _SLACK
                    )
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

    async def _submit(
        self, executor: ProcessPoolExecutor, payloads: list[tuple[Any, ...]], budget: float
    ) -> Any:
        if not self._started:
            raise SynthmathError("the worker pool is not running - call start() first")
        loop = asyncio.get_running_loop()

        async def run() -> Any:
            result = await loop.run_in_executor(executor, run_batch, self._key, payloads)
            if isinstance(result, str) and result == NEED_SPEC:  # a worker that has not seen this build
                result = await loop.run_in_executor(executor, run_batch, self._key, payloads, self.spec)
            return result

        return await asyncio.wait_for(run(), budget)

    def _restart(self, why: BaseException, old: ProcessPoolExecutor | None) -> None:
        if old is None or not _replace(self.workers, old):
            return  # another batch (or build) restarted the workers already
        log.warning(
            "a CPU worker overran its time budget or died (%s): restarting the workers", type(why).__name__
        )
        self.restarts += 1

    async def close(self) -> None:
        """Finish the batches in flight. The processes stay for the next build (see the module)."""
        self._dispatch()
        while self._tasks:  # a finished batch may dispatch the next one
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._started = False
