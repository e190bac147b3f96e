"""The pipeline: seeds -> rephrased questions -> verified answers -> records, streaming.

:class:`Pipeline` runs the steps for many seeds at once through one engine and yields, in seed order,
every record and every reject. ``build_instruct`` / ``build_dpo`` are the library's streaming entry
points; ``synthmath.output.build_to_dir`` writes the files the CLI produces.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

from ._version import __version__
from .config import BuildConfig
from .engine import Engine, OpenAIServerEngine
from .engine.cache import CachedEngine, RequestCache
from .engine.managed import ManagedServer
from .errors import ConfigError
from .prompts import PromptSet
from .records import DPORecord, InstructRecord, Message, Meta, Reject, SeedProblem
from .seeds import load_seeds
from .steps import RephraseAnswer, RephraseQuestion
from .steps.base import Sampling

__all__ = ["BuildStats", "Pipeline", "abuild_dpo", "abuild_instruct", "build_dpo", "build_instruct"]

Kind = Literal["instruct", "dpo"]
Record = InstructRecord | DPORecord
Item = InstructRecord | DPORecord | Reject
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class BuildStats:
    """Counts per stage, updated as the run goes."""

    seeds: int = 0
    seeds_skipped: Counter[str] = field(default_factory=Counter)
    seeds_with_records: int = 0
    question_candidates: int = 0
    questions_kept: int = 0
    question_rejects: Counter[str] = field(default_factory=Counter)
    answer_candidates: int = 0
    records: int = 0
    answer_rejects: Counter[str] = field(default_factory=Counter)
    by_subject: dict[str, Counter[str]] = field(default_factory=dict)
    by_level: dict[str, Counter[str]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def count_seed(self, seed: SeedProblem, records: int) -> None:
        """Per-subject and per-level counts: seeds, seeds with records, records."""
        subject = seed.subject or "unknown"
        level = str(seed.level) if seed.level is not None else "unknown"
        for table, key in ((self.by_subject, subject), (self.by_level, level)):
            c = table.setdefault(key, Counter())
            c["seeds"] += 1
            c["with_records"] += records > 0
            c["records"] += records

    def to_dict(self) -> dict[str, Any]:
        def rate(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "seeds": {
                "processed": self.seeds,
                "skipped": sum(self.seeds_skipped.values()),
                "skipped_by_reason": dict(self.seeds_skipped),
                "with_records": self.seeds_with_records,
                "yield_rate": rate(self.seeds_with_records, self.seeds),
            },
            "questions": {
                "candidates": self.question_candidates,
                "kept": self.questions_kept,
                "rejected_by_reason": dict(self.question_rejects),
                "acceptance_rate": rate(self.questions_kept, self.question_candidates),
            },
            "answers": {
                "candidates": self.answer_candidates,
                "kept": self.records,
                "rejected_by_reason": dict(self.answer_rejects),
                "acceptance_rate": rate(self.records, self.answer_candidates),
            },
            "records": self.records,
            "by_subject": {k: dict(v) for k, v in sorted(self.by_subject.items())},
            "by_level": {k: dict(v) for k, v in sorted(self.by_level.items())},
            "wall_time_s": round(time.monotonic() - self.started, 3),
        }


def make_engine(config: BuildConfig) -> Engine:
    """The engine the config asks for: OpenAI-compatible servers, or vLLM in this process."""
    if config.backend == "vllm":
        from .engine.vllm_engine import VLLMEngine

        return VLLMEngine(config.model, engine_args=config.vllm_args, max_batch=config.concurrency)
    return OpenAIServerEngine(
        config.base_url,
        api_key=config.api_key,
        model=config.model,
        concurrency=config.concurrency,
        max_retries=config.max_retries,
        timeout=config.timeout,
    )


class Pipeline:
    """Seeds in, records and rejects out, for one config and one engine."""

    def __init__(self, config: BuildConfig, kind: Kind, *, engine: Engine | None = None) -> None:
        self.config = config
        self.kind = kind
        self.prompts = PromptSet(config.prompts_dir)
        sampling = Sampling(
            temperature=config.temperature,
            top_p=config.top_p,
            max_tokens=config.max_tokens,
            run_seed=config.seed,
            extra_body=config.vllm_extras(),
        )
        self.question_step = RephraseQuestion(
            self.prompts, sampling, k=config.rephrasings, require_numbers=config.require_numbers
        )
        self.answer_step = RephraseAnswer(
            self.prompts, sampling, mode=config.answer_mode, samples=config.answer_samples
        )
        self.engine: Engine = engine or make_engine(config)
        cache_path = config.cache_path()
        if cache_path is not None:
            self.engine = CachedEngine(self.engine, RequestCache(cache_path))
        self.stats = BuildStats()
        self._meta: Meta | None = None
        self._seen: set[bytes] = set()  # digests of seed ids: a repeated id would repeat record ids

    def prompt_texts(self) -> dict[str, dict[str, str]]:
        """Each prompt of the run with its hash and full text, for provenance."""
        return {
            t.name: {"hash": t.hash, "text": t.path.read_text(encoding="utf-8")}
            for t in (self.question_step.template, self.answer_step.template)
        }

    @property
    def prompt_hashes(self) -> dict[str, str]:
        return {
            self.question_step.template.name: self.question_step.template.hash,
            self.answer_step.template.name: self.answer_step.template.hash,
        }

    def seeds_from_config(self, on_skip: Callable[[Reject], None]) -> Iterator[SeedProblem]:
        if not self.config.seeds:
            raise ConfigError("no seeds given - pass --seeds PATH_OR_HUB_ID (e.g. EleutherAI/hendrycks_math)")
        return load_seeds(
            self.config.seeds,
            split=self.config.split,
            subjects=self.config.subjects,
            levels=self.config.levels,
            limit=self.config.limit,
            sample=self.config.sample,
            seed=self.config.seed,
            shard=self.config.shard_tuple(),
            on_skip=on_skip,
        )

    async def run(self, seeds: Iterable[SeedProblem] | None = None) -> AsyncIterator[Item]:
        """Every record and reject, in seed order. Seeds come from the config when not given."""
        skipped: deque[Reject] = deque()

        def on_skip(r: Reject) -> None:
            self.stats.seeds_skipped[r.reason] += 1
            skipped.append(r)

        seed_iter = iter(seeds) if seeds is not None else self.seeds_from_config(on_skip)
        try:
            await self.engine.start()
        except BaseException:
            await self.engine.close()
            raise
        self._meta = Meta(
            model=self.engine.model,
            prompt_hashes=self.prompt_hashes,
            sampling=self.config.sampling(),
            answer_mode=self.config.answer_mode,
            synthmath_version=__version__,
            created_at="",
        )
        try:
            window = max(2 * self.config.concurrency, 16)
            async for items in ordered_map(seed_iter, self._process_seed, window):
                while skipped:
                    yield skipped.popleft()
                for item in items:
                    yield item
            while skipped:
                yield skipped.popleft()
        finally:
            await self.engine.close()

    async def _process_seed(self, seed: SeedProblem) -> list[Item]:
        digest = hashlib.sha256(seed.id.encode()).digest()[:12]
        if digest in self._seen:
            self.stats.seeds_skipped["duplicate_id"] += 1
            return [
                Reject(
                    seed_id=seed.id,
                    stage="seed",
                    reason="duplicate_id",
                    detail=f"seed id {seed.id} appeared earlier in {seed.source or 'the seeds'}",
                    text=seed.problem,
                )
            ]
        self._seen.add(digest)
        self.stats.seeds += 1
        result = await self.engine.complete(self.question_step.request(seed))
        questions, items = self.question_step.parse(seed, result)
        self.stats.question_candidates += len(result.choices) or 1
        self.stats.questions_kept += len(questions)
        for r in items:
            self.stats.question_rejects[r.reason] += 1

        results = await asyncio.gather(
            *(self.engine.complete(self.answer_step.request(seed, q, i)) for i, q in enumerate(questions))
        )
        out: list[Item] = list(items)
        made = 0
        for qi, (question, res) in enumerate(zip(questions, results, strict=False)):
            answers, rejects = self.answer_step.parse(seed, question, res)
            self.stats.answer_candidates += len(res.choices) or 1
            for r in rejects:
                self.stats.answer_rejects[r.reason] += 1
            out.extend(rejects)
            for ai, answer in enumerate(answers):
                out.append(self._record(seed, f"{seed.id}/q{qi}/a{ai}", question, answer))
                made += 1
        self.stats.records += made
        self.stats.count_seed(seed, made)
        if made:
            self.stats.seeds_with_records += 1
        return out

    def _record(self, seed: SeedProblem, rid: str, question: str, answer: str) -> Record:
        assert self._meta is not None
        meta = self._meta.model_copy(
            update={"created_at": datetime.now(timezone.utc).isoformat(), "seed_source": seed.source}
        )
        common: dict[str, Any] = {
            "id": rid,
            "seed_id": seed.id,
            "gold_answer": seed.gold_answer,
            "subject": seed.subject,
            "level": seed.level,
            "meta": meta,
        }
        if self.kind == "instruct":
            return InstructRecord(
                question=question,
                answer=answer,
                messages=[Message(role="user", content=question), Message(role="assistant", content=answer)],
                **common,
            )
        if self.config.chat:
            return DPORecord(
                prompt=[Message(role="user", content=question)],
                chosen=[Message(role="assistant", content=answer)],
                rejected=[Message(role="assistant", content=seed.solution)],
                **common,
            )
        return DPORecord(prompt=question, chosen=answer, rejected=seed.solution, **common)


async def ordered_map(items: Iterator[T], fn: Callable[[T], Awaitable[R]], window: int) -> AsyncIterator[R]:
    """``fn`` over ``items`` with at most ``window`` calls running, results yielded in input order.

    A slow item does not stall the others: new items are admitted as any call finishes, up to
    ``4 * window`` finished-but-unyielded results (which bounds memory).
    """
    pending: deque[asyncio.Task[R]] = deque()
    running = 0
    wake = asyncio.Event()
    exhausted = False

    def done(_: asyncio.Task[R]) -> None:
        nonlocal running
        running -= 1
        wake.set()

    try:
        while True:
            while not exhausted and running < window and len(pending) < 4 * window:
                try:
                    item = next(items)
                except StopIteration:
                    exhausted = True
                    break
                task = asyncio.ensure_future(fn(item))
                running += 1
                task.add_done_callback(done)
                pending.append(task)
            if pending and pending[0].done():
                yield pending.popleft().result()
                continue
            if not pending:
                return
            if wake.is_set():  # something finished since the last look: admit more before waiting
                wake.clear()
                continue
            await wake.wait()
    finally:
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def iterate_sync(agen: AsyncIterator[T]) -> Iterator[T]:
    """Drive an async iterator from synchronous code, on a private event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise ConfigError(
            "build_instruct/build_dpo cannot run inside a running event loop (Jupyter, async code) - "
            "use `async for record in abuild_instruct(...)` (or abuild_dpo) there"
        )
    loop = asyncio.new_event_loop()
    step: asyncio.Future[T] | None = None
    try:
        while True:
            step = asyncio.ensure_future(agen.__anext__(), loop=loop)
            try:
                item = loop.run_until_complete(step)
            except StopAsyncIteration:
                return
            yield item
    finally:
        if step is not None and not step.done():
            # Ctrl-C or SIGTERM stopped the loop inside the generator: cancel the step so the generator
            # runs its own cleanup (aclose() would fail: "asynchronous generator is already running")
            step.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(step)
        aclose = getattr(agen, "aclose", None)
        if aclose is not None:
            loop.run_until_complete(aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _config(config: BuildConfig | None, options: dict[str, Any]) -> BuildConfig:
    if config is None:
        return BuildConfig.load(**options)
    # only the fields that were set: a default (base_url) must not count as a choice (see --local)
    return BuildConfig.load(**{**config.model_dump(exclude_unset=True), **options}) if options else config


async def _abuild(
    kind: Kind,
    seeds: Iterable[SeedProblem] | None,
    config: BuildConfig | None,
    on_reject: Callable[[Reject], None] | None,
    options: dict[str, Any],
) -> AsyncIterator[Record]:
    cfg = _config(config, options)
    server = ManagedServer.from_config(cfg)  # local / serve: a server for this run, stopped after it
    async with contextlib.AsyncExitStack() as stack:
        if server is not None:
            await stack.enter_async_context(server)
            cfg = server.config_for_run(cfg)
        async for item in Pipeline(cfg, kind).run(seeds):
            if isinstance(item, Reject):
                if on_reject is not None:
                    on_reject(item)
            else:
                yield item


def _build(
    kind: Kind,
    seeds: Iterable[SeedProblem] | None,
    config: BuildConfig | None,
    on_reject: Callable[[Reject], None] | None,
    options: dict[str, Any],
) -> Iterator[Record]:
    yield from iterate_sync(_abuild(kind, seeds, config, on_reject, options))


def build_instruct(
    seeds: Iterable[SeedProblem] | None = None,
    *,
    config: BuildConfig | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    **options: Any,
) -> Iterator[InstructRecord]:
    """Stream verified Synth. Math-Instruct records.

    ``seeds`` defaults to ``load_seeds(options["seeds"], ...)``; ``options`` are :class:`BuildConfig`
    fields (``base_url``, ``model``, ``rephrasings``, ...). Rejects go to ``on_reject`` when given.
    """
    for rec in _build("instruct", seeds, config, on_reject, options):
        assert isinstance(rec, InstructRecord)
        yield rec


def build_dpo(
    seeds: Iterable[SeedProblem] | None = None,
    *,
    config: BuildConfig | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    **options: Any,
) -> Iterator[DPORecord]:
    """Stream Synth. Math-Alignment DPO tuples (``chat=True`` for TRL's conversational form)."""
    for rec in _build("dpo", seeds, config, on_reject, options):
        assert isinstance(rec, DPORecord)
        yield rec


async def abuild_instruct(
    seeds: Iterable[SeedProblem] | None = None,
    *,
    config: BuildConfig | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    **options: Any,
) -> AsyncIterator[InstructRecord]:
    """:func:`build_instruct` for async code: ``async for record in abuild_instruct(...)``."""
    async for rec in _abuild("instruct", seeds, config, on_reject, options):
        assert isinstance(rec, InstructRecord)
        yield rec


async def abuild_dpo(
    seeds: Iterable[SeedProblem] | None = None,
    *,
    config: BuildConfig | None = None,
    on_reject: Callable[[Reject], None] | None = None,
    **options: Any,
) -> AsyncIterator[DPORecord]:
    """:func:`build_dpo` for async code: ``async for record in abuild_dpo(...)``."""
    async for rec in _abuild("dpo", seeds, config, on_reject, options):
        assert isinstance(rec, DPORecord)
        yield rec
