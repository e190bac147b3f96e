"""Step 1: rephrase each seed question K times (MetaMath's question rephrasing)."""

from __future__ import annotations

from typing import Literal

from ..engine.base import ChatRequest, ChatResult
from ..prompts import PromptSet
from ..records import Reject, SeedProblem
from .base import Sampling, make_request, unanswered
from .similarity import DUPLICATE_THRESHOLD, QUESTION_COPY_THRESHOLD
from .verify import check_question, clean_question

__all__ = ["RephraseQuestion"]


class RephraseQuestion:
    """Asks for K rephrasings in one request (``n=K``: one prefill, K samples) and keeps the usable ones."""

    stage: Literal["question"] = "question"

    def __init__(
        self,
        prompts: PromptSet,
        sampling: Sampling,
        *,
        k: int,
        require_numbers: bool,
        check_math: bool = True,
        check_conditions: bool = True,
        copy_threshold: float = QUESTION_COPY_THRESHOLD,
        duplicate_threshold: float = DUPLICATE_THRESHOLD,
    ) -> None:
        self.template = prompts["rephrase_question"]
        self.sampling = sampling
        self.k = k
        self.require_numbers = require_numbers
        self.check_math = check_math
        self.check_conditions = check_conditions
        self.copy_threshold = copy_threshold
        self.duplicate_threshold = duplicate_threshold

    def request(self, seed: SeedProblem) -> ChatRequest:
        return make_request(
            self.template, self.sampling, seed_id=seed.id, index=0, n=self.k, problem=seed.problem
        )

    def parse(self, seed: SeedProblem, result: ChatResult) -> tuple[list[str], list[Reject]]:
        """The kept rephrasings, in sample order, and a reject for each other candidate.

        ``similarity.question_copies_seed(seed.problem, question).score`` is a kept question's
        similarity to its seed (for the record's meta).
        """
        missing = unanswered(seed.id, self.stage, result, self.k)
        if result.error is not None:
            return [], missing
        kept: list[str] = []
        rejects: list[Reject] = []
        for i, choice in enumerate(result.choices):
            question = clean_question(choice.text)
            failure = check_question(
                seed.problem,
                question,
                choice.finish_reason,
                kept,
                require_numbers=self.require_numbers,
                check_math=self.check_math,
                check_conditions=self.check_conditions,
                copy_threshold=self.copy_threshold,
                duplicate_threshold=self.duplicate_threshold,
                gold=seed.gold_answer,
            )
            if failure is None:
                kept.append(question)
            else:
                reason, detail = failure
                rejects.append(
                    Reject(
                        seed_id=seed.id,
                        stage=self.stage,
                        reason=reason,
                        detail=detail,
                        text=choice.text,
                        extra={"sample": i},
                    )
                )
        return kept, rejects + missing
