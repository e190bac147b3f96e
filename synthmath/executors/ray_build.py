"""The Ray executor's driver: ``ray_stream(kind, config, gate)`` is ``stream_build`` on a Ray cluster.

The driver reads the seeds and admits them (skipped rows and repeated ids become rejects here, as
locally), hands windows of seeds to Ray Data as datasets, and takes each finished seed back in seed
order, counting it through :meth:`Pipeline.account`: the same records, rejects and counts as the local
executor, written by the same writer. The stages run where Ray puts them:

    seeds -> gate (CPU) -> questions (LLM) -> questions (CPU) -> answers (LLM) -> answers (CPU)

Ray retries a task whose worker died and restarts a dead actor; a retried request is answered by the
request cache, so a ``kill -9`` of any worker leaves the output as it would have been.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import pickle
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import BuildConfig
from ..engine.base import ChatRequest, ChatResult, EngineStats
from ..errors import ConfigError, SynthmathError
from ..pipeline import Emitted, GateSpec, Kind, Pipeline, SeedWork
from ..records import Reject, SeedProblem
from ..summary import GateSummary
from .ray_runtime import cluster_resources, ray_session, start_cache
from .ray_stages import CPUStage, LLMStage, VLLMReplica, rows

__all__ = ["ClusterStats", "ray_stream"]

log = logging.getLogger(__name__)

WINDOW = 50_000  # seeds per dataset: bounds the driver's memory; the pipeline drains at each boundary


@dataclass
class ClusterStats(EngineStats):
    """The engine counts of every LLM actor, added up, and each stage's throughput across the cluster."""

    stages: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, entry: dict[str, Any]) -> None:
        s = self.stages.setdefault(entry["stage"], {"rows": 0, "busy_s": 0.0, "t0": entry["t0"], "t1": 0.0})
        s["rows"] += entry["rows"]
        s["busy_s"] += entry["t1"] - entry["t0"]
        s["t0"], s["t1"] = min(s["t0"], entry["t0"]), max(s["t1"], entry["t1"])
        d = entry.get("engine")
        if d:
            for k in ("requests", "failed_requests", "retries", "prompt_tokens", "completion_tokens"):
                setattr(self, k, getattr(self, k) + d.get(k, 0))
                s[k] = s.get(k, 0) + d.get(k, 0)
            for k in ("cache_hits", "cached_prompt_tokens", "cached_completion_tokens"):
                setattr(self, k, getattr(self, k) + d.get(k, 0))
            self.per_server.update(d.get("requests_per_server", {}))

    def throughput(self) -> dict[str, dict[str, float]]:
        """Per stage: rows, and rows/s, requests/s and completion tokens/s over the stage's active span."""
        out: dict[str, dict[str, float]] = {}
        for name, s in self.stages.items():
            span = max(s["t1"] - s["t0"], 1e-9)
            row: dict[str, float] = {"rows": s["rows"], "rows_per_s": round(s["rows"] / span, 2)}
            if "requests" in s:
                row["requests_per_s"] = round(s["requests"] / span, 2)
                row["tokens_per_s"] = round((s["prompt_tokens"] + s["completion_tokens"]) / span, 1)
            out[name] = row
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "executor": "ray", "stages": self.throughput()}


class ClusterEngine:
    """What the driver's Pipeline sees of the cluster's engines: the model, the servers, the counts."""

    def __init__(self, model: str, info: dict[str, Any]) -> None:
        self.model, self._info, self.stats = model, info, ClusterStats()

    async def start(self) -> None:
        return None

    async def complete(self, request: ChatRequest) -> ChatResult:
        raise SynthmathError("the Ray executor sends requests from its actors, not the driver")

    def info(self) -> dict[str, Any]:
        return self._info

    async def close(self) -> None:
        return None


async def ray_stream(
    kind: Kind,
    config: BuildConfig,
    gate: GateSpec | None,
    seeds: Iterable[SeedProblem | Reject] | None = None,
    *,
    gate_skipped: str | None = None,
    log_path: Path | None = None,
    verbose: bool | None = None,
    on_start: Callable[[Pipeline], None] | None = None,
) -> AsyncIterator[tuple[Pipeline, Emitted]]:
    """Every record, reject and gate row of the build, in seed order, with the driver's Pipeline
    (also given to ``on_start`` as soon as it exists)."""
    if verbose is None:
        verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    with ray_session(config.ray_address, verbose=verbose):
        async with _resolved(config, log_path) as (run_config, info):
            assert run_config.model is not None
            engine = ClusterEngine(run_config.model, info)
            pipeline = Pipeline(config, kind, engine, gate=gate)
            pipeline.gate_skipped = gate_skipped
            if gate is not None:
                pipeline.gate_summary = GateSummary(mode=gate.mode)
            if on_start is not None:
                on_start(pipeline)
            path = config.cache_path()
            cache = start_cache(str(path)) if path is not None else None
            replicas = _replicas(run_config) if config.backend == "vllm" else None
            source = iter(seeds) if seeds is not None else pipeline.seeds_from_config()
            while window := list(itertools.islice(source, WINDOW)):
                admitted = [pipeline.admit(item) for item in window]
                works = [SeedWork(a) for a in admitted if isinstance(a, SeedProblem)]
                done = _run_stages(kind, run_config, pipeline, gate, works, cache, replicas)
                try:
                    for a in admitted:
                        if isinstance(a, list):
                            items = a
                        else:
                            work = await _next(done, engine.stats, pipeline, a)
                            items = pipeline.account(work)
                        pipeline.finished(items)
                        for item in items:
                            yield pipeline, item
                finally:  # stop the window's execution while Ray is still up (it may end early: errors)
                    close = getattr(done, "close", None)
                    if close is not None:
                        await asyncio.to_thread(close)
            pipeline._check_failures(final=True)


