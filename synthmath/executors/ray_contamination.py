"""``check-contamination --executor ray``: records screened in parallel on a Ray cluster.

The driver builds the checker once (benchmarks loaded, n-gram and embedding indexes built) and puts it
in the object store; every screening actor takes it from there instead of building its own. Rows are
read on the driver, screened by :class:`ScreenStage` actors in batches, and come back in input order;
the driver counts each result into its own checker, so the report is the local one, number for number.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..contamination.check import ContaminationChecker
from ..contamination.judge import resolve
from ..contamination.results import Screening
from ..contamination.run import DEFAULT_FIELDS, _rows, write_reports
from ..errors import ConfigError
from .ray import unwrap as _unwrap
from .ray_runtime import cluster_resources, ray_session

__all__ = ["ScreenStage", "check_files_ray"]

WINDOW = 50_000  # texts per dataset: bounds the driver's memory


class ScreenStage:
    """Screens batches of ``(id, text)`` rows with the checker from the object store."""

    def __init__(self, checker: Any) -> None:
        import ray

        # the one copy in the object store (Ray Data hands the reference over as it is)
        self.checker: ContaminationChecker = (
            ray.get(checker) if isinstance(checker, ray.ObjectRef) else checker
        )

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        pairs = list(zip((str(i) for i in batch["id"]), (str(t) for t in batch["text"]), strict=True))
        screenings = self.checker.screen(pairs)  # the CPU part; counted on the driver, in order
        seconds = time.perf_counter() - started
        return {
            "id": batch["id"],
            "text": batch["text"],
            "result": [pickle.dumps(r) for r in screenings],
            "seconds": [seconds / max(1, len(pairs))] * len(pairs),
        }


def check_files_ray(
    paths: Sequence[Path],
    out: Path,
    checker: ContaminationChecker,
    *,
    fields: Sequence[str] = DEFAULT_FIELDS,
    progress: bool = False,
    address: str | None = None,
    verbose: bool = False,
) -> dict[str, Any]:
    """:func:`~synthmath.contamination.run.check_files` on Ray: the same files and report."""
    from ..output import prepare_dir

    if checker.judge is not None:
        raise ConfigError("--judge runs with the local executor only - drop --executor ray, or drop --judge")
    from ..progress import ProgressReporter

    prepare_dir(out)
    partial = out / "contamination.jsonl.partial"
    bar = ProgressReporter(None, enabled=progress, interval=5.0, unit="texts checked")

    def line() -> str:
        return (
            f"{checker.contaminated} match benchmark items | {checker.checked / max(bar.elapsed, 1e-9):.0f}/s"
        )

    with bar, ray_session(address, verbose=verbose) as ray, partial.open("w", encoding="utf-8") as f:
        from ray.data import ActorPoolStrategy

        shared = ray.put(checker)  # built once, read by every actor
        cpus = cluster_resources()["CPU"]
        rows = _rows(paths, fields)
        while window := list(itertools.islice(rows, WINDOW)):
            ds = ray.data.from_items(
                [{"id": rid, "text": text} for rid, text in window],
                override_num_blocks=max(1, len(window) // 256),
            )
            ds = ds.map_batches(
                ScreenStage,
                fn_constructor_args=(shared,),
                batch_size=256,
                compute=ActorPoolStrategy(min_size=1, max_size=max(1, int(cpus))),
                num_cpus=1 if cpus >= 1 else cpus,
            )
            try:
                for row in iter(ds.iter_rows()):
                    screening: Screening = pickle.loads(row["result"])
                    (result,) = resolve([screening], (), checker.t.drop)
                    # counted here, in order: the report's counts and examples are the local run's
                    checker.tally.add(screening, result)
                    checker.tally.seconds["screening (cluster CPU)"] += float(row["seconds"])
                    f.write(json.dumps(result.to_json_dict(), ensure_ascii=False) + "\n")
                    bar.update(checker.checked, line)
            except Exception as e:
                raise _unwrap(e) from e
        bar.update(checker.checked, line(), force=True)
    os.replace(partial, out / "contamination.jsonl")
    return write_reports(
        out, checker, {"inputs": [str(p) for p in paths], "fields": list(fields), "executor": "ray"}
    )
