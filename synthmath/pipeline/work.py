"""One seed's trip through the stages, as data: what each stage produced for it.

Both executors fill a :class:`SeedWork` stage by stage (the local one on its event loop, the Ray one in
actors, shipping it between stages) and hand the finished one to :meth:`Pipeline.account`, which counts
it and turns it into output lines. The rules of when a seed stops early are here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.base import ChatResult
from ..records import SeedProblem
from .jobs import AnswerOutcome, GateOutcome, QuestionOutcome

__all__ = ["SeedWork"]


@dataclass
class SeedWork:
    """A seed and each stage's outcome for it (picklable). ``error`` is a CPU job's exception, raised
    where the seed is accounted for, so a build fails at the same seed whichever executor runs it."""

    seed: SeedProblem
    gate: GateOutcome | None = None
    question_result: ChatResult | None = None
    questions: QuestionOutcome | None = None
    solve_results: list[ChatResult] = field(default_factory=list)  # the solve check's, when it runs
    answer_results: list[ChatResult] = field(default_factory=list)
    answers: AnswerOutcome | None = None
    error: BaseException | None = None

    def stops_at_gate(self, mode: str | None) -> bool:
        """No request is ever sent for a contaminated seed (drop: a reject; fail: the build stops)."""
        return self.error is not None or (
            mode in ("drop", "fail") and self.gate is not None and self.gate.contaminated
        )

    def needs_answers(self, mode: str | None) -> bool:
        """Answers are asked for kept questions, unless a rephrasing matched a benchmark under fail."""
        q = self.questions
        if self.error is not None or q is None or not q.questions:
            return False
        return not (mode == "fail" and any(c.get("contaminated") for c in q.checks))

    def flagged(self) -> list[bool]:
        """Per kept question: is its record to be flagged contaminated (flag mode)?"""
        assert self.questions is not None
        seed_flagged = self.gate is not None and self.gate.contaminated
        return [seed_flagged or f for f in self.questions.flagged]
