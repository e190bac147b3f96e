"""Writing a build to a directory: ``instruct.jsonl`` or ``dpo.jsonl``, ``rejects.jsonl``, ``summary.json``.

Records are written as they are produced into ``*.partial`` files, renamed into place when the run
finishes. ``summary.json`` is written last: a directory with one holds a finished run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import IO, Any

from ._version import __version__
from .build import Kind, Pipeline, iterate_sync
from .config import BuildConfig
from .errors import ConfigError, OutputError
from .progress import ProgressReporter
from .records import Reject

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


def build_to_dir(kind: Kind, config: BuildConfig, *, progress: bool = False) -> dict[str, Any]:
    """Run a build and write its files to ``config.out``. Returns the summary (also in summary.json)."""
    if config.out is None:
        raise ConfigError("no output directory - pass --out DIR")
    out = Path(config.out)
    prepare_dir(out)
    final = {"records": out / OUTPUT_FILES[kind], "rejects": out / "rejects.jsonl"}
    partial = {k: p.with_name(p.name + ".partial") for k, p in final.items()}
    (out / "summary.json").unlink(missing_ok=True)

    pipeline = Pipeline(config, kind)
    started = time.time()
    total = config.sample if config.limit is None else min(config.limit, config.sample or config.limit)
    rec_f, rej_f = _open(partial["records"]), _open(partial["rejects"])
    n_rejects = 0
    try:
        with ProgressReporter(total, enabled=progress) as bar:
            for item in iterate_sync(pipeline.run()):
                line = json.dumps(item.to_json_dict(), ensure_ascii=False)
                if isinstance(item, Reject):
                    rej_f.write(line + "\n")
                    n_rejects += 1
                else:
                    rec_f.write(line + "\n")
                bar.update(pipeline.stats, pipeline.engine.stats)
            bar.update(pipeline.stats, pipeline.engine.stats, force=True)
    finally:
        rec_f.close()
        rej_f.close()
    for k in final:
        os.replace(partial[k], final[k])

    summary = {
        "kind": kind,
        "finished": True,
        "synthmath_version": __version__,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "model": pipeline.engine.model,
        "prompt_hashes": pipeline.prompt_hashes,
        "files": {"records": final["records"].name, "rejects": final["rejects"].name},
        **pipeline.stats.to_dict(),
        "rejects": n_rejects,
        "tokens": {
            "prompt": pipeline.engine.stats.prompt_tokens,
            "completion": pipeline.engine.stats.completion_tokens,
        },
        "engine": pipeline.engine.stats.to_dict(),
        "config": config.public_dict(),
    }
    write_json_atomic(out / "summary.json", summary)
    return summary
