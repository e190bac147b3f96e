"""One shard task: the one pipeline over one slice of the seeds, writing its own folder.

``run_task`` is what every executor runs, in a process of its choosing: it is
:func:`~synthmath.run_build.write_build` with the task's config, so every feature of a build (the gate,
the solve check, the judge, both answer modes, every backend) runs the same way on every executor. A
task that stops half way resumes from its own request cache when it runs again, wherever that is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..config import BuildConfig
from ..location import Location
from ..summary import Summary
from .plan import task_dir

__all__ = ["finished_summary", "run_task"]

Report = Callable[[int, dict[str, Any]], None]


def run_task(kind: str, config_json: str, report: Report | None = None, verbose: bool = False) -> str:
    """Run one task; its summary as JSON. ``report(index, counts)`` is called about once a second."""
    from ..logs import configure_logging
    from ..run_build import write_build

    configure_logging(verbose)
    logging.getLogger("synthmath.contamination").setLevel(logging.ERROR)  # the driver said it once
    config = BuildConfig.model_validate_json(config_json)
    assert config.task is not None
    index = config.task.index

    node = _node()

    def on_progress(counts: dict[str, Any]) -> None:
        if report is not None:
            report(index, {**counts, "node": node})

    summary = write_build(kind, config, on_progress=on_progress)  # type: ignore[arg-type]
    return summary.model_dump_json()


def _node() -> str:
    """Where this task runs: the Ray node's id (short), else the host's name."""
    try:
        import ray

        if ray.is_initialized():
            return str(ray.get_runtime_context().get_node_id())[:12]
    except ImportError:
        pass
    import socket

    return socket.gethostname()


def finished_summary(location: Location, config: BuildConfig) -> Summary | None:
    """The task's summary when its folder holds a finished run of this very task, else None."""
    from ..merge import differing_field
    from ..summary import read_summary_at

    assert config.task is not None
    where = task_dir(location, config.task)
    if not where.exists("summary.json"):
        return None
    try:
        summary = read_summary_at(where)
    except Exception:  # unreadable: the task runs again and replaces it
        return None
    if not summary.finished or summary.config.get("task") != config.task.model_dump():
        return None
    if differing_field(summary.config, config.public_dict()) is not None:
        return None
    return summary
