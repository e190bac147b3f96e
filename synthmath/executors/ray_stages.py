"""The build's stages as Ray Data ``map_batches`` callables: the same stage code as the local executor.

A row is one seed's :class:`~synthmath.pipeline.SeedWork`, pickled (``work``), and a trace of the stages
it went through (``trace``: per batch, when it ran, how many rows, and the engine's counts since the
actor last reported them), which the driver adds up into per-stage throughput and the engine totals.

- :class:`CPUStage` runs one kind of CPU job (``gate``, ``questions``, ``answers``) through a
  :class:`~synthmath.pipeline.WorkerPool` of one process: the worker builds the stage state (prompt
  steps, the contamination checker) once, and verification keeps its time budget, exactly as locally.
- :class:`LLMStage` sends one step's requests (``questions`` or ``answers``), async, bounded by the
  actor's own in-flight limit, through its own engine: OpenAI-compatible servers (balanced by the
  engine) or the run's vLLM replicas (:class:`VLLMReplica`, GPU actors), with the request cache actor
  in front (:class:`RemoteCachedEngine`).
"""

from __future__ import annotations

import asyncio
import pickle
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, Literal

from ..config import BuildConfig
from ..engine.base import ChatRequest, ChatResult, EngineStats
from ..engine.cache import CachedEngine
from ..errors import ContaminationError
from ..pipeline import GateSpec, Kind, Pipeline, SeedWork, WorkerPool, WorkerSpec
from ..pipeline.jobs import answer_timeout, question_timeout

__all__ = ["CPUStage", "LLMStage", "RemoteCachedEngine", "VLLMReplica", "engine_delta", "rows"]

Batch = dict[str, Any]


def rows(works: list[SeedWork]) -> list[dict[str, Any]]:
    """Dataset rows for seeds entering the stages."""
    return [{"work": pickle.dumps(w), "trace": pickle.dumps([])} for w in works]


def _out(works: list[SeedWork], traces: list[list[dict[str, Any]]], entry: dict[str, Any]) -> Batch:
    if traces:
        traces[0].append(entry)  # once per batch: the driver adds the batches up
    return {"work": [pickle.dumps(w) for w in works], "trace": [pickle.dumps(t) for t in traces]}


def _in(batch: Batch) -> tuple[list[SeedWork], list[list[dict[str, Any]]]]:
    return [pickle.loads(b) for b in batch["work"]], [pickle.loads(b) for b in batch["trace"]]


def engine_delta(stats: EngineStats, last: dict[str, Any]) -> dict[str, Any]:
    """The engine's counts since ``last`` (updated to now): each count is reported exactly once."""
    now = stats.to_dict()
    delta = {k: v - last.get(k, 0) for k, v in now.items() if isinstance(v, (int, float))}
    per = Counter(now["requests_per_server"])
    per.subtract(last.get("requests_per_server", {}))
    delta["requests_per_server"] = {k: v for k, v in per.items() if v}
    last.clear()
    last.update(now)
    return delta


class CPUStage:
    """One CPU stage over batches of seeds (``job``: gate, questions or answers)."""

    def __init__(self, spec: WorkerSpec, job: Literal["gate", "questions", "answers"], timeout: float):
        self.spec, self.job, self.timeout = spec, job, timeout
        self.mode = spec.gate.mode if spec.gate is not None else None
        self.pool: WorkerPool | None = None
        self.info: dict[str, Any] | None = None
        self._lock: asyncio.Lock | None = None

    async def _pool(self) -> WorkerPool:
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self.pool is None:
                pool = WorkerPool(self.spec, workers=1, job_timeout=self.timeout)
                self.info = await pool.start()
                self.pool = pool
        return self.pool

    async def __call__(self, batch: Batch) -> AsyncIterator[Batch]:
        pool = await self._pool()
        started = time.time()
        works, traces = _in(batch)
        await asyncio.gather(*(self._one(pool, w) for w in works))
        entry: dict[str, Any] = {"stage": f"{self.job} (CPU)", "t0": started, "t1": time.time()}
        entry["rows"] = len(works)
        if self.job == "gate" and self.info is not None:
            entry["gate_info"] = self.info
        yield _out(works, traces, entry)

    async def _one(self, pool: WorkerPool, w: SeedWork) -> None:
        seed = w.seed
        try:
            if self.job == "gate":
                if w.error is None:
                    w.gate = await pool.run(("gate", seed), lambda: _gate_timeout(seed.id))
            elif self.job == "questions":
                if not w.stops_at_gate(self.mode):
                    job = ("questions", seed, w.question_result)
                    cost = len(w.question_result.choices) + 1 if w.question_result is not None else 1
                    w.questions = await pool.run(job, lambda: question_timeout(seed), cost)
            elif w.needs_answers(self.mode):
                qs = w.questions.questions if w.questions is not None else []
                job2 = ("answers", seed, qs, w.answer_results, w.flagged())
                cost = sum(len(r.choices) for r in w.answer_results)
                w.answers = await pool.run(job2, lambda: answer_timeout(seed, qs, self.timeout), cost)
        except Exception as e:  # raised by the driver when it reaches this seed, in order
            w.error = e


