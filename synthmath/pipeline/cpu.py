"""The CPU-bound stages, as they run inside a worker process.

The event loop only waits: everything here (parsing and checking rephrased questions, the contamination
gate, answer verification with sympy, building and serialising records) runs in worker processes that
:mod:`synthmath.pipeline.pool` feeds in batches. A worker builds its state (prompt steps, the
contamination checker with its benchmark index and embedding model) once, on its first batch.

Jobs come in three kinds, each a plain picklable tuple, and a batch mixes them:

- ``("gate", seed)``: is the seed problem a benchmark item?
- ``("questions", seed, result, flagged)``: parse and check the rephrasings, then gate the kept ones;
- ``("answers", seed, questions, results, flagged)``: verify every answer against the gold answer and
  build the records, serialised as JSON lines.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..engine.base import ChatResult
from ..records import DPORecord, InstructRecord, Message, Meta, Reject, SeedProblem
from ..steps.similarity import answer_copies_original, question_copies_seed

if TYPE_CHECKING:
    from ..contamination.check import CheckResult, ContaminationChecker
    from ..steps import RephraseAnswer, RephraseQuestion

__all__ = [
    "AnswerOutcome",
    "GateOutcome",
    "GateSpec",
    "QuestionOutcome",
    "SolveOutcome",
    "WorkerSpec",
    "run_batch",
]

Kind = Literal["instruct", "dpo"]


@dataclass(frozen=True)
class GateSpec:
    """What a worker needs to build the contamination checker (picklable)."""

    benchmarks: tuple[Any, ...]  # specs (NAME, NAME=PATH) or loaded Benchmarks (no refetch in workers)
    mode: Literal["drop", "flag", "fail"] = "drop"
    embeddings: bool | None = None
    cache_dir: str | None = None
    thresholds: dict[str, Any] = field(default_factory=dict)  # Thresholds fields to override
    drop: tuple[str, ...] = ("same_problem",)  # the levels that count as contaminated
    judge: dict[str, Any] | None = None  # OpenAIServerEngine arguments for the judge, with "cache"


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to run the CPU stages of one build (picklable)."""

    kind: Kind
    meta: dict[str, Any]  # Meta fields but created_at and seed_source
    prompts_dir: str | None = None
    rephrasings: int = 2
    require_numbers: bool = True
    answer_mode: str = "rephrase"
    answer_samples: int = 1
    chat: bool = False
    gate: GateSpec | None = None
    question_copy_threshold: float = 90.0
    duplicate_threshold: float = 90.0
    answer_copy_threshold: float | None = 90.0
    verify_timeout: float | None = 5.0
    solve_check_samples: int = 4
    solve_check_min_agree: int = 1


@dataclass
class GateOutcome:
    contaminated: bool
    check: dict[str, Any]  # the CheckResult row for contamination.jsonl
    detail: str = ""


@dataclass
class QuestionOutcome:
    questions: list[str]
    rejects: list[str]  # JSON lines
    reasons: list[str]
    candidates: int
    checks: list[dict[str, Any]] = field(default_factory=list)  # contamination.jsonl rows
    contaminated: int = 0
    flagged: list[bool] = field(default_factory=list)  # per kept question (flag mode)


@dataclass
class SolveOutcome:
    kept: list[int]  # indexes of the rephrasings whose independent solutions reach the gold answer
    rejects: list[str]
    reasons: list[str]


@dataclass
class AnswerOutcome:
    records: list[str]  # JSON lines
    rejects: list[str]
    reasons: list[str]
    candidates: int


class _State:
    def __init__(self, spec: WorkerSpec) -> None:
        from ..prompts import PromptSet
        from ..steps import RephraseAnswer, RephraseQuestion
        from ..steps.base import Sampling
        from ..steps.solve_check import SolveCheck

        self.spec = spec
        prompts = PromptSet(Path(spec.prompts_dir) if spec.prompts_dir else None)
        sampling = Sampling()  # parsing only: the requests are built in the main process
        self.question_step: RephraseQuestion = RephraseQuestion(
            prompts,
            sampling,
            k=spec.rephrasings,
            require_numbers=spec.require_numbers,
            copy_threshold=spec.question_copy_threshold,
            duplicate_threshold=spec.duplicate_threshold,
        )
        self.answer_step: RephraseAnswer = RephraseAnswer(
            prompts,
            sampling,
            mode=spec.answer_mode,
            samples=spec.answer_samples,
            copy_threshold=spec.answer_copy_threshold,
            timeout=spec.verify_timeout,
        )
        self.solve_check = SolveCheck(
            prompts, sampling, samples=spec.solve_check_samples, min_agree=spec.solve_check_min_agree
        )
        self.meta = Meta(**spec.meta, created_at="")
        self.checker: ContaminationChecker | None = None
        if spec.gate is not None:
            self.checker = _make_checker(spec.gate)

    def gate_info(self) -> dict[str, Any]:
        if self.checker is None:
            return {}
        report = self.checker.report()
        return {k: report[k] for k in ("stages", "benchmarks", "thresholds")}