@contextlib.asynccontextmanager
async def _resolved(config: BuildConfig, log_path: Path | None) -> AsyncIterator[tuple[BuildConfig, Any]]:
    """The config the actors run with (the model resolved, servers the run started named) and what
    served the run. The driver asks the servers once; it sends no generation request."""
    from ..engine.factory import make_engine
    from ..engine.managed import ManagedServer

    if config.backend == "vllm":
        if not config.model:
            raise ConfigError("--backend vllm needs --model HF_ID_OR_PATH (the model to load)")
        from ..engine.servers import package_version

        where = {"model": config.model, "version": package_version("vllm")}
        yield (
            config,
            {"model": config.model, "servers": {"ray (in-process vLLM)": where}, "managed_server": None},
        )
        return
    async with contextlib.AsyncExitStack() as stack:
        server = ManagedServer.from_config(config, log_path=log_path)
        run_config = config
        if server is not None:
            await stack.enter_async_context(server)
            run_config = server.config_for_run(config)
        engine = make_engine(run_config, managed=server.info() if server is not None else None)
        try:
            await engine.start()
            info = engine.info()
        finally:
            await engine.close()
        yield run_config.model_copy(update={"model": engine.model}), info


def _replicas(config: BuildConfig) -> list[Any]:
    """The vLLM replicas: ``ray_actors`` of them (default: as many as the cluster's GPUs hold), each on
    ``tensor_parallel_size`` GPUs; restarted by Ray if they die."""
    import ray

    tp = int(config.vllm_args.get("tensor_parallel_size", 1))
    gpus = cluster_resources()["GPU"]
    n = config.ray_actors or max(1, int(gpus // tp))
    if gpus < tp:
        raise ConfigError(
            f"--backend vllm on Ray needs GPU nodes: the cluster has {gpus:g} GPUs and each replica "
            f"needs tensor_parallel_size={tp} - join a GPU cluster with --ray-address, or use --base-url"
        )
    replica = ray.remote(VLLMReplica).options(
        num_gpus=tp, max_restarts=-1, max_task_retries=-1, max_concurrency=100_000
    )
    assert config.model is not None
    return [replica.remote(config.model, config.vllm_args, config.concurrency) for _ in range(n)]


def _run_stages(
    kind: Kind,
    config: BuildConfig,
    pipeline: Pipeline,
    gate: GateSpec | None,
    works: list[SeedWork],
    cache: Any,
    replicas: list[Any] | None,
) -> Any:
    """The window's seeds through the stages; an iterator of finished rows, in seed order."""
    import ray
    from ray.data import ActorPoolStrategy

    # Ray Data's map actors restart when they die and their tasks are retried (max_restarts=-1,
    # max_task_retries=-1 by default): a retried batch's requests are answered by the cache
    if not works:
        return iter(())
    cpus = cluster_resources()["CPU"]
    cpu_stages = 3 if gate is not None else 2
    # LLM actors: one per server (or vLLM replica), and together never more than `concurrency` in flight,
    # so a cancelled run re-sends at most that many requests
    actors = min(config.ray_actors or len(replicas or config.base_url), config.concurrency)
    per_actor = config.concurrency // actors
    llm_config = config.model_copy(update={"concurrency": per_actor})
    cpu_share = min(1.0, max(cpus - 0.5, 0.5) / cpu_stages)
    cpu_pool = ActorPoolStrategy(min_size=1, max_size=max(1, config.workers or int(cpus // cpu_stages) or 1))
    batch = max(1, min(64, per_actor))
    spec = pipeline.worker_spec()  # the driver's engine view carries the resolved model
    ds: Any = ray.data.from_items(rows(works), override_num_blocks=max(1, len(works) // batch))

    def cpu(job: str) -> None:
        nonlocal ds
        ds = ds.map_batches(
            CPUStage,
            fn_constructor_args=(spec, job, config.verify_timeout),
            batch_size=batch,
            compute=cpu_pool,
            num_cpus=cpu_share,
        )

    def llm(step: str) -> None:
        nonlocal ds
        ds = ds.map_batches(
            LLMStage,
            fn_constructor_args=(kind, llm_config, step, gate, cache, replicas),
            batch_size=batch,
            compute=ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=4),
            num_cpus=0.1,
        )

    if gate is not None:
        cpu("gate")
    llm("questions")
    cpu("questions")
    llm("answers")
    cpu("answers")
    return iter(ds.iter_rows())


async def _next(done: Any, stats: ClusterStats, pipeline: Pipeline, seed: SeedProblem) -> SeedWork:
    try:
        row = await asyncio.to_thread(next, done, None)
    except Exception as e:
        raise _unwrap(e) from e
    if row is None:
        raise SynthmathError(f"the Ray run ended before seed {seed.id} came back - rerun to resume")
    for entry in pickle.loads(row["trace"]):
        stats.add(entry)
        info = entry.get("gate_info")
        g = pipeline.gate_summary
        if info and g is not None and not g.stages:
            g.stages, g.benchmarks, g.thresholds = info["stages"], info["benchmarks"], info["thresholds"]
    work: SeedWork = pickle.loads(row["work"])
    if work.seed.id != seed.id:
        raise SynthmathError(f"the Ray run returned seed {work.seed.id} for seed {seed.id} - out of order")
    return work


def _unwrap(e: BaseException) -> BaseException:
    """The SynthmathError inside Ray's wrappers (a benchmark that cannot load in an actor, ...)."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, SynthmathError):
            return cur
        seen.add(id(cur))
        cur = getattr(cur, "cause", None) or cur.__cause__
    return e
