"""Gold answers for seeds that have none (``gold="majority"``), by a vote over sampled solutions.

The model solves the seed problem from scratch ``samples`` times (``prompts/solve.yaml``, one request
with ``n=samples``). Final answers are grouped by :func:`synthmath.answers.answers_equivalent`
(``\\frac12`` and ``0.5`` are one answer); the largest group's answer becomes the seed's gold when its
share of all ``samples`` solutions (a solution without a final answer counts as a disagreeing one) is
at least ``min_agreement`` and no other group is as large. Its first solution becomes the seed's
reference solution when the seed has none. Every solution outside the winning group is a
``minority_answer`` reject; a seed without a winner is a ``no_majority`` reject carrying every answer.
This is how NeMo-Skills' OpenMathInstruct-2 fills in answers for problems that come without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..answers import VerificationTimeout, answers_equivalent, extract_boxed
from ..engine.base import ChatRequest, ChatResult, request_seed
from ..prompts import PromptSet
from ..records import Reject, SeedProblem
from .base import Sampling, make_request

__all__ = ["STEP", "MajorityVote", "VoteOutcome"]

STEP = "gold_vote"


@dataclass
class VoteOutcome:
    """The vote on one seed: the gold (None: no majority), the solution that stands for it, and the
    rejects of the solutions that disagree (or of the whole seed)."""

    gold: str | None
    solution: str | None
    agree: int
    samples: int
    rejects: list[Reject] = field(default_factory=list)


class MajorityVote:
    """The vote's request and its count."""

    stage = "seed"

    def __init__(self, prompts: PromptSet, sampling: Sampling, *, samples: int, min_agreement: float) -> None:
        self.template = prompts["solve"]
        self.sampling = sampling
        self.samples = samples
        self.min_agreement = min_agreement

    def request(self, seed: SeedProblem) -> ChatRequest:
        req = make_request(
            self.template, self.sampling, seed_id=seed.id, index=0, n=self.samples, question=seed.problem
        )
        return replace(req, step=STEP, seed=request_seed(seed.id, STEP, 0, self.sampling.run_seed))

    def count(self, seed: SeedProblem, result: ChatResult, *, timeout: float | None = None) -> VoteOutcome:
        """The vote (CPU-bound: sympy; run it in a worker process)."""
        if result.error is not None:
            r = Reject(
                seed_id=seed.id, stage="seed", reason="request_error", detail=f"gold vote: {result.error}"
            )
            return VoteOutcome(None, None, 0, self.samples, [r])
        texts = [c.text for c in result.choices]
        answers = [None if c.finish_reason == "length" else extract_boxed(c.text) for c in result.choices]
        groups: list[list[int]] = []  # indexes of solutions with one answer, in order of first sight
        for i, a in enumerate(answers):
            if not a:
                continue
            for g in groups:
                try:
                    same = answers_equivalent(a, answers[g[0]] or "", timeout=timeout)
                except VerificationTimeout:
                    same = False
                if same:
                    g.append(i)
                    break
            else:
                groups.append([i])
        groups.sort(key=len, reverse=True)
        best = groups[0] if groups else []
        tie = len(groups) > 1 and len(groups[1]) == len(best)
        share = len(best) / self.samples
        if not best or tie or share < self.min_agreement:
            shown = ", ".join(f"{answers[g[0]]!r} x{len(g)}" for g in groups[:5]) or "no final answer"
            why = "a tie" if tie else f"{len(best)} of {self.samples} agree, below {self.min_agreement:g}"
            r = Reject(
                seed_id=seed.id,
                stage="seed",
                reason="no_majority",
                detail=f"no gold answer by vote ({why}; answers: {shown})",
                text=seed.problem,
                extra={"answers": answers},
            )
            return VoteOutcome(None, None, len(best), self.samples, [r])
        gold = answers[best[0]]
        assert gold is not None
        rejects = [
            Reject(
                seed_id=seed.id,
                stage="seed",
                reason="minority_answer" if answers[i] else _no_vote(result.choices[i].finish_reason),
                detail=f"final answer {answers[i]!r} differs from the majority answer {gold!r}"
                if answers[i]
                else "no complete final answer (cut off, or no \\boxed{}), so no vote",
                text=texts[i],
                extracted_answer=answers[i],
                gold_answer=gold,
                extra={"sample": i, "gold_from": "vote"},
            )
            for i in range(len(texts))
            if i not in best
        ]
        return VoteOutcome(gold, texts[best[0]], len(best), self.samples, rejects)


def _no_vote(finish_reason: str | None) -> str:
    return "truncated" if finish_reason == "length" else "no_boxed_answer"
