"""Executors decide where a build runs, never what it does.

A build is one pipeline (:mod:`synthmath.pipeline`). Run as it is, it is a single task writing ``--out``.
Cut into shard tasks (``executor: ray``, or ``tasks`` above 1), each task is that same pipeline over one
slice of the seeds, writing its own folder under ``OUT/shards/``; the driver (:mod:`.driver`) plans the
tasks, runs the missing ones on an executor (:mod:`.local`: processes of this machine; :mod:`.ray`: Ray
tasks on a cluster) and merges their outputs into ``OUT``.
"""

from .driver import open_executor, run_sharded
from .plan import Plan, task_config

__all__ = ["Plan", "open_executor", "run_sharded", "task_config"]
