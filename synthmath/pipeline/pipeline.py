"""The build's stages, one way, for many seeds at once:

    load seeds -> gate seeds -> rephrase questions -> check + gate questions -> rephrase answers
    -> verify + build records -> (writer)

The LLM stages send requests through one engine on the event loop; the CPU stages (question checks, the
contamination gate, verification, building records) run in worker processes (:mod:`.pool`). A seed that
matches a benchmark item is rejected as ``contaminated_seed`` before any request is sent for it, and a
rephrased question that matches one is dropped before its answer is asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Literal

from ..config import BuildConfig
from ..engine.base import Engine
from ..errors import ContaminationError
from ..prompts import PromptSet
from ..records import Reject, SeedProblem
from ..seeds import iter_seed_stream
from ..seeds.select import duplicate_id
from ..steps import RephraseAnswer, RephraseQuestion
from ..steps.solve_check import SolveCheck
from ..summary import GateSummary
from .accounting import Emitted, SeedAccounts
from .health import RequestTally
from .jobs import (
    GateSpec,
    WorkerSpec,
    fits_context,
    prompt_too_long,
)
from .kinds import KindStages
from .ordered import ordered_map, started_ahead
from .pool import WorkerPool
from .stats import BuildStats
from .work import SeedWork

__all__ = ["Emitted", "Kind", "Pipeline"]

Kind = Literal["instruct", "dpo"]

log = logging.getLogger(__name__)

WINDOW = 4  # seeds in progress per request in flight (see Pipeline.run)


class Pipeline(SeedAccounts):
    """Seeds in; records, rejects and gate rows out, in seed order, for one config and one started engine."""

    def __init__(
        self, config: BuildConfig, kind: Kind, engine: Engine, *, gate: GateSpec | None = None
    ) -> None:
        self.config = config
        self.kind = kind
        self.engine = engine
        self.gate = gate
        self.prompts = PromptSet(config.prompts_dir)
        q, a = config.step_sampling("question"), config.step_sampling("answer")
        self.question_step = RephraseQuestion(
            self.prompts,
            q,
            k=config.rephrasings,
            require_numbers=config.require_numbers,
            check_math=config.check_math,
            check_conditions=config.check_conditions,
        )
        self.answer_step = RephraseAnswer(
            self.prompts, a, mode=config.answer_mode, samples=config.answer_samples
        )
        self.stats = BuildStats()
        self.solve_check = (
            SolveCheck(
                self.prompts,
                config.step_sampling("question"),
                samples=config.solve_check_samples,
                min_agree=config.solve_check_min_agree,
            )
            if config.check_questions == "solve"
            else None
        )
        self.kinds = KindStages(self)  # the kinds of data (augment) and the answer rounds
        self.gate_summary: GateSummary | None = None
        self.gate_examples: list[dict[str, Any]] = []
        self.requests = RequestTally()  # sent, failed through every retry, and the last failure
        self.pool: WorkerPool | None = None
        self.gate_skipped: str | None = None  # why the config's gate is not running (set by the caller)
        self.context_length: int | None = config.max_prompt_tokens or engine.info().get("max_model_len")
        self._seen: set[bytes] = set()  # digests of seed ids: a repeated id would repeat record ids

    def _templates(self) -> list[Any]:
        steps: list[Any] = [self.answer_step, self.solve_check]
        if "rephrase" in self.config.augment:
            steps.insert(0, self.question_step)
        if self.kinds.backward is not None:
            steps.append(self.solve_check_step())
        templates = [s.template for s in steps if s is not None] + self.kinds.templates()
        if "rephrase" not in self.config.augment and self.config.answer_mode == "rephrase":
            templates = [t for t in templates if t.name != "rephrase_answer"]
        return list({t.name: t for t in templates}.values())

    @property
    def prompt_hashes(self) -> dict[str, str]:
        return {t.name: t.hash for t in self._templates()}

    def prompt_texts(self) -> dict[str, dict[str, str]]:
        """Each prompt of the run with its hash and full text, for provenance."""
        return {
            t.name: {"hash": t.hash, "text": t.path.read_text(encoding="utf-8")} for t in self._templates()
        }

    def worker_spec(self) -> WorkerSpec:
        return WorkerSpec.from_config(
            self.config, self.kind, self.engine.model, self.prompt_hashes, self.gate
        )

    def seeds_from_config(self) -> Iterator[SeedProblem | Reject]:
        """The config's seeds, with the rows skipped while loading as rejects, in order."""
        return iter_seed_stream(self.config.require_seeds(), **self.config.seed_options())

    async def run(self, seeds: Iterable[SeedProblem | Reject] | None = None) -> AsyncIterator[Emitted]:
        """Every record, reject and gate row, in seed order. Seeds come from the config when not given."""
        source = iter(seeds) if seeds is not None else self.seeds_from_config()
        try:
            info = await self._start_pool()
            if self.gate is not None:
                self.gate_summary = GateSummary(mode=self.gate.mode, **info)
            # seeds in progress at once: a seed waits on the workers between its requests (its questions
            # checked and gated, its answers verified), so the window holds enough seeds beside those
            # waiting to keep ``concurrency`` requests in flight (2x could leave request slots empty
            # while a worker batch ran). Nothing done is lost with the seeds still out of order at a
            # crash: their responses are in the request cache.
            window = max(WINDOW * self.config.concurrency, 16)
            # each seed's gate job is sent a window ahead of the seed: the check runs while the seeds
            # before it wait on the server, so the seed's first request does not wait for a worker
            entries = started_ahead(source, window, self._gate_job)
            async for items in ordered_map(entries, self._seed, window):
                for item in items:
                    yield item
                self.finished(items)  # after its lines are out: progress never runs ahead of the output
            self._check_failures(final=True)
        finally:
            if self.pool is not None:
                await self.pool.close()

    async def _start_pool(self) -> dict[str, Any]:
        """Start the workers; the gate's index is built now, before any request is sent."""
        self.pool = WorkerPool(
            self.worker_spec(), workers=self.config.workers, job_timeout=self.config.verify_timeout
        )
        return await self.pool.start()

    def _gate_job(self, item: SeedProblem | Reject) -> asyncio.Future[Any] | None:
        if self.gate is None or not isinstance(item, SeedProblem):
            return None
        return asyncio.ensure_future(self._cpu(("gate", item)))

    async def _seed(self, entry: tuple[SeedProblem | Reject, asyncio.Future[Any] | None]) -> list[Emitted]:
        item, gate = entry
        seed = self.admit(item)
        if isinstance(seed, list):
            if gate is not None:
                gate.cancel()
            return seed
        work = SeedWork(seed)
        mode = self.gate.mode if self.gate is not None else None
        if gate is not None:  # sent ahead (run): the gate's verdict on the seed
            work.gate = await gate
            if work.stops_at_gate(mode):
                return self.account(work)
        if not seed.gold_answer and not await self.kinds.vote(work):
            return self.account(work)
        await self.kinds.run(work, mode)
        return self.account(work)

    def admit(self, item: SeedProblem | Reject) -> SeedProblem | list[Emitted]:
        """The seed, when it enters the stages; or its reject (skipped while loading, repeated id)."""
        if isinstance(item, Reject):
            self.stats.seeds_skipped[item.reason] += 1
            return [self._reject(item)]
        seed = item
        digest = hashlib.sha256(seed.id.encode()).digest()[:12]
        if digest in self._seen:
            self.stats.seeds_skipped["duplicate_id"] += 1
            return [self._reject(duplicate_id(seed))]
        self._seen.add(digest)
        request = self.question_step.request(seed)
        if not fits_context(request, self.context_length):
            self.stats.seeds_skipped["prompt_too_long"] += 1
            return [self._reject(prompt_too_long(seed, request, self.context_length))]
        self.stats.seeds += 1
        return seed

    def solve_check_step(self) -> SolveCheck:
        """The solve check (made on first use: backward questions need it without --check-questions)."""
        if self.solve_check is None:
            self.solve_check = SolveCheck(
                self.prompts,
                self.config.step_sampling("question"),
                samples=self.config.solve_check_samples,
                min_agree=self.config.solve_check_min_agree,
            )
        return self.solve_check

    async def _cpu(self, job: tuple[Any, ...], on_timeout: Any = None, cost: int = 1) -> Any:
        assert self.pool is not None

        def timed_out() -> Any:
            if on_timeout is None:
                return ContaminationError(
                    f"the contamination check of seed {job[1].id} overran its time budget - rerun, or "
                    "raise verify_timeout"
                )
            return on_timeout

        return await self.pool.run(job, timed_out, cost)