def _make_checker(gate: GateSpec) -> ContaminationChecker:
    from ..contamination.run import make_checker

    judge = None
    if gate.judge is not None:
        from ..contamination.judge import LLMJudge
        from ..engine.cache import CachedEngine, RequestCache
        from ..engine.openai_server import OpenAIServerEngine

        args = dict(gate.judge)
        cache = args.pop("cache", None)
        engine: Any = OpenAIServerEngine(**args)
        if cache:
            engine = CachedEngine(engine, RequestCache(cache))
        judge = LLMJudge(engine)
    from ..contamination.settings import Thresholds

    return make_checker(
        list(gate.benchmarks),
        embeddings=gate.embeddings,
        judge=judge,
        thresholds=Thresholds(**{**gate.thresholds, "drop": gate.drop}),
        cache_dir=Path(gate.cache_dir) if gate.cache_dir else None,
    )


_state: _State | None = None
_spec: WorkerSpec | None = None


def init_worker(spec: WorkerSpec) -> None:
    """Process-pool initializer: remember the spec; the state is built on the first batch, so that an
    error in it (a benchmark that cannot load) reaches the caller as an exception, not a broken pool."""
    global _spec, _state
    _spec, _state = spec, None
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parent = os.getppid()

    def orphaned() -> None:  # a parent killed with SIGKILL cannot stop its workers: they stop themselves
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=orphaned, name="synthmath-parent-watch", daemon=True).start()


def _get_state() -> _State:
    global _state
    if _state is None:
        assert _spec is not None, "init_worker() was not called"
        _state = _State(_spec)
    return _state


def warm_up() -> dict[str, Any]:
    """Build the worker's state now; returns what the gate is made of (stages, benchmarks, thresholds).
    Holds the worker a moment, so that the pool's other warm-ups go to the other workers."""
    info = _get_state().gate_info()
    time.sleep(0.2)
    return info


def run_batch(jobs: list[tuple[Any, ...]]) -> list[Any]:
    """Run a batch of jobs; each result is an outcome, or the exception that job raised."""
    state = _get_state()
    out: list[Any] = [None] * len(jobs)
    to_gate: list[tuple[int, int, str, str]] = []  # (job, question index or -1, id, text)
    for i, job in enumerate(jobs):
        try:
            if job[0] == "gate":
                seed: SeedProblem = job[1]
                to_gate.append((i, -1, seed.id, seed.problem))
            elif job[0] == "solve":
                out[i] = _solve(state, *job[1:])
            elif job[0] == "questions":
                outcome = _questions(state, job[1], job[2])
                out[i] = outcome
                for qi, q in enumerate(outcome.questions):
                    to_gate.append((i, qi, f"{job[1].id}/q{qi}", q))
            else:
                out[i] = _answers(state, *job[1:])
        except Exception as e:  # one bad job must not sink the batch
            out[i] = e
    if to_gate:
        _gate(state, jobs, out, to_gate)
    return out


def _questions(state: _State, seed: SeedProblem, result: ChatResult) -> QuestionOutcome:
    questions, rejects = state.question_step.parse(seed, result)
    return QuestionOutcome(
        questions=questions,
        rejects=[_line(r) for r in rejects],
        reasons=[r.reason for r in rejects],
        candidates=len(result.choices) or 1,
        flagged=[False] * len(questions),
    )


