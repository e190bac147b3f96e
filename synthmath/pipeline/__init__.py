"""The build pipeline: stages (:mod:`.pipeline`), the CPU work they hand to worker processes
(:mod:`.cpu`, :mod:`.pool`), ordering (:mod:`.ordered`) and counts (:mod:`.stats`).

Names are imported on first use: a worker process imports :mod:`.cpu` only, and should not load the
event-loop side (the config, the engines) to start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .accounting import Emitted
    from .jobs import GateSpec, WorkerSpec
    from .ordered import iterate_sync, ordered_map, with_ticks
    from .pipeline import Kind, Pipeline
    from .pool import WorkerPool, default_workers
    from .stats import BuildStats
    from .work import SeedWork

_LAZY = {
    "GateSpec": ".jobs",
    "WorkerSpec": ".jobs",
    "iterate_sync": ".ordered",
    "ordered_map": ".ordered",
    "with_ticks": ".ordered",
    "Emitted": ".accounting",
    "Kind": ".pipeline",
    "Pipeline": ".pipeline",
    "WorkerPool": ".pool",
    "default_workers": ".pool",
    "BuildStats": ".stats",
    "SeedWork": ".work",
}

__all__ = [
    "BuildStats",
    "Emitted",
    "GateSpec",
    "Kind",
    "Pipeline",
    "SeedWork",
    "WorkerPool",
    "WorkerSpec",
    "default_workers",
    "iterate_sync",
    "ordered_map",
    "with_ticks",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
