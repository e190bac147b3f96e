"""The batch that :class:`~synthmath.engine.transformers_engine.TransformersEngine` decodes, in its thread.

Rows (one per sample of a request) share one key/value cache, left-padded to a common length; a
request's prompt is read in a forward pass of its own and merged in, and a row leaves as soon as it ends.
All turns of a prompt but the last (a step's system turn and worked example: 80-90% of its tokens) are
read once per run and their cache copied into each request that starts with them.

The key/value cache grows in place (``_kv_cache.py``): transformers' own layer concatenates the whole
cache with each new token.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import queue
import time
from dataclasses import dataclass, field
from typing import Any

from ._kv_cache import make_cache
from ._sampling import sample_token
from .base import ChatRequest, ChatResult, Choice, EngineStats
from .local_model import LoadedModel

_SUPPORTED_EXTRAS = {"top_k", "min_p", "repetition_penalty"}
_PREFILL_TOKENS = 8192  # most prompt tokens (padding included) read in one forward pass
_MIN_PREFIX = 32  # shorter shared prefixes are not worth a cache of their own
_PAD_SLACK = 1.5  # most padded prompt tokens per real one in a group read together (plus _MIN_PAD)
_MIN_PAD = 64  # padding always allowed: a forward pass of its own costs more for short prompts


__all__ = ["Decoder", "Job"]


@dataclass
class Job:
    request: ChatRequest
    future: asyncio.Future[ChatResult]
    loop: asyncio.AbstractEventLoop
    prompt: list[int] = field(default_factory=list)
    prefix: tuple[int, ...] = ()  # the leading tokens shared with other requests (system turn, examples)
    texts: list[Choice | None] = field(default_factory=list)
    completion_tokens: int = 0

    def answer(self, result: ChatResult) -> None:
        def set_result() -> None:
            if not self.future.done():  # not cancelled meanwhile
                self.future.set_result(result)

        with contextlib.suppress(RuntimeError):  # the caller's loop has closed: nobody waits for it
            self.loop.call_soon_threadsafe(set_result)


@dataclass
class Row:
    job: Job
    index: int  # which of the request's n samples
    limit: int  # most tokens it may generate
    generator: Any
    tokens: list[int] = field(default_factory=list)


class Decoder:
    """The batch being decoded: rows, their key/value cache, attention mask and positions."""

    def __init__(
        self,
        loaded: LoadedModel,
        inbox: queue.Queue[Job | None],
        stats: EngineStats,
        max_batch: int,
        torch: Any,
    ) -> None:
        self.inbox = inbox
        self.stats = stats
        self.max_batch = max_batch
        self.torch = torch
        self.model = loaded.model
        self.tok = loaded.tokenizer
        config = self.model.config
        self.context = int(getattr(config, "max_position_embeddings", 0) or 8192)
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        self.eos = {int(t) for t in [*eos, self.tok.eos_token_id] if t is not None}
        self.pad = int(self.tok.pad_token_id if self.tok.pad_token_id is not None else min(self.eos))
        # transformers 5.x renamed the forward's past_key_values to cache
        params = inspect.signature(self.model.forward).parameters
        self.cache_arg = "cache" if "cache" in params else "past_key_values"
        self.rows: list[Row] = []
        self.cache: Any = None
        self.mask: Any = None  # [rows, columns] 1 for real tokens, 0 for padding
        self.positions: Any = None  # [rows] position of the next token
        self.logits: Any = None  # [rows, vocab] the next token's logits
        self.waiting: list[Job] = []
        self.prefixes: dict[tuple[int, ...], list[tuple[Any, Any]]] = {}
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
        free = self.max_batch - len(self.rows)
        if not self.waiting or free <= 0:
            return False
        wanted = sum(j.request.n for j in self.waiting)
        return not self.rows or wanted >= free or free >= max(1, self.max_batch // 4)

    def _collect(self, block: bool) -> None:
        inbox = self.inbox
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

    def _prepare(self, job: Job) -> bool:
        """Tokenize the prompt; answer at once (False) when the request cannot run."""
        r = job.request
        unsupported = set(r.extra_body) - _SUPPORTED_EXTRAS
        if unsupported:
            error = f"the transformers backend does not support {', '.join(sorted(unsupported))}"
            job.answer(ChatResult([], error=error))
            return False
        ids = self.tok.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=True)
        job.prompt = _ids(ids)
        if len(r.messages) > 1:  # all turns but the last are the step's fixed part: read it once
            head = _ids(self.tok.apply_chat_template(r.messages[:-1], tokenize=True))
            if _MIN_PREFIX <= len(head) < len(job.prompt) and job.prompt[: len(head)] == head:
                job.prefix = tuple(head)
        if len(job.prompt) >= self.context:
            error = f"prompt of {len(job.prompt)} tokens exceeds the model's context of {self.context}"
            job.answer(ChatResult([], prompt_tokens=len(job.prompt), error=error))
            self.stats.failed_requests += 1
            return False
        job.texts = [None] * r.n
        return True

    def _admit(self) -> None:
        """Read the prompts of waiting requests that share a prefix, and merge them into the batch.

        The oldest waiting request always goes in; others join, shortest prompt first, while the
        padding stays small: one forward pass reads all their prompts padded to the longest, and a
        long prompt (an Asymptote figure: 850 tokens beside 30-token neighbours) would otherwise
        multiply the work of the whole group.
        """
        torch = self.torch
        room = self.max_batch - len(self.rows)
        first = self.waiting[0]
        key = first.prefix
        skip = len(key)

        def own(job: Job) -> int:
            return len(job.prompt) - skip

        jobs = [first]
        room -= first.request.n
        width = real = own(first)
        for job in sorted((j for j in self.waiting[1:] if j.prefix == key), key=own):
            wider = max(width, own(job))
            padded = (len(jobs) + 1) * wider
            too_padded = padded > _PAD_SLACK * (real + own(job)) + _MIN_PAD
            if room < job.request.n or padded > _PREFILL_TOKENS or too_padded:
                continue
            jobs.append(job)
            room -= job.request.n
            width, real = wider, real + own(job)
        for job in jobs:
            self.waiting.remove(job)
        ids = torch.full((len(jobs), width), self.pad, dtype=torch.long)
        tail = torch.zeros((len(jobs), width), dtype=torch.long)
        for i, j in enumerate(jobs):
            ids[i, width - len(j.prompt) + skip :] = torch.tensor(j.prompt[skip:])
            tail[i, width - len(j.prompt) + skip :] = 1
        # [shared prefix | padding | rest of the prompt]: the prefix's cache is computed once and copied
        mask = torch.cat([torch.ones((len(jobs), skip), dtype=torch.long), tail], dim=1)
        positions = skip + (tail.cumsum(-1) - 1).clamp(min=0)
        extra: dict[str, Any] = {}
        if skip:  # the prefix's cache, once per job, with room for the rest of the prompts
            extra[self.cache_arg] = make_cache(
                [(k.expand(len(jobs), -1, -1, -1), v.expand(len(jobs), -1, -1, -1))
                 for k, v in self._prefix_cache(key)],
                spare=width,
            )  # fmt: skip
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **extra,
        )
        # one prompt read per request, then its cache copied once for each of its n samples
        expand = torch.tensor([i for i, j in enumerate(jobs) for _ in range(j.request.n)])
        new_rows: list[Row] = []
        for j in jobs:
            r = j.request
            for k in range(r.n):
                gen = torch.Generator()
                gen.manual_seed((r.seed if r.seed is not None else time.time_ns()) + k)
                limit = min(r.max_tokens, self.context - len(j.prompt))
                new_rows.append(Row(j, k, limit, gen))
        layers, logits = _cache_of(out).layers, out.logits[:, -1, :].float()
        del out, extra  # from here only the cache and the last logits are needed
        if len(expand) == len(jobs):  # one sample each: no rows to repeat, no copy before the merge
            kv = [(layer.keys, layer.values) for layer in layers]
        else:
            kv = [(layer.keys[expand], layer.values[expand]) for layer in layers]
        del layers
        self._merge(
            new_rows, kv, mask[expand], torch.tensor([len(j.prompt) for j in jobs])[expand], logits[expand]
        )

    def _prefix_cache(self, key: tuple[int, ...]) -> list[tuple[Any, Any]]:
        """The key/value cache of a shared prefix, for one row; computed on first use."""
        if key not in self.prefixes:
            if len(self.prefixes) >= 8:  # a run has a few steps, so a few prefixes: a bound, not an LRU
                self.prefixes.clear()
            out = self.model(input_ids=self.torch.tensor([key]), use_cache=True, logits_to_keep=1)
            self.prefixes[key] = [(layer.keys, layer.values) for layer in _cache_of(out).layers]
        return self.prefixes[key]

    def _merge(self, rows: list[Row], kv: list[tuple[Any, Any]], mask: Any, pos: Any, logits: Any) -> None:
        torch = self.torch
        if not self.rows:
            self.rows, self.mask, self.positions, self.logits = rows, mask, pos, logits
            self.cache = make_cache(kv)
            return
        width = max(self.mask.shape[1], mask.shape[1])

        def left_pad(t: Any, dim: int) -> Any:
            missing = width - t.shape[dim]
            if missing == 0:
                return t
            shape = list(t.shape)
            shape[dim] = missing
            return torch.cat([t.new_zeros(shape), t], dim=dim)

        self.cache = make_cache(
            [(layer.keys, layer.values) for layer in self.cache.layers], kv
        )  # each layer's old rows above the new ones, right-aligned in one new buffer
        self.mask = torch.cat([left_pad(self.mask, 1), left_pad(mask, 1)])
        self.positions = torch.cat([self.positions, pos])
        self.logits = torch.cat([self.logits, logits])
        self.rows = self.rows + rows

    def _sample(self) -> list[int]:
        torch, logits = self.torch, self.logits
        return [
            sample_token(torch, logits[i], row.job.request, (row.job.prompt, row.tokens), row.generator)
            for i, row in enumerate(self.rows)
        ]

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
        self.cache = make_cache(
            [(layer.keys[index, :, first:], layer.values[index, :, first:]) for layer in self.cache.layers]
        )
        self.mask, self.positions, self.logits = mask[:, first:], self.positions[index], self.logits[index]

    def _finish(self, row: Row, reason: str) -> None:
        job = row.job
        job.texts[row.index] = Choice(self.tok.decode(row.tokens, skip_special_tokens=True), reason)
        job.completion_tokens += len(row.tokens)
        if all(t is not None for t in job.texts):
            stats = self.stats
            stats.requests += 1
            stats.per_server["in-process transformers"] += 1
            stats.prompt_tokens += len(job.prompt)
            stats.completion_tokens += job.completion_tokens
            choices = [c for c in job.texts if c is not None]
            job.answer(ChatResult(choices, len(job.prompt), job.completion_tokens))


def _cache_of(out: Any) -> Any:
    return out["cache"] if "cache" in out else out["past_key_values"]


def _ids(encoded: Any) -> list[int]:
    """Token ids from apply_chat_template, which returns a list or a BatchEncoding by version."""
    return list(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)
