"""The build pipeline: stages (:mod:`.pipeline`), the CPU work they hand to worker processes
(:mod:`.cpu`, :mod:`.pool`), ordering (:mod:`.ordered`) and counts (:mod:`.stats`)."""

from .jobs import GateSpec, WorkerSpec
from .ordered import iterate_sync, ordered_map, with_ticks
from .pipeline import Emitted, Kind, Pipeline
from .pool import WorkerPool, default_workers
from .stats import BuildStats
from .work import SeedWork

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
