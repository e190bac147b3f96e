"""The stages of each kind of data, for one seed, on the event loop (the CPU parts go to the workers).

A build makes the kinds of ``augment`` side by side, one :class:`~.work.Track` each:

- ``rephrase``: K rephrasings in one request, checked and gated; optionally the solve check;
- ``ansaug``: the seed problem itself is the question (MetaMath's AnsAug): only answers are sampled;
- ``fobar`` / ``sv``: backward questions over masked numbers (by code, else by the model), checked and
  gated; the solve check always runs on them, against the masked number, so only questions whose
  hidden number the problem determines are kept.

Then every kind's kept questions get answers in sampling rounds (:meth:`KindStages.answer_rounds`): one
round by default; with ``min_correct`` K, rounds go on for the questions with fewer than K verified
answers until they have K or ``max_tries`` answers were sampled (DART-Math's difficulty-aware sampling).
A seed without a gold answer (``gold="majority"``) first gets one by vote (:meth:`KindStages.vote`).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from ..engine.base import ChatRequest, ChatResult, request_seed
from ..records import Reject, SeedProblem
from ..steps import RephraseAnswer
from ..steps.backward import BackwardQuestions
from ..steps.vote import MajorityVote, VoteOutcome
from .cpu_augment import MaskOutcome
from .jobs import AnswerOutcome, QuestionOutcome, SolveOutcome, answer_timeout, question_timeout
from .work import SeedWork, Track

if TYPE_CHECKING:
    from ..config import BuildConfig
    from ..engine.base import Engine
    from ..prompts import PromptSet
    from ..steps import RephraseQuestion
    from ..steps.solve_check import SolveCheck
    from .stats import BuildStats


__all__ = ["BACKWARD", "KindStages", "Stages"]

BACKWARD = ("fobar", "sv")


class Stages(Protocol):
    """What the kinds' stages use of their pipeline (:class:`~synthmath.pipeline.pipeline.Pipeline`):
    its config, engine, prompts, statistics and steps, the solve check, and its worker pool."""

    config: BuildConfig
    engine: Engine
    prompts: PromptSet
    stats: BuildStats
    question_step: RephraseQuestion
    answer_step: RephraseAnswer

    def solve_check_step(self) -> SolveCheck: ...

    async def _cpu(self, job: tuple[Any, ...], on_timeout: Any = None, cost: int = 1) -> Any: ...


class KindStages:
    """The per-kind stages of one pipeline (its config, engine and worker pool)."""

    def __init__(self, pipeline: Stages) -> None:
        self.p = pipeline
        c = pipeline.config
        self.kinds = list(c.augment)
        prompts, answer_sampling = pipeline.prompts, c.step_sampling("answer")
        self.solve_step = (
            RephraseAnswer(prompts, answer_sampling, mode="solve", samples=c.answer_samples)
            if set(self.kinds) - {"rephrase"}
            else None
        )
        self.backward = (
            BackwardQuestions(prompts, c.step_sampling("question"), k=c.backward_questions, kinds=self.kinds)
            if set(self.kinds) & set(BACKWARD)
            else None
        )
        self.voter = (
            MajorityVote(prompts, answer_sampling, samples=c.gold_samples, min_agreement=c.min_agreement)
            if c.gold == "majority"
            else None
        )

    def templates(self) -> list[Any]:
        steps: list[Any] = [self.solve_step, self.voter]
        found = [s.template for s in steps if s is not None]
        return found + (self.backward.templates() if self.backward is not None else [])

    # -- the gold answer of a seed without one -------------------------------------------------------

    async def vote(self, work: SeedWork) -> bool:
        """Vote the seed's gold answer; True when it has one now (``work.seed`` then carries it, and the
        winning solution as its reference solution if it had none)."""
        seed = work.seed
        if self.voter is None:  # a seed without a gold only reaches here under gold="majority"
            return True
        work.vote_result = await self.p.engine.complete(self.voter.request(seed))
        timed_out = VoteOutcome(None, None, 0, self.voter.samples, [_vote_timeout(seed)])
        outcome: VoteOutcome = await self.p._cpu(
            ("vote", seed, work.vote_result), timed_out, cost=len(work.vote_result.choices) + 1
        )
        work.vote = outcome
        if outcome.gold is None:
            return False
        work.seed = seed.model_copy(
            update={"gold_answer": outcome.gold, "solution": seed.solution or outcome.solution or ""}
        )
        return True

    # -- each kind's questions ---------------------------------------------------------------------

    async def run(self, work: SeedWork, mode: str | None) -> None:
        """Every kind's questions and answers for a seed that passed the gate (and has a gold)."""
        for kind in self.kinds:  # the tracks in the config's order: the output's order
            work.track(kind)
        masks = await self._masks(work) if self.backward is not None else MaskOutcome([])
        await asyncio.gather(*(self._kind(work, kind, masks, mode) for kind in self.kinds))

    async def _kind(self, work: SeedWork, kind: str, masks: MaskOutcome, mode: str | None) -> None:
        p, seed, track = self.p, work.seed, work.track(kind)
        if kind == "rephrase":
            result = await p.engine.complete(p.question_step.request(seed))
            track.made = [result]
            track.questions = await p._cpu(
                ("questions", seed, result), question_timeout(seed), cost=len(result.choices) + 1
            )
            if p.config.check_questions == "solve" and track.questions.questions:
                await self._solve_check(work, track)
        elif kind == "ansaug":
            track.questions = QuestionOutcome(
                questions=[seed.problem], rejects=[], reasons=[], candidates=0, flagged=[False]
            )
        else:
            await self._backward(work, track, masks)
        if work.needs_answers(mode, kind):
            await self.answer_rounds(work, track)

    async def _masks(self, work: SeedWork) -> MaskOutcome:
        """The numbers to mask: by code, else by the model (one request, ``backward_questions`` replies)."""
        assert self.backward is not None
        seed = work.seed
        found: MaskOutcome = await self.p._cpu(("masks", seed, None), MaskOutcome([]))
        if found.masks:
            return found
        result = await self.p.engine.complete(self.backward.mask_request(seed))
        work.mask_results = [result]
        made: MaskOutcome = await self.p._cpu(
            ("masks", seed, result), MaskOutcome([]), cost=len(result.choices) + 1
        )
        return made

    async def _backward(self, work: SeedWork, track: Track, masks: MaskOutcome) -> None:
        assert self.backward is not None
        seed, kind = work.seed, track.kind
        results: list[ChatResult] = []
        if kind == "sv" and masks.masks:
            requests = [self.backward.statement_request(seed, m, i) for i, m in enumerate(masks.masks)]
            results = list(await asyncio.gather(*(self.p.engine.complete(r) for r in requests)))
        track.made = list(work.mask_results) + results if kind == self._first_backward() else results
        q: QuestionOutcome = await self.p._cpu(
            ("backward", seed, kind, masks.masks, results), question_timeout(seed), cost=len(results) + 1
        )
        if kind == self._first_backward():  # the model's masks count once, with the first backward kind
            q.rejects = masks.rejects + q.rejects
            q.reasons = masks.reasons + q.reasons
            q.candidates += masks.candidates
        track.questions = q
        if q.questions:
            await self._solve_check(work, track)

    def _first_backward(self) -> str:
        return next(k for k in self.kinds if k in BACKWARD)

    async def _solve_check(self, work: SeedWork, track: Track) -> None:
        """Each kept question solved from scratch; the ones whose solutions miss the gold (the masked
        number, for backward questions) leave as question rejects."""
        check, q, seed = self.p.solve_check_step(), track.questions, work.seed
        assert q is not None
        requests = [check.request(seed, text, i) for i, text in enumerate(q.questions)]
        if track.kind != "rephrase":  # sampling seeds of their own: never the rephrase track's
            step, run_seed = f"solve_check/{track.kind}", self.p.config.seed
            requests = [_reseed(r, seed.id, step, i, run_seed) for i, r in enumerate(requests)]
        track.solve_results = list(await asyncio.gather(*(self.p.engine.complete(r) for r in requests)))
        job: tuple[Any, ...] = ("solve", seed, q.questions, track.solve_results)
        if track.kind in BACKWARD:
            job += (q.golds, track.kind)
        verdict: SolveOutcome = await self.p._cpu(
            job,
            SolveOutcome(kept=list(range(len(q.questions))), rejects=[], reasons=[]),
            cost=sum(len(r.choices) for r in track.solve_results),
        )
        q.keep(verdict.kept)
        q.rejects += verdict.rejects
        q.reasons += verdict.reasons

    # -- answers, in sampling rounds -----------------------------------------------------------------

    async def answer_rounds(self, work: SeedWork, track: Track) -> None:
        """The answers of a track's kept questions: one round, or rounds until ``min_correct``."""
        c, seed, q = self.p.config, work.seed, track.questions
        assert q is not None
        n = len(q.questions)
        per, want, cap = c.answer_samples, c.min_correct, c.max_tries
        rounds = 1 if want is None else math.ceil(cap / per)
        kept: list[list[str]] = [[] for _ in range(n)]
        wrong: list[str | None] = [None] * n
        tried = [0] * n
        total = AnswerOutcome(records=[], rejects=[], reasons=[], candidates=0)
        flagged = work.flagged(track.kind)
        gold_from = "vote" if work.vote is not None else None
        for r in range(rounds):
            todo = [i for i in range(n) if r == 0 or (len(kept[i]) < (want or 0) and tried[i] < cap)]
            if not todo:
                break
            sizes = [per if want is None else min(per, cap - tried[i]) for i in todo]
            requests = [
                self._answer_request(work, track, i, r, size) for i, size in zip(todo, sizes, strict=True)
            ]
            results = list(await asyncio.gather(*(self.p.engine.complete(x) for x in requests)))
            track.answer_results += results
            questions = [q.questions[i] for i in todo]
            opts = {
                "kind": track.kind,
                "qids": todo,
                "golds": [q.golds[i] for i in todo] if q.golds else [],
                "earlier": [kept[i] for i in todo],
                "wrong": [wrong[i] for i in todo],
                "gold_from": gold_from,
            }
            outcome: AnswerOutcome = await self.p._cpu(
                ("answers", seed, questions, results, [flagged[i] for i in todo], opts),
                answer_timeout(seed, questions, c.verify_timeout),
                cost=sum(len(x.choices) for x in results),
            )
            for j, i in enumerate(todo):
                tried[i] += sizes[j]
                if outcome.kept:
                    kept[i] = kept[i] + outcome.kept[j]
                    wrong[i] = wrong[i] or outcome.wrong[j]
            total.add(outcome)
            if want is not None:
                self.p.stats.count_round(r + 1, len(todo), outcome.candidates, len(outcome.records))
            if r == 0:
                track.first_round_records = len(total.records)
        track.answers = total

    def _answer_request(self, work: SeedWork, track: Track, qi: int, round_: int, n: int) -> ChatRequest:
        """Round 0 of the rephrase kind is the request a build has always sent (so caches stay valid);
        every other kind and round gets sampling seeds of its own."""
        assert track.questions is not None
        seed, question = work.seed, track.questions.questions[qi]
        if track.kind == "rephrase":
            req = self.p.answer_step.request(seed, question, qi)
        else:
            assert self.solve_step is not None
            req = self.solve_step.request(seed, question, qi)
        if track.kind != "rephrase" or round_:
            tag = "" if track.kind == "rephrase" else f"/{track.kind}"
            tag += f"/round{round_}" if round_ else ""
            req = _reseed(req, seed.id, f"{req.step}{tag}", qi, self.p.config.seed)
        return replace(req, n=n)


def _reseed(req: ChatRequest, seed_id: str, step: str, index: int, run_seed: int) -> ChatRequest:
    return replace(req, seed=request_seed(seed_id, step, index, run_seed))


def _vote_timeout(seed: SeedProblem) -> Reject:
    return Reject(seed_id=seed.id, stage="seed", reason="check_timeout", detail="the gold vote overran")
