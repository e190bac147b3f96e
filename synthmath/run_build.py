"""One build, run here as one task: :func:`stream_build` (the pipeline's output for a config, with one
engine from :func:`~synthmath.engine.factory.open_engine` and the contamination gate before
generation), :func:`preflight` (what is checked before anything starts) and :func:`write_build` (the
build's files in one folder, through the :class:`~synthmath.output.BuildWriter`).

:mod:`synthmath.build` (the public entry points) and the executors' shard tasks
(:mod:`synthmath.executors.task`) both run builds through this module; it imports neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from ._version import __version__
from .config import BuildConfig
from .contamination.run import embedding_stage
from .engine.base import Engine
from .engine.factory import check_backend, open_engine
from .errors import BenchmarkUnavailableError, ConfigError, opt, spoken
from .location import Location
from .lock import hold as output_lock
from .output import BuildWriter, RemoteMirror, prepare_dir
from .pipeline import GateSpec, Kind, Pipeline, iterate_sync, with_ticks
from .pipeline.pool import drop_prepared, prepare_workers
from .progress import ProgressReporter, build_line, estimate_total
from .prompts import PromptSet
from .records import Reject, SeedProblem
from .seeds import seed_revision, start_seed_stream
from .stopping import last_words
from .summary import Summary, Tokens

__all__ = ["gate_spec", "needed_prompts", "preflight", "progress_counts", "stream_build", "write_build"]

log = logging.getLogger(__name__)

MIRROR_INTERVAL_S = 60.0  # how often a build for a remote --out copies its request cache up


def gate_spec(config: BuildConfig) -> GateSpec | None:
    """The contamination gate the config asks for (None with ``contamination=False``)."""
    if not config.contamination:
        return None
    judge = None
    if config.judge:
        if config.backend == "vllm" or config.local or config.serve:
            raise ConfigError(
                "the judge needs a running server (base_url): build with judge off, then run "
                "`synthmath check-contamination --judge` against a vllm serve"
            )
        cache = config.cache_path()
        judge = {
            "base_urls": config.base_url,
            "api_key": config.api_key,
            "model": config.model,
            "concurrency": min(config.concurrency, 64),
            "max_retries": config.max_retries,
            "timeout": config.timeout,
            "cache": str(cache.with_name("judge.sqlite")) if cache is not None else None,
            "prompts_dir": str(config.prompts_dir) if config.prompts_dir is not None else None,
        }
    return GateSpec(
        benchmarks=tuple(config.benchmarks),
        mode=config.on_contamination,
        embeddings=embedding_stage(config.embeddings, warn=False),  # said by _checked_gate, not workers
        cache_dir=str(config.contamination_cache) if config.contamination_cache else None,
        judge=judge,
        thresholds=dict(config.contamination_thresholds),
        drop=tuple(config.contamination_drop),
    )


async def stream_build(
    kind: Kind,
    config: BuildConfig,
    seeds: Iterable[SeedProblem | Reject] | None = None,
    *,
    log_path: Path | None = None,
    on_start: Callable[[Pipeline], None] | None = None,
    engine: Engine | None = None,
) -> AsyncIterator[tuple[Pipeline, Any]]:
    """The pipeline's output for ``config``, each item with the pipeline (for its counts), which is
    also given to ``on_start`` as soon as it exists (for a progress display before the first item).
    ``engine``: the caller's engine (an in-process fake model, say) instead of the one the config asks
    for; the caller closes it.

    What can fail cheaply fails first, before any Hub call or server start: the prompts, the seeds (read
    up to the first one), the backend, then the gate's benchmarks."""
    # the worker processes start (and load the gate's modules) while this one reads and checks
    prepare_workers(config.workers, None, modules=config.contamination)
    PromptSet(config.prompts_dir).check(needed_prompts(config))
    if seeds is None:
        source = config.require_seeds()
        seeds = await asyncio.to_thread(start_seed_stream, source, **config.seed_options())
    if engine is None:
        check_backend(config)
    gate, skipped = await _checked_gate(config)  # before a server starts, which may take minutes
    # the workers start, and build the gate's checker, while the engine starts (both take a second or more)
    prepare_workers(config.workers, gate)
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(drop_prepared, gate)  # the engine failed to start: no need to wait for the checker
        if engine is None:
            engine = await stack.enter_async_context(open_engine(config, log_path=log_path))
        else:  # the caller's engine (an in-process fake): started here, closed by its owner
            await engine.start()
        pipeline = Pipeline(config, kind, engine, gate=gate)
        pipeline.gate_skipped = skipped
        if on_start is not None:
            on_start(pipeline)
        async for item in pipeline.run(seeds):
            yield pipeline, item


