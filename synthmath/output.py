"""Writing a build to a directory: ``instruct.jsonl`` or ``dpo.jsonl``, ``rejects.jsonl``, ``summary.json``.

Records are written as they are produced into ``*.partial`` files, renamed into place when the run
finishes. ``summary.json`` is written last: a directory with one holds a finished run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import IO, Any

from ._version import __version__
from .build import Kind, Pipeline, iterate_sync
from .config import BuildConfig
from .contamination.benchmarks import DEFAULT_BENCHMARKS
from .engine.managed import ManagedServer
from .errors import BenchmarkUnavailableError, ConfigError, OutputError
from .progress import ProgressReporter
from .records import Reject
from .seeds import seed_revision

log = logging.getLogger(__name__)

__all__ = ["OUTPUT_FILES", "build_to_dir"]

OUTPUT_FILES = {"instruct": "instruct.jsonl", "dpo": "dpo.jsonl"}


def prepare_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".synthmath-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise OutputError(f"cannot write to {out} ({e.strerror}) - choose another --out directory") from e


def _open(path: Path) -> IO[str]:
    try:
        return path.open("w", encoding="utf-8")
    except OSError as e:
        raise OutputError(f"cannot write {path} ({e.strerror}) - choose another --out directory") from e


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def server_info(engine: Any) -> dict[str, Any]:
    """What the engine knows of its servers (URL -> model, version), through any wrapper."""
    inner = getattr(engine, "inner", engine)
    info = getattr(inner, "server_info", None)
    return info() if callable(info) else {}


def estimate_total(config: BuildConfig) -> int | None:
    """How many seeds the run will see, for the progress bar's ETA (None when it cannot tell cheaply)."""
    total: int | None = None
    src = Path(config.seeds) if config.seeds else None
    if src is not None and src.suffix in (".jsonl", ".ndjson") and src.is_file():
        with src.open("rb") as f:
            total = sum(1 for line in f if line.strip())
    elif src is not None and src.is_dir():
        split_dir = src / config.split if (src / config.split).is_dir() else src
        total = sum(1 for _ in split_dir.glob("*/*.json"))
    for cap in (config.sample, config.limit):
        if cap is not None:
            total = cap if total is None else min(total, cap)
    shard = config.shard_tuple()
    if total is not None and shard is not None:
        total = -(-total // shard[1])  # about 1/N of the seeds fall in each shard
    return total


def _contamination_checker(config: BuildConfig, benchmarks: list[Any]) -> Any:
    """The gate's checker over the loaded ``benchmarks``, made before generation starts, so that a
    problem with it fails the run at once rather than after hours of generation."""
    from .contamination.run import make_checker

    judge = None
    if config.judge and config.backend == "vllm":
        raise ConfigError(
            "--judge needs a server (--base-url); with --backend vllm, build with --no-contamination or "
            "without --judge, then run `synthmath check-contamination --judge` against a vllm serve"
        )
    if config.judge:
        from .build import make_engine
        from .contamination.judge import LLMJudge
        from .prompts import PromptSet

        engine: Any = make_engine(config)
        cache_path = config.cache_path()
        if cache_path is not None:  # the judge's answers are cached and resumed like the build's
            from .engine.cache import CachedEngine, RequestCache

            engine = CachedEngine(engine, RequestCache(cache_path))
        judge = LLMJudge(engine, PromptSet(config.prompts_dir) if config.prompts_dir else None)
    return make_checker(
        benchmarks, embeddings=config.embeddings, judge=judge, cache_dir=config.contamination_cache
    )


def _gate(
    config: BuildConfig, pipeline: Pipeline, checker: Any, out: Path, partial: dict[str, Path], progress: bool
) -> dict[str, Any]:
    """Run the contamination gate over the finished build; keep the statistics in step with drops."""
    from .contamination.run import gate_build

    try:
        result = gate_build(
            checker=checker,
            seeds=pipeline.seeds_from_config(lambda _: None),
            records=partial["records"],
            rejects=partial["rejects"],
            out=out,
            mode=config.on_contamination,
            progress=progress,
        )
    finally:
        if checker.judge is not None:
            checker.judge.close()
    stats = pipeline.stats
    left: dict[str, int] = {}
    for seed_id, subject, level in result.pop("dropped"):
        stats.records -= 1
        for table, key in (
            (stats.by_subject, subject or "unknown"),
            (stats.by_level, "unknown" if level is None else str(level)),
        ):
            if key in table:
                table[key]["records"] -= 1
        left.setdefault(seed_id, 0)
    if left:  # seeds that lost records: do they still have any?
        with partial["records"].open(encoding="utf-8") as f:
            for line in f:
                seed_id = json.loads(line).get("seed_id")
                if seed_id in left:
                    left[seed_id] += 1
        stats.seeds_with_records -= sum(1 for n in left.values() if n == 0)
    return result


def build_to_dir(kind: Kind, config: BuildConfig, *, progress: bool = False) -> dict[str, Any]:
    """Run a build and write its files to ``config.out``. Returns the summary (also in summary.json).

    Under ``local`` / ``serve`` it first starts the server (log: OUT/logs/server.log) and stops it after.
    """
    if config.out is None:
        raise ConfigError("no output directory - pass --out DIR")
    out = Path(config.out)
    prepare_dir(out)
    server = ManagedServer.from_config(config, log_path=out / "logs" / "server.log")
    if server is not None and not config.seeds:  # before starting a server that may take minutes
        raise ConfigError("no seeds given - pass --seeds PATH_OR_HUB_ID (e.g. EleutherAI/hendrycks_math)")
    gate = _gate_benchmarks(config)  # before generation, and before any server starts
    if server is None:
        return _build_to_dir(kind, config, config, out, progress, None, gate)
    with server:
        return _build_to_dir(kind, config, server.config_for_run(config), out, progress, server.info(), gate)


def _gate_benchmarks(config: BuildConfig) -> tuple[list[Any] | None, str | None]:
    """The gate's benchmarks (None without the gate), or None and why the gate is skipped. A laptop run
    (``--local``) that cannot fetch the default benchmarks from the Hub (offline) goes on without the
    gate, says so, and records it in summary.json; everywhere else, and with benchmarks the user
    chose, that fails at once, before generation starts."""
    if not config.contamination:
        return None, None
    from .contamination.benchmarks import load_benchmarks

    try:
        return load_benchmarks(config.benchmarks), None
    except BenchmarkUnavailableError as e:
        if not (config.local and config.benchmarks == list(DEFAULT_BENCHMARKS)):
            raise
        log.warning("contamination check skipped: %s", e)
        return None, str(e)


def _build_to_dir(
    kind: Kind,
    config: BuildConfig,
    run_config: BuildConfig,
    out: Path,
    progress: bool,
    managed: dict[str, Any] | None,
    gate: tuple[list[Any] | None, str | None],
) -> dict[str, Any]:
    final = {"records": out / OUTPUT_FILES[kind], "rejects": out / "rejects.jsonl"}
    partial = {k: p.with_name(p.name + ".partial") for k, p in final.items()}

    pipeline = Pipeline(run_config, kind)
    benchmarks, skipped = gate
    revision = seed_revision(config.seeds, config.split) if config.seeds else None
    checker = _contamination_checker(run_config, benchmarks) if benchmarks is not None else None
    started = time.time()
    files: dict[str, IO[str]] = {}

    def open_files() -> dict[str, IO[str]]:
        if not files:  # the first result: the server answered, so the previous output can go
            (out / "summary.json").unlink(missing_ok=True)
            for k in final:
                final[k].unlink(missing_ok=True)
            files.update({k: _open(p) for k, p in partial.items()})
        return files

    def write(key: str, line: str) -> None:
        open_files()[key].write(line + "\n")

    n_rejects = 0
    try:
        with ProgressReporter(estimate_total(config), enabled=progress) as bar:
            for item in iterate_sync(pipeline.run()):
                line = json.dumps(item.to_json_dict(), ensure_ascii=False)
                if isinstance(item, Reject):
                    write("rejects", line)
                    n_rejects += 1
                else:
                    write("records", line)
                bar.update(pipeline.stats, pipeline.engine.stats)
            bar.update(pipeline.stats, pipeline.engine.stats, force=True)
        open_files()  # a run with no output at all still leaves its (empty) files
    finally:
        for f in files.values():
            f.close()
    contamination = None
    if checker is not None:
        contamination = _gate(config, pipeline, checker, out, partial, progress)
        n_rejects += contamination["records_dropped"]
    for k in final:
        os.replace(partial[k], final[k])

    servers = server_info(pipeline.engine)
    if managed is not None:  # llama.cpp's server does not say its version: the package does
        for info in servers.values():
            info["version"] = info.get("version") or managed["program"]
    summary = {
        "kind": kind,
        "finished": True,
        "synthmath_version": __version__,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "model": pipeline.engine.model,
        "seed_revision": revision,
        "prompt_hashes": pipeline.prompt_hashes,
        "files": {"records": final["records"].name, "rejects": final["rejects"].name},
        **pipeline.stats.to_dict(),
        "rejects": n_rejects,
        "tokens": {
            "prompt": pipeline.engine.stats.prompt_tokens,
            "completion": pipeline.engine.stats.completion_tokens,
        },
        "engine": pipeline.engine.stats.to_dict(),
        "prompts": pipeline.prompt_texts(),
        "servers": servers,
        "managed_server": managed,
        "contamination": contamination,
        "contamination_skipped": skipped,
        "config": config.public_dict(),
    }
    write_json_atomic(out / "summary.json", summary)
    return summary
