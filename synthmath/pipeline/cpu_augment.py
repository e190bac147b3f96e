"""The CPU jobs of the kinds beyond rephrasing, as they run inside a worker process (see :mod:`.cpu`):

- ``("masks", seed, result)``: the numbers to mask for FOBAR/SV questions, by code (``result`` None) or
  from the model's reply;
- ``("backward", seed, kind, masks, results)``: the FOBAR or SV questions (``results``: the SV
  statements), checked; the kept ones are then gated like rephrasings;
- ``("vote", seed, result)``: the gold answer of a seed without one, by majority vote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..engine.base import ChatResult
from ..records import SeedProblem
from ..steps.masking import Mask, code_masks
from .jobs import QuestionOutcome, _line

if TYPE_CHECKING:
    from ..steps.vote import VoteOutcome
    from .state import WorkerState

__all__ = ["MaskOutcome", "backward_job", "masks_job", "vote_job"]


@dataclass
class MaskOutcome:
    masks: list[Mask]
    rejects: list[str] = field(default_factory=list)  # JSON lines
    reasons: list[str] = field(default_factory=list)
    candidates: int = 0  # the model's replies (code masks are not candidates: nothing to reject)


def masks_job(state: WorkerState, seed: SeedProblem, result: ChatResult | None) -> MaskOutcome:
    k = state.spec.backward_questions
    if result is None:
        return MaskOutcome(code_masks(seed.id, seed.problem, seed.solution, k))
    assert state.backward is not None
    masks, rejects = state.backward.parse_masks(seed, result)
    return MaskOutcome(
        masks, [_line(r) for r in rejects], [r.reason for r in rejects], max(len(result.choices), 1)
    )


def backward_job(
    state: WorkerState, seed: SeedProblem, kind: str, masks: list[Mask], results: list[ChatResult]
) -> QuestionOutcome:
    assert state.backward is not None
    made = state.backward.fobar(seed, masks) if kind == "fobar" else state.backward.sv(seed, masks, results)
    for r in made.rejects:
        r.extra["kind"] = kind
    return QuestionOutcome(
        questions=made.questions,
        rejects=[_line(r) for r in made.rejects],
        reasons=[r.reason for r in made.rejects],
        candidates=made.candidates,
        flagged=[False] * len(made.questions),
        golds=made.golds,
    )


def vote_job(state: WorkerState, seed: SeedProblem, result: ChatResult) -> VoteOutcome:
    return state.vote.count(seed, result, timeout=state.spec.verify_timeout)