def needed_prompts(config: BuildConfig) -> list[str]:
    """The prompt files a build with ``config`` reads (checked before anything starts)."""
    kinds = set(config.augment)
    needed = ["rephrase_question"]  # its request sizes every seed's prompt (prompt_too_long)
    if "rephrase" in kinds:
        needed.append("rephrase_answer" if config.answer_mode == "rephrase" else "solve")
    if kinds - {"rephrase"} or config.gold == "majority" or config.check_questions == "solve":
        needed.append("solve")
    if kinds & {"fobar", "sv"}:
        needed.append("mask_number")
    if "sv" in kinds:
        needed.append("sv_statement")
    return list(dict.fromkeys([*needed, *(["contamination_judge"] if config.judge else [])]))


async def preflight(config: BuildConfig, *, executor_checks: bool = True) -> None:
    """What a sharded build checks on the driver before any task starts: the prompts, the seeds, the
    backend (where the tasks run here) and the gate's benchmarks; each fails in one line."""
    PromptSet(config.prompts_dir).check(needed_prompts(config))
    await asyncio.to_thread(start_seed_stream, config.require_seeds(), **config.seed_options())
    if executor_checks:
        check_backend(config)
    await _checked_gate(config)


async def _checked_gate(config: BuildConfig) -> tuple[GateSpec | None, str | None]:
    """The gate, after checking that its benchmarks load; or None and why it is skipped. A laptop run
    (``local``) that cannot fetch the default benchmarks (offline) goes on without the gate and says so;
    everywhere else, and with benchmarks the user chose, that is an error before any work starts."""
    gate = gate_spec(config)
    if gate is None:
        return None, None
    from .contamination.benchmarks import load_benchmarks

    try:  # loaded once here; the workers get them as they are and never fetch them again
        loaded = await asyncio.to_thread(load_benchmarks, list(gate.benchmarks))
    except BenchmarkUnavailableError as e:
        if not (config.local and config.benchmarks_are_default()):
            raise
        log.warning("contamination check skipped: %s", spoken(e))
        return None, spoken(e)  # summary.json speaks the caller's language too: flags under the CLI
    embedding_stage(config.embeddings)  # the check will run: say now if it runs without embeddings
    return dataclasses.replace(gate, benchmarks=tuple(loaded), key=uuid.uuid4().hex), None


