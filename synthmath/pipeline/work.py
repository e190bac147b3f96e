"""One seed's trip through the stages, as data: what each stage produced for it.

Both executors fill a :class:`SeedWork` stage by stage (the local one on its event loop, the Ray one in
actors, shipping it between stages) and hand the finished one to :meth:`Pipeline.account`, which counts
it and turns it into output lines. The rules of when a seed stops early are here, once.

A seed's data comes in kinds (``augment``: rephrase, ansaug, fobar, sv), one :class:`Track` each: the
requests that made the kind's questions, the checked questions, the solve check, and the answers of
every sampling round. ``question_result``, ``questions``, ``answer_results`` and ``answers`` name the
rephrase track's parts, as the Ray executor's stages fill them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.base import ChatResult
from ..records import SeedProblem
from ..steps.vote import VoteOutcome
from .jobs import AnswerOutcome, GateOutcome, QuestionOutcome

__all__ = ["SeedWork", "Track"]


@dataclass
class Track:
    """One kind's questions and answers for a seed (picklable)."""

    kind: str
    made: list[ChatResult] = field(default_factory=list)  # the requests that made its questions
    questions: QuestionOutcome | None = None
    solve_results: list[ChatResult] = field(default_factory=list)  # the solve check's, when it runs
    answer_results: list[ChatResult] = field(default_factory=list)  # every round's
    answers: AnswerOutcome | None = None
    first_round_records: int = 0  # records after the first sampling round (min_correct)

    def all_failed(self) -> bool:
        """Whether the requests this track depended on all failed for good (the last stage it reached)."""
        last = self.answer_results if self.questions is not None and self.questions.questions else self.made
        return bool(last) and all(r.server_failure for r in last)


@dataclass
class SeedWork:
    """A seed and each stage's outcome for it (picklable). ``error`` is a CPU job's exception, raised
    where the seed is accounted for, so a build fails at the same seed whichever executor runs it."""

    seed: SeedProblem
    gate: GateOutcome | None = None
    tracks: list[Track] = field(default_factory=list)
    vote_result: ChatResult | None = None  # gold="majority": the solutions voted on
    vote: VoteOutcome | None = None
    mask_results: list[ChatResult] = field(default_factory=list)  # the model's masks (in the first
    # backward kind's track.made too), when code found no number to mask
    error: BaseException | None = None

    def track(self, kind: str) -> Track:
        """The track of ``kind``, made on first use."""
        for t in self.tracks:
            if t.kind == kind:
                return t
        t = Track(kind)
        self.tracks.append(t)
        return t

    # the rephrase track's parts, under the names the Ray executor's stages use
    @property
    def question_result(self) -> ChatResult | None:
        made = self.track("rephrase").made
        return made[0] if made else None

    @question_result.setter
    def question_result(self, result: ChatResult | None) -> None:
        self.track("rephrase").made = [] if result is None else [result]

    @property
    def questions(self) -> QuestionOutcome | None:
        return self.track("rephrase").questions

    @questions.setter
    def questions(self, q: QuestionOutcome | None) -> None:
        self.track("rephrase").questions = q

    @property
    def answer_results(self) -> list[ChatResult]:
        return self.track("rephrase").answer_results

    @answer_results.setter
    def answer_results(self, results: list[ChatResult]) -> None:
        self.track("rephrase").answer_results = results

    @property
    def answers(self) -> AnswerOutcome | None:
        return self.track("rephrase").answers

    @answers.setter
    def answers(self, a: AnswerOutcome | None) -> None:
        self.track("rephrase").answers = a

    def stops_at_gate(self, mode: str | None) -> bool:
        """No request is ever sent for a contaminated seed (drop: a reject; fail: the build stops)."""
        return self.error is not None or (
            mode in ("drop", "fail") and self.gate is not None and self.gate.contaminated
        )

    def needs_answers(self, mode: str | None, kind: str = "rephrase") -> bool:
        """Answers are asked for kept questions, unless a question matched a benchmark under fail."""
        q = self.track(kind).questions
        if self.error is not None or q is None or not q.questions:
            return False
        return not (mode == "fail" and any(c.get("contaminated") for c in q.checks))

    def flagged(self, kind: str = "rephrase") -> list[bool]:
        """Per kept question: is its record to be flagged contaminated (flag mode)?"""
        q = self.track(kind).questions
        assert q is not None
        seed_flagged = self.gate is not None and self.gate.contaminated
        return [seed_flagged or f for f in q.flagged]
