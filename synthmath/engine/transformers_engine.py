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
import contextlib
import inspect
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ServerError
from .base import ChatRequest, ChatResult, Choice, EngineStats
from .local_model import LoadedModel, load_local_model

__all__ = ["TransformersEngine"]

log = logging.getLogger(__name__)

_SUPPORTED_EXTRAS = {"top_k", "min_p", "repetition_penalty"}
_PREFILL_TOKENS = 8192  # most prompt tokens (padding included) read in one forward pass


@dataclass
class _Job:
    request: ChatRequest
    future: asyncio.Future[ChatResult]
    loop: asyncio.AbstractEventLoop
    prompt: list[int] = field(default_factory=list)
    texts: list[Choice | None] = field(default_factory=list)
    completion_tokens: int = 0

    def answer(self, result: ChatResult) -> None:
        def set_result() -> None:
            if not self.future.done():  # not cancelled meanwhile
                self.future.set_result(result)

        with contextlib.suppress(RuntimeError):  # the caller's loop has closed: nobody waits for it
            self.loop.call_soon_threadsafe(set_result)


@dataclass
class _Row:
    job: _Job
    index: int  # which of the request's n samples
    limit: int  # most tokens it may generate
    generator: Any
    tokens: list[int] = field(default_factory=list)


class TransformersEngine:
    """Chat completions from a transformers model in this process (CPU), with continuous batching.

    ``model``: None for the bundled SmolLM2-135M-Instruct, a ``.gguf`` file, or a transformers checkpoint
    folder (local files only). ``max_batch``: most sequences decoded together. ``threads``: torch's
    CPU threads while the engine runs; the default, half the cores, holds up on a busy machine, where
    torch's threads wait for each other by spinning (on 2 busy cores, 2 threads ran 5x slower than 1).
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
        self._inbox: queue.Queue[_Job | None] = queue.Queue()
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
        job = _Job(request, loop.create_future(), loop)
        self._inbox.put(job)
        if self._failure is not None:  # the worker died after the check above: it may miss this job
            raise ServerError(f"the transformers engine stopped: {self._failure}")
        return await job.future

    async def close(self) -> None:
        if self._worker is not None:
            self._inbox.put(None)
            await asyncio.to_thread(self._worker.join)
            self._worker = None

    # --- the worker thread ----------------------------------------------------------------------
    def _run(self) -> None:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(self.threads or max(1, (os.cpu_count() or 2) // 2))
        decoder = _Decoder(self, torch)
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


class _Decoder:
    """The batch being decoded: rows, their key/value cache, attention mask and positions."""

    def __init__(self, engine: TransformersEngine, torch: Any) -> None:
        assert engine._loaded is not None
        self.engine = engine
        self.torch = torch
        self.model = engine._loaded.model
        self.tok = engine._loaded.tokenizer
        config = self.model.config
        self.context = int(getattr(config, "max_position_embeddings", 0) or 8192)
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        self.eos = {int(t) for t in [*eos, self.tok.eos_token_id] if t is not None}
        self.pad = int(self.tok.pad_token_id if self.tok.pad_token_id is not None else min(self.eos))
        # transformers 5.x renamed the forward's past_key_values to cache
        params = inspect.signature(self.model.forward).parameters
        self.cache_arg = "cache" if "cache" in params else "past_key_values"
        self.rows: list[_Row] = []
        self.cache: Any = None
        self.mask: Any = None  # [rows, columns] 1 for real tokens, 0 for padding
        self.positions: Any = None  # [rows] position of the next token
        self.logits: Any = None  # [rows, vocab] the next token's logits
        self.waiting: list[_Job] = []
        self.stopping = False

    def loop(self) -> None:
        while not (self.stopping and not self.rows and not self.waiting):
            self._collect(block=not self.rows and not self.waiting)
            if self._should_admit():
                self._admit()
            if self.rows:
                self._step()

    def _should_admit(self) -> bool:
        # Merging copies the whole batch's cache: admit in groups, not one request per step.
        free = self.engine.max_batch - len(self.rows)
        if not self.waiting or free <= 0:
            return False
        wanted = sum(j.request.n for j in self.waiting)
        return not self.rows or wanted >= free or free >= max(1, self.engine.max_batch // 4)

    def _collect(self, block: bool) -> None:
        inbox = self.engine._inbox
        while True:
            try:
                job = inbox.get(timeout=0.5) if block else inbox.get_nowait()
            except queue.Empty:
                if block and not self.stopping:
                    continue
                return
            block = False
            if job is None:
                self.stopping = True
            elif self._prepare(job):
                self.waiting.append(job)

    def _prepare(self, job: _Job) -> bool:
        """Tokenize the prompt; answer at once (False) when the request cannot run."""
        r = job.request
        unsupported = set(r.extra_body) - _SUPPORTED_EXTRAS
        if unsupported:
            error = f"the transformers backend does not support {', '.join(sorted(unsupported))}"
            job.answer(ChatResult([], error=error))
            return False
        ids = self.tok.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=True)
        job.prompt = list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
        if len(job.prompt) >= self.context:
            error = f"prompt of {len(job.prompt)} tokens exceeds the model's context of {self.context}"
            job.answer(ChatResult([], prompt_tokens=len(job.prompt), error=error))
            self.engine.stats.failed_requests += 1
            return False
        job.texts = [None] * r.n
        return True

    def _admit(self) -> None:
        """Read the prompts of waiting requests and merge them into the batch."""
        torch = self.torch
        room = self.engine.max_batch - len(self.rows)
        jobs: list[_Job] = []
        width = 0
        while self.waiting and (not jobs or room >= self.waiting[0].request.n):
            # one forward pass reads all their prompts, padded to the longest: bound its memory
            if jobs and (len(jobs) + 1) * max(width, len(self.waiting[0].prompt)) > _PREFILL_TOKENS:
                break
            job = self.waiting.pop(0)
            jobs.append(job)
            room -= job.request.n
            width = max(width, len(job.prompt))
        ids = torch.full((len(jobs), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(jobs), width), dtype=torch.long)
        for i, j in enumerate(jobs):
            ids[i, width - len(j.prompt) :] = torch.tensor(j.prompt)
            mask[i, width - len(j.prompt) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(
            input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1
        )
        # one prompt read per request, then its cache copied once for each of its n samples
        expand = torch.tensor([i for i, j in enumerate(jobs) for _ in range(j.request.n)])
        new_rows: list[_Row] = []
        for j in jobs:
            r = j.request
            for k in range(r.n):
                gen = torch.Generator()
                gen.manual_seed((r.seed if r.seed is not None else time.time_ns()) + k)
                limit = min(r.max_tokens, self.context - len(j.prompt))
                new_rows.append(_Row(j, k, limit, gen))
        self._merge(
            new_rows,
            [(layer.keys[expand], layer.values[expand]) for layer in _cache_of(out).layers],
            mask[expand],
            torch.tensor([len(j.prompt) for j in jobs])[expand],
            out.logits[:, -1, :].float()[expand],
        )

    def _merge(self, rows: list[_Row], kv: list[tuple[Any, Any]], mask: Any, pos: Any, logits: Any) -> None:
        torch = self.torch
        from transformers import DynamicCache

        if not self.rows:
            self.rows, self.mask, self.positions, self.logits = rows, mask, pos, logits
            self.cache = DynamicCache(kv)
            return
        old = [(layer.keys, layer.values) for layer in self.cache.layers]
        width = max(self.mask.shape[1], mask.shape[1])

        def left_pad(t: Any, dim: int) -> Any:
            missing = width - t.shape[dim]
            if missing == 0:
                return t
            shape = list(t.shape)
            shape[dim] = missing
            return torch.cat([t.new_zeros(shape), t], dim=dim)

        merged = [
            (torch.cat([left_pad(k0, 2), left_pad(k1, 2)]), torch.cat([left_pad(v0, 2), left_pad(v1, 2)]))
            for (k0, v0), (k1, v1) in zip(old, kv, strict=True)
        ]
        self.cache = DynamicCache(merged)
        self.mask = torch.cat([left_pad(self.mask, 1), left_pad(mask, 1)])
        self.positions = torch.cat([self.positions, pos])
        self.logits = torch.cat([self.logits, logits])
        self.rows = self.rows + rows

    def _sample(self) -> list[int]:
        torch = self.torch
        picked: list[int] = []
        for i, row in enumerate(self.rows):
            r = row.job.request
            logits = self.logits[i]
            penalty = float(r.extra_body.get("repetition_penalty") or 1.0)
            if penalty != 1.0:  # as in vLLM: over the prompt's and the reply's tokens
                seen = torch.tensor(sorted({*row.job.prompt, *row.tokens}))
                old = logits[seen]
                logits = logits.clone()
                logits[seen] = torch.where(old > 0, old / penalty, old * penalty)
            if r.temperature <= 0:
                picked.append(int(logits.argmax()))
                continue
            probs = torch.softmax(logits / r.temperature, dim=-1)
            top_k = int(r.extra_body.get("top_k") or 0)
            min_p = float(r.extra_body.get("min_p") or 0.0)
            if r.top_p < 1.0 or top_k > 0 or min_p > 0:
                sorted_p, order = probs.sort(descending=True)
                drop = sorted_p.cumsum(-1) - sorted_p > r.top_p  # keep the smallest set reaching top_p
                if top_k > 0:
                    drop[top_k:] = True
                if min_p > 0:
                    drop |= sorted_p < min_p * sorted_p[0]
                drop[0] = False
                probs = torch.zeros_like(probs).scatter(0, order, sorted_p.masked_fill(drop, 0.0))
            picked.append(int(torch.multinomial(probs, 1, generator=row.generator)))
        return picked

    def _step(self) -> None:
        torch = self.torch
        picked = self._sample()
        keep: list[int] = []
        for i, (row, token) in enumerate(zip(self.rows, picked, strict=True)):
            stop = token in self.eos
            if not stop:
                row.tokens.append(token)
            if stop or len(row.tokens) >= row.limit:
                self._finish(row, "stop" if stop else "length")
            else:
                keep.append(i)
        if len(keep) < len(self.rows):
            self._drop(keep)
            if not self.rows:
                return
        self.mask = torch.cat([self.mask, self.mask.new_ones((len(self.rows), 1))], dim=1)
        ids = torch.tensor([[row.tokens[-1]] for row in self.rows])
        out = self.model(
            input_ids=ids,
            attention_mask=self.mask,
            position_ids=self.positions[:, None],
            use_cache=True,
            **{self.cache_arg: self.cache},
        )
        self.cache = _cache_of(out)
        self.positions = self.positions + 1
        self.logits = out.logits[:, -1, :].float()

    def _drop(self, keep: list[int]) -> None:
        """Keep only these rows, and cut the padding columns no remaining row needs."""
        index = self.torch.tensor(keep, dtype=self.torch.long)
        self.rows = [self.rows[i] for i in keep]
        if not keep:
            self.cache = self.mask = self.positions = self.logits = None
            return
        mask = self.mask[index]
        first = int(mask.any(0).nonzero()[0])  # the first column some remaining row uses
        from transformers import DynamicCache

        self.cache = DynamicCache(
            [(layer.keys[index, :, first:], layer.values[index, :, first:]) for layer in self.cache.layers]
        )
        self.mask, self.positions, self.logits = mask[:, first:], self.positions[index], self.logits[index]

    def _finish(self, row: _Row, reason: str) -> None:
        job = row.job
        job.texts[row.index] = Choice(self.tok.decode(row.tokens, skip_special_tokens=True), reason)
        job.completion_tokens += len(row.tokens)
        if all(t is not None for t in job.texts):
            stats = self.engine.stats
            stats.requests += 1
            stats.per_server["in-process transformers"] += 1
            stats.prompt_tokens += len(job.prompt)
            stats.completion_tokens += job.completion_tokens
            choices = [c for c in job.texts if c is not None]
            job.answer(ChatResult(choices, len(job.prompt), job.completion_tokens))


def _cache_of(out: Any) -> Any:
    return out["cache"] if "cache" in out else out["past_key_values"]
