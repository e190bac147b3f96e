"""Executors decide where the build's stages run, never what they do.

The local executor is :class:`synthmath.pipeline.Pipeline` on one event loop with a process pool. The Ray
executor (:mod:`.ray_build`, ``executor: ray``, needs ``synthmath[ray]``) runs the same stage code on a
Ray cluster: seeds as a Ray Dataset, the CPU stages and the LLM stages as ``map_batches`` over actor
pools, and the driver accounting for every seed through the same :meth:`Pipeline.account`.
"""

__all__: list[str] = []