def write_build(
    kind: Kind,
    config: BuildConfig,
    *,
    progress: bool = False,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> Summary:
    """One build (or one shard task: ``config.task`` set) written to ``config.out`` by this process;
    see :func:`synthmath.build.build_to_dir`."""
    if config.out is None:
        raise ConfigError(f"no output directory - pass {opt('out', 'DIR')}")
    location = Location(config.out)
    out = location.staging()
    config.require_seeds()  # before starting a server that may take minutes
    if location.remote:
        location.mkdir()
    prepare_dir(out)
    # one run writes a folder at a time; a shard task's folder is its driver's, which holds OUT
    with output_lock(out, f"build-{kind}") if config.task is None else contextlib.nullcontext():
        return _build_to_dir(kind, config, location, out, progress, on_progress)


def _build_to_dir(
    kind: Kind,
    config: BuildConfig,
    location: Location,
    out: Path,
    progress: bool,
    on_progress: Callable[[dict[str, Any]], None] | None,
) -> Summary:
    mirror = RemoteMirror(location, out, config.cache_path()) if location.remote else None
    if mirror is not None:
        mirror.pull_cache()
    started = time.time()
    revision = seed_revision(config.seeds, config.split) if config.seeds else None
    state: dict[str, Any] = {}
    writer = BuildWriter(out, kind, gate=config.contamination)

    def summary(finished: bool, failure: str | None = None) -> Summary:
        return _summary(kind, config, state.get("pipeline"), writer, started, revision, finished, failure)

    async def run() -> AsyncIterator[None]:
        stream = stream_build(
            kind, config, log_path=out / "logs" / "server.log", on_start=lambda p: state.update(pipeline=p)
        )
        async for got in with_ticks(stream, min(1.0, bar.interval)):  # progress stays live meanwhile
            if got is not None:
                writer.write(got[1].kind, got[1].line)
            yield None

    clock = {"reported": 0.0, "synced": time.monotonic()}

    def report(force: bool = False) -> None:
        now = time.monotonic()
        p: Pipeline | None = state.get("pipeline")
        if on_progress is not None and p is not None and (force or now - clock["reported"] >= 1.0):
            clock["reported"] = now
            on_progress(progress_counts(p, writer.counts))
        if mirror is not None and now - clock["synced"] >= MIRROR_INTERVAL_S:
            clock["synced"] = now
            mirror.push_cache()

    try:
        with (
            writer,
            ProgressReporter(estimate_total(config), enabled=progress) as bar,
            last_words(lambda why: writer.abort(summary(False, why))),  # a stop at once still says why
        ):

            def line() -> str:
                p: Pipeline = state["pipeline"]
                return build_line(p.stats, p.engine.stats, bar.elapsed, writer.counts)

            for _ in iterate_sync(run()):
                if "pipeline" in state:  # once the engine is up (loading a model takes a while)
                    bar.update(state["pipeline"].stats.seeds_finished, line)
                report()
            if "pipeline" in state:
                bar.update(state["pipeline"].stats.seeds_finished, line(), force=True)
            report(force=True)
    except BaseException as e:
        writer.abort(summary(False, _one_line(e)))
        if mirror is not None:
            mirror.abort()
        raise
    result = summary(True)
    if not result.seeds.processed and not result.seeds.skipped:
        writer.abort(result.model_copy(update={"finished": False, "failure": "no seeds"}))
        raise ConfigError(f"no seeds selected from {config.seeds} - check the seeds source and its filters")
    pipeline = state.get("pipeline")
    names = writer.commit(result, pipeline.gate_examples if pipeline is not None else None)
    if mirror is not None:
        mirror.publish(names)
    return result


def progress_counts(pipeline: Pipeline, written: dict[str, int]) -> dict[str, Any]:
    """What a build reports of its progress: seeds finished, lines written, requests and tokens."""
    engine = pipeline.engine.stats
    return {
        "seeds_finished": pipeline.stats.seeds_finished,
        "records": written.get("record", 0),
        "rejects": written.get("reject", 0),
        "requests": engine.requests,
        "completion_tokens": engine.completion_tokens,
    }


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _summary(
    kind: Kind,
    config: BuildConfig,
    pipeline: Pipeline | None,
    writer: BuildWriter,
    started: float,
    revision: str | None,
    finished: bool,
    failure: str | None,
) -> Summary:
    base = Summary(
        kind=kind,
        finished=finished,
        failure=failure,
        synthmath_version=__version__,
        started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        seed_revision=revision,
        files={"records": writer.final["record"].name, "rejects": writer.final["reject"].name},
        config=config.public_dict(),
        wall_time_s=round(time.time() - started, 3),
    )
    if pipeline is None:
        return base
    stats, engine = pipeline.stats, pipeline.engine.stats
    by_subject, by_level = stats.tables()
    info = pipeline.engine.info()
    return base.model_copy(
        update={
            "model": pipeline.engine.model,
            "prompt_hashes": pipeline.prompt_hashes,
            "prompts": pipeline.prompt_texts(),
            "seeds": stats.seed_counts(),
            "questions": stats.question_counts(),
            "answers": stats.answer_counts(),
            "records": writer.counts["record"],
            "rejects": writer.counts["reject"],
            "tokens": Tokens(
                prompt=engine.prompt_tokens,
                completion=engine.completion_tokens,
                cached_prompt=engine.cached_prompt_tokens,
                cached_completion=engine.cached_completion_tokens,
                solve_check_prompt=stats.solve_check_tokens["prompt"],
                solve_check_completion=stats.solve_check_tokens["completion"],
            ),
            "engine": engine.to_dict(),
            "by_subject": by_subject,
            "by_level": by_level,
            "by_kind": {k: dict(v) for k, v in stats.by_kind.items()},
            "rounds": {k: dict(v) for k, v in sorted(stats.rounds.items(), key=lambda kv: int(kv[0]))},
            "gold_vote": dict(stats.gold_vote),
            "servers": info.get("servers") or {},
            "managed_server": info.get("managed_server"),
            "contamination": pipeline.gate_summary,
            "contamination_skipped": pipeline.gate_skipped,
        }
    )
