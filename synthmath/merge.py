"""Joining the outputs of ``--shard I/N`` runs into one build directory, with checks.

Every shard must be a finished run of the same kind with the same N, each I present exactly once, with
whole files that match its summary (:mod:`synthmath.integrity`), and no record id or seed may appear in
two shards.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .errors import ConfigError, OutputError, opt
from .integrity import check_build
from .location import Location
from .lock import check_free, hold
from .output import OUTPUT_FILES, prepare_dir, write_gate_report
from .summary import GateSummary, Summary, read_summary

__all__ = ["differing_field", "merge_shards", "merge_tasks"]

# config fields that may differ between the shards of one run: where and how each ran, not what it made
_MAY_DIFFER = frozenset(
    {
        "shard", "out", "cache", "use_cache", "base_url", "api_key", "concurrency", "max_retries", "timeout",
        "workers", "verify_timeout", "max_failed_seeds", "max_failed_fraction", "contamination_cache",
        "serve_timeout", "seeds",  # the seeds are compared by content (seed_revision), not by path
        "task", "tasks", "executor", "ray_address",  # how a build was cut into tasks and where they ran
    }
)  # fmt: skip


def differing_field(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """The first config field, by name, in which two runs differ in what they make (None: none)."""
    for key in sorted(set(a) | set(b)):
        if key not in _MAY_DIFFER and a.get(key) != b.get(key):
            return key
    return None


def _same_run(dirs: list[Path], summaries: list[Summary]) -> None:
    """Refuse shards of different runs, naming the field that differs."""
    first = summaries[0]
    for d, s in zip(dirs[1:], summaries[1:], strict=True):
        if s.seed_revision != first.seed_revision:
            raise ConfigError(
                f"{d}: built from other seed contents than {dirs[0]} (seed_revision {s.seed_revision} vs "
                f"{first.seed_revision}) - merge shards of one run over the same seeds"
            )
        key = differing_field(s.config, first.config)
        if key is not None:
            raise ConfigError(
                f"{d}: its {key} ({s.config.get(key)!r}) differs from {dirs[0]}'s "
                f"({first.config.get(key)!r}) - merge shards of one run only"
            )
        for key in ("model", "prompt_hashes"):
            mine, theirs = getattr(s, key), getattr(first, key)
            if mine != theirs:
                raise ConfigError(
                    f"{d}: its {key} ({mine!r}) differs from {dirs[0]}'s ({theirs!r}) - "
                    "merge shards of one run only"
                )


def merge_shards(dirs: list[Path], out: Path) -> Summary:
    """Merge shard directories into ``out``; returns the merged summary."""
    if not dirs:
        raise ConfigError("no shard directories given - pass the --out directories of the shard runs")
    target = out.resolve()
    for d in dirs:
        if d.resolve() == target:
            raise ConfigError(f"{opt('out')} {out} is one of the shards - merge into a new directory")
    seen: dict[Path, Path] = {}
    for d in dirs:
        if d.resolve() in seen:
            raise ConfigError(f"shard {d} given twice (also as {seen[d.resolve()]}) - name each shard once")
        seen[d.resolve()] = d
    summaries = [read_summary(d) for d in dirs]
    kinds = {s.kind for s in summaries}
    if len(kinds) != 1:
        raise ConfigError(f"cannot merge different kinds of build: {sorted(kinds)}")
    kind = kinds.pop()
    _same_run(dirs, summaries)
    shards: dict[int, Path] = {}
    counts = set()
    for d, s in zip(dirs, summaries, strict=True):
        shard = s.config.get("shard")
        if shard is None:
            raise ConfigError(f"{d}: not a shard run (no --shard I/N in its config)")
        i, n = (int(x) for x in shard.split("/"))
        counts.add(n)
        if i in shards:
            raise ConfigError(f"shard {shard} given twice: {shards[i]} and {d}")
        shards[i] = d
    if len(counts) != 1:
        raise ConfigError(
            f"the shards were cut differently (N = {sorted(counts)}) - merge shards of one split"
        )
    n = counts.pop()
    missing = [f"{i}/{n}" for i in range(n) if i not in shards]
    if missing:
        raise ConfigError(f"missing shard(s) {', '.join(missing)} - run them, then merge again")

    for d, s in zip(dirs, summaries, strict=True):
        check_free(d, "merge")
        check_build(d, s)  # every file whole, its counts those of its summary
    prepare_dir(out)
    with hold(out, "merge"):
        return _write(kind, n, shards, summaries, out)


def _write(kind: str, n: int, shards: dict[int, Path], summaries: list[Summary], out: Path) -> Summary:
    """Write the merged files into ``out`` (held by this run), ``summary.json`` last."""
    name = OUTPUT_FILES[kind]
    n_records = _join({i: Location(d) for i, d in shards.items()}, n, name, out)

    merged = summaries[0]
    for part in summaries[1:]:
        merged = merged.merge(part)
    merged = merged.model_copy(
        update={
            "config": {**summaries[0].config, "shard": None, "out": str(out)},
            "shards": [str(shards[i]) for i in range(n)],
            "records": n_records,
        }
    )
    if merged.contamination is not None:
        _merge_contamination([Location(shards[i]) for i in range(n)], out, merged.contamination)
    merged.write(out / "summary.json")
    return merged


def merge_tasks(
    tasks: list[Location], summaries: list[Summary], out: Location, config: dict[str, Any]
) -> tuple[Summary, list[str]]:
    """Join the task folders of one build, in task order, into ``out``'s staging folder; returns the
    merged summary (``config``: the build's own) and the names written there, summary.json last (the
    caller copies them to a remote ``out``)."""
    for task, summary in zip(tasks, summaries, strict=True):
        if not task.remote:  # a task finished by an earlier run may have been cut since
            check_build(Path(task.uri), summary)
    staging = out.staging()
    prepare_dir(staging)
    kind = summaries[0].kind
    name = OUTPUT_FILES[kind]
    (staging / "summary.json").unlink(missing_ok=True)
    n_records = _join(dict(enumerate(tasks)), len(tasks), name, staging)
    merged = summaries[0]
    for part in summaries[1:]:
        merged = merged.merge(part)
    merged = merged.model_copy(
        update={"config": config, "shards": [t.uri for t in tasks], "records": n_records}
    )
    names = [name, "rejects.jsonl"]
    if merged.contamination is not None:
        _merge_contamination(tasks, staging, merged.contamination)
        names += ["contamination.jsonl", "contamination_report.json", "contamination_report.md"]
    merged.write(staging / "summary.json")
    return merged, [*names, "summary.json"]


def _join(parts: dict[int, Location], n: int, name: str, out: Path) -> int:
    """The parts' records and rejects joined in order into ``out`` (through ``.partial`` files renamed
    into place); returns the number of records."""
    tmp = {"records": out / f"{name}.partial", "rejects": out / "rejects.jsonl.partial"}
    try:
        (out / "summary.json").unlink(missing_ok=True)  # an earlier one's: it would vouch for new files
        n_records = _copy_shards(parts, n, name, tmp)
        os.replace(tmp["records"], out / name)
        os.replace(tmp["rejects"], out / "rejects.jsonl")
    except OSError as e:
        raise OutputError(f"cannot write to {out} ({e.strerror}) - choose another --out") from e
    finally:
        for p in tmp.values():
            p.unlink(missing_ok=True)
    return n_records


def _copy_shards(shards: dict[int, Location], n: int, name: str, tmp: dict[str, Path]) -> int:
    """Concatenate the shards' files into ``tmp``, checking ids; returns the number of records."""
    record_ids: set[bytes] = set()
    seed_owner: dict[str, int] = {}
    with (
        tmp["records"].open("w", encoding="utf-8") as rec_out,
        tmp["rejects"].open("w", encoding="utf-8") as rej_out,
    ):
        for i in range(n):
            d = shards[i]
            for src, dst, is_record in ((name, rec_out, True), ("rejects.jsonl", rej_out, False)):
                if not d.exists(src):
                    raise ConfigError(f"{d}: {src} is missing - rerun that shard")
                with d.open(src) as f:
                    for lineno, line in enumerate(f, 1):
                        if is_record:
                            row = json.loads(line)
                            rid = hashlib.sha256(row["id"].encode()).digest()[:12]
                            if rid in record_ids:
                                raise ConfigError(
                                    f"{d.join(src)}:{lineno}: record {row['id']} appears in two shards"
                                )
                            record_ids.add(rid)
                            owner = seed_owner.setdefault(row["seed_id"], i)
                            if owner != i:
                                seed = row["seed_id"]
                                raise ConfigError(
                                    f"{d.join(src)}:{lineno}: seed {seed} is in shards {owner} and {i}"
                                )
                        dst.write(line if line.endswith("\n") else line + "\n")
    return len(record_ids)


def _merge_contamination(dirs: list[Location], out: Path, gate: GateSummary) -> None:
    """Join the shards' contamination rows and reports (their counts are in the merged summary)."""
    with (out / "contamination.jsonl.partial").open("w", encoding="utf-8") as f:
        for d in dirs:
            f.write(d.read_text("contamination.jsonl"))
    os.replace(out / "contamination.jsonl.partial", out / "contamination.jsonl")
    examples: list[dict[str, Any]] = []
    for d in dirs:
        if d.exists("contamination_report.json"):
            examples += json.loads(d.read_text("contamination_report.json")).get("examples", [])
    write_gate_report(out, gate, examples[:10])