def _gate(
    state: _State, jobs: list[tuple[Any, ...]], out: list[Any], texts: list[tuple[int, int, str, str]]
) -> None:
    checker = state.checker
    if checker is None:
        for i, qi, _, _ in texts:
            if qi < 0:
                out[i] = GateOutcome(contaminated=False, check={})
        return
    mode = state.spec.gate.mode if state.spec.gate is not None else "drop"
    results = list(checker.check((tid, text) for _, _, tid, text in texts))
    dropped: dict[int, set[int]] = {}
    for (i, qi, _, text), result in zip(texts, results, strict=True):
        if isinstance(out[i], Exception):
            continue
        row = result.to_json_dict()
        if qi < 0:
            out[i] = GateOutcome(result.contaminated, {**row, "kind": "seed"}, _detail(result))
            continue
        outcome: QuestionOutcome = out[i]
        outcome.checks.append({**row, "kind": "question"})
        if not result.contaminated:
            continue
        outcome.contaminated += 1
        if mode == "flag":
            outcome.flagged[qi] = True
            continue
        seed: SeedProblem = jobs[i][1]
        reject = Reject(
            seed_id=seed.id,
            stage="contamination",
            reason="contaminated_question",
            detail=_detail(result),
            question=text,
            extra={"matches": row["matches"]},
        )
        outcome.rejects.append(_line(reject))
        outcome.reasons.append(reject.reason)
        dropped.setdefault(i, set()).add(qi)
    for i, gone in dropped.items():
        o: QuestionOutcome = out[i]
        o.questions = [q for qi, q in enumerate(o.questions) if qi not in gone]
        o.flagged = [f for qi, f in enumerate(o.flagged) if qi not in gone]


def _detail(result: CheckResult) -> str:
    if not result.matches:
        return ""
    m = result.matches[0]
    return f"matches {m.benchmark} item {m.benchmark_id} ({m.method}, score {m.score})"


def _solve(state: _State, seed: SeedProblem, questions: list[str], results: list[ChatResult]) -> SolveOutcome:
    """The solve check's verdict on each rephrasing: the ones whose solutions reach the gold are kept."""
    out = SolveOutcome(kept=[], rejects=[], reasons=[])
    for qi, (question, result) in enumerate(zip(questions, results, strict=True)):
        _, reject = state.solve_check.parse(seed, question, result, timeout=state.spec.verify_timeout)
        if reject is None:
            out.kept.append(qi)
        else:
            out.rejects.append(_line(reject))
            out.reasons.append(reject.reason)
    return out


def _answers(
    state: _State, seed: SeedProblem, questions: list[str], results: list[ChatResult], flagged: list[bool]
) -> AnswerOutcome:
    out = AnswerOutcome(records=[], rejects=[], reasons=[], candidates=0)
    for qi, (question, res) in enumerate(zip(questions, results, strict=True)):
        answers, rejects = state.answer_step.parse(seed, question, res)
        out.candidates += len(res.choices) or 1
        out.rejects += [_line(r) for r in rejects]
        out.reasons += [r.reason for r in rejects]
        for ai, answer in enumerate(answers):
            record = _record(state, seed, f"{seed.id}/q{qi}/a{ai}", question, answer)
            row = record.to_json_dict()
            if state.spec.gate is not None and state.spec.gate.mode == "flag":
                row["contaminated"] = flagged[qi]
            out.records.append(json.dumps(row, ensure_ascii=False))
    return out


def _line(model: Reject) -> str:
    return json.dumps(model.to_json_dict(), ensure_ascii=False)


def _record(
    state: _State, seed: SeedProblem, rid: str, question: str, answer: str
) -> InstructRecord | DPORecord:
    meta = state.meta.model_copy(
        update={
            "created_at": datetime.now(timezone.utc).isoformat(),
            "seed_source": seed.source,
            "question_similarity": question_copies_seed(seed.problem, question).score,
            "answer_similarity": answer_copies_original(answer, seed.solution).score,
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
            rejected=[Message(role="assistant", content=seed.solution)],
            **common,
        )
    return DPORecord(prompt=question, chosen=answer, rejected=seed.solution, **common)


def question_timeout(seed: SeedProblem) -> QuestionOutcome:
    """The outcome of question checks that overran their time budget."""
    r = Reject(seed_id=seed.id, stage="question", reason="check_timeout", detail="question checks overran")
    return QuestionOutcome(questions=[], rejects=[_line(r)], reasons=[r.reason], candidates=1)


def answer_timeout(seed: SeedProblem, questions: list[str], seconds: float) -> AnswerOutcome:
    """The outcome of a verification that overran its time budget: every answer a ``verify_timeout``."""
    rejects = [
        Reject(
            seed_id=seed.id,
            stage="answer",
            reason="verify_timeout",
            detail=f"verification overran {seconds}s per answer",
            question=q,
            gold_answer=seed.gold_answer,
        )
        for q in questions
    ]
    return AnswerOutcome(
        records=[],
        rejects=[_line(r) for r in rejects],
        reasons=[r.reason for r in rejects],
        candidates=len(rejects),
    )
