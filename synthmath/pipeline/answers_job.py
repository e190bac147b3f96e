"""The answer stage's CPU job, as it runs inside a worker process: verify every answer of a round
against its question's gold answer, and build the records (serialised as JSON lines).

One job covers one sampling round of one kind's questions. ``opts`` says which: the kind (it names the
records and says what DPO's ``rejected`` is), the questions' numbers and golds, the answers verified in
earlier rounds (so a repeat is a ``duplicate`` and numbering goes on), and where the gold came from.
Without ``opts`` the job is the rephrase kind's first round, as the Ray executor's stages send it.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..engine.base import ChatResult
from ..records import DPORecord, InstructRecord, Message, SeedProblem
from ..steps.similarity import answer_copies_original, question_copies_seed
from .jobs import AnswerOutcome, _line

if TYPE_CHECKING:
    from .state import WorkerState

__all__ = ["answers_job", "record_id"]

BACKWARD = ("fobar", "sv")


def record_id(seed_id: str, kind: str, qi: int, ai: int) -> str:
    """``<seed>/q<i>/a<j>`` for rephrasings (as always), ``<seed>/ansaug/a<j>`` for new answers to the
    original question, ``<seed>/<kind>/q<i>/a<j>`` for backward questions."""
    if kind == "rephrase":
        return f"{seed_id}/q{qi}/a{ai}"
    if kind == "ansaug":
        return f"{seed_id}/ansaug/a{ai}"
    return f"{seed_id}/{kind}/q{qi}/a{ai}"


def answers_job(
    state: WorkerState,
    seed: SeedProblem,
    questions: list[str],
    results: list[ChatResult],
    flagged: list[bool],
    opts: dict[str, Any] | None = None,
) -> AnswerOutcome:
    o = opts or {}
    kind: str = o.get("kind", "rephrase")
    qids: list[int] = o.get("qids") or list(range(len(questions)))
    golds: list[str] = o.get("golds") or []
    earlier: list[list[str]] = o.get("earlier") or [[] for _ in questions]
    wrong_before: list[str | None] = o.get("wrong") or [None] * len(questions)
    step = state.answer_step if kind == "rephrase" else state.solve_step
    out = AnswerOutcome(records=[], rejects=[], reasons=[], candidates=0)
    for j, (question, res) in enumerate(zip(questions, results, strict=True)):
        target = seed if not golds else seed.model_copy(update={"gold_answer": golds[j]})
        answers, rejects = step.parse(target, question, res, earlier=earlier[j])
        if kind != "rephrase":
            for r in rejects:
                r.extra["kind"] = kind
        out.candidates += max(len(res.choices), step.samples)  # each one asked for: kept or rejected
        out.rejects += [_line(r) for r in rejects]
        out.reasons += [r.reason for r in rejects]
        wrong = wrong_before[j] or next((r.text for r in rejects if r.reason == "wrong_answer"), None)
        out.kept.append(answers)
        out.wrong.append(wrong)
        for ai, answer in enumerate(answers, start=len(earlier[j])):
            rid = record_id(seed.id, kind, qids[j], ai)
            record = _record(state, target, rid, question, answer, kind, wrong, o.get("gold_from"))
            row = record.to_json_dict()
            if state.spec.gate is not None and state.spec.gate.mode == "flag":
                row["contaminated"] = flagged[j]
            out.records.append(json.dumps(row, ensure_ascii=False))
    return out


def _record(
    state: WorkerState,
    seed: SeedProblem,
    rid: str,
    question: str,
    answer: str,
    kind: str,
    wrong: str | None,
    gold_from: str | None,
) -> InstructRecord | DPORecord:
    """One record. DPO's ``rejected`` is the seed's solution (SOLAR's pairing; for ansaug the same
    question's original solution), except for backward questions, whose seed solution answers another
    question: there it is a sampled solution with a wrong final answer when the build saw one."""
    rejected, rejected_from = seed.solution, None
    if kind in BACKWARD and state.spec.kind == "dpo":
        rejected, rejected_from = (wrong, "wrong_sample") if wrong else (seed.solution, "seed_solution")
    meta = state.meta.model_copy(
        update={
            "created_at": datetime.now(timezone.utc).isoformat(),
            "seed_source": seed.source,
            "question_similarity": question_copies_seed(seed.problem, question).score,
            "answer_similarity": answer_copies_original(answer, seed.solution).score,
            "kind": kind,
            "gold_from": gold_from,
            "rejected_from": rejected_from,
        }
    )
    common: dict[str, Any] = {
        "id": rid,
        "seed_id": seed.id,
        "gold_answer": seed.gold_answer,
        "subject": seed.subject,
        "level": seed.level,
        "meta": meta,
    }
    if state.spec.kind == "instruct":
        return InstructRecord(
            question=question,
            answer=answer,
            messages=[Message(role="user", content=question), Message(role="assistant", content=answer)],
            **common,
        )
    if state.spec.chat:
        return DPORecord(
            prompt=[Message(role="user", content=question)],
            chosen=[Message(role="assistant", content=answer)],
            rejected=[Message(role="assistant", content=rejected)],
            **common,
        )
    return DPORecord(prompt=question, chosen=answer, rejected=rejected, **common)
