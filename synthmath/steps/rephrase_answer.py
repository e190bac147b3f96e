"""Step 2: an answer for each rephrased question, verified against the seed's gold answer.

``rephrase`` mode (SOLAR's Synth. Math-Instruct) rewrites the original solution for the new wording;
``solve`` mode (MetaMath's AnsAug, rejection sampling) solves the rephrased question from scratch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ..engine.base import ChatRequest, ChatResult
from ..prompts import PromptSet
from ..records import Reject, SeedProblem
from .base import Sampling, make_request, unanswered
from .similarity import ANSWER_COPY_THRESHOLD
from .verify import check_answer

__all__ = ["RephraseAnswer"]


class RephraseAnswer:
    stage: Literal["answer"] = "answer"

    def __init__(
        self,
        prompts: PromptSet,
        sampling: Sampling,
        *,
        mode: str,
        samples: int,
        copy_threshold: float | None = ANSWER_COPY_THRESHOLD,
        timeout: float | None = None,
    ) -> None:
        self.template = prompts["rephrase_answer" if mode == "rephrase" else "solve"]
        self.sampling = sampling
        self.mode = mode
        self.samples = samples
        self.copy_threshold = copy_threshold  # None: keep answers that copy the original solution
        self.timeout = timeout

    def request(self, seed: SeedProblem, question: str, index: int) -> ChatRequest:
        values = {"question": question}
        if self.mode == "rephrase":
            values |= {"problem": seed.problem, "solution": seed.solution}
        return make_request(
            self.template, self.sampling, seed_id=seed.id, index=index, n=self.samples, **values
        )

    def parse(
        self, seed: SeedProblem, question: str, result: ChatResult, *, earlier: Sequence[str] = ()
    ) -> tuple[list[str], list[Reject]]:
        """The verified answers (distinct, in sample order), and a reject for each other candidate.
        ``earlier`` are the answers verified for this question in earlier sampling rounds: a repeat of
        one is a ``duplicate``.

        CPU-bound (sympy): run it in a worker process. A kept answer's similarity to the original
        solution is ``similarity.answer_copies_original(answer, seed.solution).score``.
        """
        missing = unanswered(
            seed.id, self.stage, result, self.samples, question=question, gold_answer=seed.gold_answer
        )
        if result.error is not None:
            return [], missing
        kept: list[str] = []
        rejects: list[Reject] = []
        for i, choice in enumerate(result.choices):
            text = choice.text.strip()
            extracted, failure = check_answer(
                text,
                choice.finish_reason,
                seed.gold_answer,
                original=seed.solution,
                copy_threshold=self.copy_threshold,
                timeout=self.timeout,
            )
            if failure is None and (text in kept or text in earlier):
                failure = ("duplicate", "the same answer was produced earlier for this question")
            if failure is None:
                kept.append(text)
                continue
            reason, detail = failure
            rejects.append(
                Reject(
                    seed_id=seed.id,
                    stage=self.stage,
                    reason=reason,
                    detail=detail,
                    question=question,
                    text=choice.text,
                    extracted_answer=extracted,
                    gold_answer=seed.gold_answer,
                    extra={"sample": i},
                )
            )
        return kept, rejects + missing
