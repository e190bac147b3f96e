"""Building datasets: ``build_instruct`` / ``build_dpo`` stream records to Python code; ``build_to_dir``
writes a build's files (what the CLI runs). Both take one path: one build in this process
(:mod:`synthmath.run_build`: the config, one engine, the pipeline with its contamination gate before
generation, the writer), or, with ``executor="ray"`` or ``tasks`` above 1, shard tasks of that same
build on an executor (:mod:`synthmath.executors`), merged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from .config import BuildConfig
from .errors import ConfigError, opt
from .location import Location
from .pipeline import Kind, iterate_sync
from .records import DPORecord, InstructRecord, Reject, SeedProblem
from .run_build import gate_spec, progress_counts, stream_build, write_build
from .summary import Summary

__all__ = [
    "abuild_dpo",
    "abuild_instruct",
    "build_dpo",
    "build_instruct",
    "build_to_dir",
    "gate_spec",
    "progress_counts",
]

log = logging.getLogger(__name__)

Record = InstructRecord | DPORecord


def _config(config: BuildConfig | None, options: dict[str, Any]) -> BuildConfig:
    if config is None:
        return BuildConfig.load(**options)
    # only the fields that were set: a default (base_url) must not count as a choice (see local)
    return BuildConfig.load(**{**config.model_dump(exclude_unset=True), **options}) if options else config


async def _abuild(
    kind: Kind,
    seeds: Iterable[SeedProblem] | None,
    config: BuildConfig | None,
    on_reject: Callable[[Reject], None] | None,
    options: dict[str, Any],
) -> AsyncIterator[Record]:
    if isinstance(seeds, (str, os.PathLike)):  # a source (path or Hub id), not seed objects
        options = {**options, "seeds": os.fspath(seeds)}
        seeds = None
    engine = options.pop("engine", None)
    cfg = _config(config, options)
    model = InstructRecord if kind == "instruct" else DPORecord
    if cfg.executor == "ray" or (cfg.tasks or 1) > 1:
        if engine is not None:
            raise ConfigError(
                f"an engine object runs in this process only - drop it, or {opt('executor', 'ray')} and tasks"
            )
        async for line_kind, line in _sharded_lines(kind, cfg, seeds):
            if line_kind == "record":
                yield model.model_validate_json(line)
            elif on_reject is not None:
                on_reject(Reject.model_validate_json(line))
        return
    async for _, item in stream_build(kind, cfg, seeds, engine=engine):
        if item.kind == "record":
            yield model.model_validate_json(item.line)
        elif item.kind == "reject" and on_reject is not None:
            on_reject(Reject.model_validate_json(item.line))


async def _sharded_lines(
    kind: Kind, config: BuildConfig, seeds: Iterable[SeedProblem] | None
) -> AsyncIterator[tuple[str, str]]:
    """The records and rejects of a build run as shard tasks (their tasks read the seeds from the
    config's source): built into ``out`` (a temporary folder when there is none), then read back."""
    if seeds is not None:
        raise ConfigError(
            f"{opt('executor', 'ray')} and {opt('tasks')} read the seeds from the {opt('seeds')} source in "
            "each task - pass the source instead of seed objects"
        )
    with contextlib.ExitStack() as stack:
        out = config.out or stack.enter_context(tempfile.TemporaryDirectory(prefix="synthmath-"))
        cfg = config.model_copy(update={"out": out})
        summary = await asyncio.to_thread(build_to_dir, kind, cfg)
        where = Location(out)
        for line_kind, name in (("record", summary.files["records"]), ("reject", summary.files["rejects"])):
            with where.open(name) as f:
                for line in f:
                    if line.strip():
                        yield line_kind, line


def build_instruct(
    seeds: Iterable[SeedProblem] | None = None,
    *,
    config: BuildConfig | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    **options: Any,
) -> Iterator[InstructRecord]:
    """Stream verified Synth. Math-Instruct records.

    ``seeds``: seed objects, or a source (a path or Hub id, as the config's ``seeds``), which is the
    default; ``options`` are :class:`BuildConfig` fields
    (``base_url``, ``model``, ``rephrasings``, ``benchmarks``, ...). The contamination gate runs as in
    the CLI (``contamination=False`` turns it off). Rejects go to ``on_reject`` when given.
    ``engine=`` takes an engine object instead of the one the options describe (e.g.
    ``synthmath.testing.FunctionEngine(FakeMathModel())``, a fake model in this process).
    """
    for rec in iterate_sync(_abuild("instruct", seeds, config, on_reject, options)):
        assert isinstance(rec, InstructRecord)
        yield rec


def build_dpo(
    seeds: Iterable[SeedProblem] | None = None,
    *,
    config: BuildConfig | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    **options: Any,
) -> Iterator[DPORecord]:
    """Stream Synth. Math-Alignment DPO tuples (``chat=True`` for TRL's conversational form)."""
    for rec in iterate_sync(_abuild("dpo", seeds, config, on_reject, options)):
        assert isinstance(rec, DPORecord)
        yield rec


async def abuild_instruct(
    seeds: Iterable[SeedProblem] | None = None,
    *,
    config: BuildConfig | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    **options: Any,
) -> AsyncIterator[InstructRecord]:
    """:func:`build_instruct` for async code: ``async for record in abuild_instruct(...)``."""
    async for rec in _abuild("instruct", seeds, config, on_reject, options):
        assert isinstance(rec, InstructRecord)
        yield rec


async def abuild_dpo(
    seeds: Iterable[SeedProblem] | None = None,
    *,
    config: BuildConfig | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    **options: Any,
) -> AsyncIterator[DPORecord]:
    """:func:`build_dpo` for async code: ``async for record in abuild_dpo(...)``."""
    async for rec in _abuild("dpo", seeds, config, on_reject, options):
        assert isinstance(rec, DPORecord)
        yield rec


def build_to_dir(
    kind: Kind,
    config: BuildConfig,
    *,
    progress: bool = False,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> Summary:
    """Run a build and write its files to ``config.out`` (a folder or a URI such as ``s3://bucket/run``);
    returns the summary (also in summary.json).

    With ``executor="ray"`` or ``tasks`` above 1 the build runs as shard tasks whose outputs are merged
    into ``out`` (:mod:`synthmath.executors`); otherwise here, as one task. The earlier build in ``out``
    is replaced only when this one finishes; under ``local`` / ``serve`` a server is started for the run
    (log: OUT/logs/server.log) and stopped after it. ``on_progress`` gets the build's counts about once a
    second (a shard task reports to its driver through it). One run writes to ``out`` at a time: a second
    one stops at once (:mod:`synthmath.lock`).
    """
    if config.out is None:
        raise ConfigError(f"no output directory - pass {opt('out', 'DIR')}")
    if config.task is None and (config.executor == "ray" or (config.tasks or 1) > 1):
        from .executors import run_sharded

        return run_sharded(kind, config, progress=progress)
    return write_build(kind, config, progress=progress, on_progress=on_progress)
