"""In-process generation with transformers on the CPU: the default backend of ``--local``.

One worker thread owns the model and decodes a batch of sequences step by step. Requests join the
running batch as rows leave it (continuous batching): a new request's prompt is read in its own
forward pass, and its key/value cache is merged into the batch's, left-padded to a common length. A row
leaves when it emits an end-of-turn token or reaches its ``max_tokens``; a request is answered when all
its ``n`` rows have left. The event loop only hands requests over and receives answers.

Sampling is per row: temperature, top-p, and a ``torch.Generator`` seeded from the request's seed (plus
the sample index), so a request samples the same tokens whichever batch it lands in, up to the tiny
float differences that batching brings.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any

from ..errors import ServerError
from ._decoding import Decoder, Job
from .base import ChatRequest, ChatResult, EngineStats
from .local_model import LoadedModel, load_local_model, passive_wait

__all__ = ["TransformersEngine"]

log = logging.getLogger(__name__)


class TransformersEngine:
    """Chat completions from a transformers model in this process (CPU), with continuous batching.

    ``model``: None for the bundled SmolLM2-135M-Instruct, a ``.gguf`` file, or a transformers checkpoint
    folder (local files only). ``max_batch``: most sequences decoded together. ``threads``: torch's
    CPU threads while the engine runs. The default is every core when torch's threads sleep while they
    wait (:func:`~synthmath.engine.local_model.passive_wait`, synthmath's setting unless torch was
    imported first), else half the cores: spinning threads on a busy machine wait for each other (on
    2 cores with one busy, 2 threads ran 4 times slower than 1).
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        max_batch: int = 16,
        threads: int | None = None,
        cache_dir: Path | None = None,
        loaded: LoadedModel | None = None,
    ) -> None:
        self._model_arg = model
        self.max_batch = max(1, max_batch)
        self.threads = threads
        self.cache_dir = cache_dir
        self.stats = EngineStats()
        self.model = loaded.name if loaded is not None else ""
        self._loaded = loaded
        self._inbox: queue.Queue[Job | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._failure: BaseException | None = None

    async def start(self) -> None:
        if self._worker is not None:
            return
        if self._loaded is None:
            self._loaded = await asyncio.to_thread(
                load_local_model, self._model_arg, cache_dir=self.cache_dir
            )
        self.model = self._loaded.name
        self._worker = threading.Thread(target=self._run, name="synthmath-transformers", daemon=True)
        self._worker.start()

    async def complete(self, request: ChatRequest) -> ChatResult:
        if self._worker is None:
            raise ServerError("the transformers engine has not been started - call start() first")
        if self._failure is not None:
            raise ServerError(f"the transformers engine stopped: {self._failure}")
        loop = asyncio.get_running_loop()
        job = Job(request, loop.create_future(), loop)
        self._inbox.put(job)
        if self._failure is not None:  # the worker died after the check above: it may miss this job
            raise ServerError(f"the transformers engine stopped: {self._failure}")
        return await job.future

    def info(self) -> dict[str, Any]:
        """The model and the transformers version that runs it in this process (for provenance)."""
        import importlib.metadata

        version = f"transformers {importlib.metadata.version('transformers')}"
        return {"model": self.model, "servers": {"in-process": {"model": self.model, "version": version}}}

    async def close(self) -> None:
        if self._worker is not None:
            self._inbox.put(None)
            await asyncio.to_thread(self._worker.join)
            self._worker = None

    # --- the worker thread ----------------------------------------------------------------------
    def _run(self) -> None:
        import torch

        before = torch.get_num_threads()
        cores = os.cpu_count() or 2
        torch.set_num_threads(self.threads or (cores if passive_wait() else max(1, cores // 2)))
        assert self._loaded is not None
        decoder = Decoder(self._loaded, self._inbox, self.stats, self.max_batch, torch)
        try:
            with torch.inference_mode():
                decoder.loop()
        except BaseException as e:  # a bug or out of memory: fail every request, and the run after them
            log.error("the transformers engine failed: %s", e)
            self._failure = e
            jobs = [row.job for row in decoder.rows] + decoder.waiting
            while True:
                try:
                    job = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    jobs.append(job)
            for job in jobs:
                job.answer(ChatResult(choices=[], error=f"transformers: {e}"))
        finally:
            torch.set_num_threads(before)
