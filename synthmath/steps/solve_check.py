"""Optional question check: does the rephrased question still have the seed's answer?

MetaMath's self-verification idea. The model solves the rephrased question from scratch, without the
original problem or solution (``prompts/solve.yaml``), ``samples`` times; the question is kept only if
at least ``min_agree`` of the final answers are equivalent to the gold answer. Otherwise it is rejected
as ``rephrasing_changed_answer``: a rephrasing that dropped a number or reversed a condition asks
something else, even when the answer step, which sees the original solution, reproduces the gold.

The step only builds the requests and reads the replies; :func:`judge_solutions` (sympy: run it in a
worker process) decides. Its requests are tagged ``step="solve_check"`` so their tokens are counted
apart, and get sampling seeds of their own, so they never collide in the cache with the answer step's
``--answer-mode solve`` requests for the same question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ..answers import VerificationTimeout, answers_equivalent, extract_boxed
from ..engine.base import ChatRequest, ChatResult, request_seed
from ..prompts import PromptSet
from ..records import Reject, SeedProblem
from .base import Sampling, make_request

__all__ = ["STEP", "SolveCheck", "SolveVerdict", "judge_solutions", "keeps_question"]

STEP = "solve_check"


def keeps_question(agree: int, min_agree: int) -> bool:
    """The rule: a rephrased question is kept when at least ``min_agree`` solutions reach the gold answer."""
    return agree >= min_agree


@dataclass(frozen=True)
class SolveVerdict:
    """What the independent solutions of one rephrased question say."""

    keep: bool
    agree: int  # solutions whose final answer is equivalent to the gold answer
    samples: int  # solutions asked for
    answers: tuple[str | None, ...]  # each solution's final boxed answer (None: none, or truncated)
    timeouts: int = 0  # answers whose check timed out (counted as not agreeing)

    def reject(self, seed: SeedProblem, question: str) -> Reject | None:
        """The ``rephrasing_changed_answer`` reject, or None when the question is kept."""
        if self.keep:
            return None
        shown = ", ".join(repr(a) for a in self.answers[:5])
        return Reject(
            seed_id=seed.id,
            stage="question",
            reason="rephrasing_changed_answer",
            detail=f"{self.agree} of {self.samples} independent solutions reach the gold answer "
            f"{seed.gold_answer!r} (answers: {shown})",
            question=question,
            gold_answer=seed.gold_answer,
            extra={"agree": self.agree, "samples": self.samples, "answers": list(self.answers)},
        )


def judge_solutions(
    answers: Sequence[str | None], gold: str, *, min_agree: int = 1, timeout: float | None = None
) -> SolveVerdict:
    """The verdict on one rephrased question from its solutions' final answers (CPU-bound: sympy)."""
    agree = timeouts = 0
    for a in answers:
        if a is None:
            continue
        try:
            agree += answers_equivalent(a, gold, timeout=timeout)
        except VerificationTimeout:
            timeouts += 1
    return SolveVerdict(keeps_question(agree, min_agree), agree, len(answers), tuple(answers), timeouts)


class SolveCheck:
    """Requests that solve each rephrased question from scratch, and their final answers."""

    stage: Literal["question"] = "question"

    def __init__(
        self, prompts: PromptSet, sampling: Sampling, *, samples: int = 4, min_agree: int = 1
    ) -> None:
        if samples < 1 or not 1 <= min_agree <= samples:
            raise ValueError("the solve check needs samples >= 1 and 1 <= min_agree <= samples")
        self.template = prompts["solve"]
        self.sampling = sampling
        self.samples = samples
        self.min_agree = min_agree

    def request(self, seed: SeedProblem, question: str, index: int) -> ChatRequest:
        """``samples`` solutions of rephrasing ``index`` of ``seed``, with no sight of the original."""
        req = make_request(
            self.template, self.sampling, seed_id=seed.id, index=index, n=self.samples, question=question
        )
        return replace(req, step=STEP, seed=request_seed(seed.id, STEP, index, self.sampling.run_seed))

    def answers(self, result: ChatResult) -> list[str | None]:
        """Each solution's final boxed answer; None for a truncated solution or one without a box."""
        return [None if c.finish_reason == "length" else extract_boxed(c.text) for c in result.choices]

    def parse(
        self, seed: SeedProblem, question: str, result: ChatResult, *, timeout: float | None = None
    ) -> tuple[SolveVerdict | None, Reject | None]:
        """The verdict and the reject (None when kept). A failed request rejects the question as
        ``request_error``: it could not be checked. CPU-bound: run it in a worker process."""
        if result.error is not None:
            return None, Reject(
                seed_id=seed.id,
                stage=self.stage,
                reason="request_error",
                detail=f"solve check: {result.error}",
                question=question,
                gold_answer=seed.gold_answer,
            )
        answers = self.answers(result)
        answers += [None] * (self.samples - len(answers))  # a server that returned fewer choices
        verdict = judge_solutions(answers, seed.gold_answer, min_agree=self.min_agree, timeout=timeout)
        return verdict, verdict.reject(seed, question)