def _gate_timeout(seed_id: str) -> ContaminationError:
    return ContaminationError(
        f"the contamination check of seed {seed_id} overran its time budget - rerun, or raise verify_timeout"
    )


class RemoteCachedEngine(CachedEngine):
    """:class:`~synthmath.engine.cache.CachedEngine` with the cache actor in place of the SQLite file."""

    def __init__(self, inner: Any, actor: Any) -> None:
        super().__init__(inner, actor)
        self.actor = actor  # the cache actor's handle: .get.remote(key), .put.remote(key, result)

    async def _get(self, key: str) -> ChatResult | None:
        cached: ChatResult | None = await self.actor.get.remote(key)
        return cached

    async def _put(self, key: str, result: ChatResult) -> None:
        await self.actor.put.remote(key, result)

    async def close(self) -> None:  # the cache actor belongs to the run, not to this engine
        await self.inner.close()


class VLLMReplica:
    """One in-process vLLM engine on a GPU actor (``num_gpus`` = tensor_parallel_size), shared by both
    LLM stages: requests from every stage actor are batched into its ``LLM.chat`` calls."""

    def __init__(self, model: str, engine_args: dict[str, Any], max_batch: int) -> None:
        from ..engine.vllm_engine import VLLMEngine

        args = dict(engine_args)
        if int(args.get("tensor_parallel_size", 1)) > 1:
            # the GPUs Ray gave this actor, driven by vLLM's own worker processes (no nested Ray)
            args.setdefault("distributed_executor_backend", "mp")
        self.engine = VLLMEngine(model, engine_args=args, max_batch=max_batch)
        self._started: asyncio.Task[None] | None = None

    async def complete(self, request: ChatRequest) -> ChatResult:
        if self._started is None:
            self._started = asyncio.ensure_future(self.engine.start())
        await asyncio.shield(self._started)
        return await self.engine.complete(request)


class ReplicaEngine:
    """The engine of a stage actor under ``--backend vllm``: each request to the replica with the fewest
    requests outstanding from this actor; tokens counted from the replies."""

    def __init__(self, model: str, replicas: list[Any], concurrency: int) -> None:
        self.model, self.replicas = model, replicas
        self.stats = EngineStats()
        self.outstanding = [0] * len(replicas)
        self._semaphore = asyncio.Semaphore(concurrency)

    async def start(self) -> None:
        return None

    async def complete(self, request: ChatRequest) -> ChatResult:
        async with self._semaphore:
            i = min(range(len(self.replicas)), key=self.outstanding.__getitem__)
            self.outstanding[i] += 1
            try:
                result: ChatResult = await self.replicas[i].complete.remote(request)
            finally:
                self.outstanding[i] -= 1
        self.stats.requests += 1
        self.stats.per_server[f"vllm-replica-{i}"] += 1
        self.stats.failed_requests += result.error is not None
        self.stats.prompt_tokens += result.prompt_tokens
        self.stats.completion_tokens += result.completion_tokens
        return result

    def info(self) -> dict[str, Any]:
        return {"model": self.model}

    async def close(self) -> None:
        return None


class LLMStage:
    """One LLM step (``questions`` or ``answers``) over batches of seeds, with this actor's engine."""

    def __init__(
        self,
        kind: Kind,
        config: BuildConfig,
        step: Literal["questions", "answers"],
        gate: GateSpec | None,
        cache: Any,
        replicas: list[Any] | None,
    ) -> None:
        self.kind, self.config, self.step, self.cache, self.replicas = kind, config, step, cache, replicas
        self.mode = gate.mode if gate is not None else None
        self.pipeline: Pipeline | None = None
        self.reported: dict[str, Any] = {}
        self._lock: asyncio.Lock | None = None

    async def _pipeline(self) -> Pipeline:
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self.pipeline is None:
                from ..engine.factory import make_engine

                c = self.config
                assert c.model is not None
                inner: Any = (
                    ReplicaEngine(c.model, self.replicas, c.concurrency) if self.replicas else make_engine(c)
                )
                engine = RemoteCachedEngine(inner, self.cache) if self.cache is not None else inner
                await engine.start()
                self.pipeline = Pipeline(c, self.kind, engine)  # for its steps: requests built as locally
        return self.pipeline

    async def __call__(self, batch: Batch) -> AsyncIterator[Batch]:
        p = await self._pipeline()
        started = time.time()
        works, traces = _in(batch)
        await asyncio.gather(*(self._one(p, w) for w in works))
        entry = {"stage": f"{self.step} (LLM)", "t0": started, "t1": time.time(), "rows": len(works)}
        entry["engine"] = engine_delta(p.engine.stats, self.reported)
        yield _out(works, traces, entry)

    async def _one(self, p: Pipeline, w: SeedWork) -> None:
        seed = w.seed
        if self.step == "questions":
            if not w.stops_at_gate(self.mode):
                w.question_result = await p.engine.complete(p.question_step.request(seed))
        elif w.needs_answers(self.mode):
            qs = w.questions.questions if w.questions is not None else []
            w.answer_results = list(
                await asyncio.gather(
                    *(p.engine.complete(p.answer_step.request(seed, q, i)) for i, q in enumerate(qs))
                )
            )
