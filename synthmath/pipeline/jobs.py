"""What crosses between the event loop and the CPU workers: the picklable specs a worker builds its state
from, the outcome of each job kind, and the outcomes of jobs that overran their time budget."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .._version import __version__
from ..engine.base import ChatRequest
from ..records import Reject, SeedProblem

if TYPE_CHECKING:
    from ..config import BuildConfig

__all__ = [
    "AnswerOutcome",
    "GateOutcome",
    "GateSpec",
    "Kind",
    "QuestionOutcome",
    "SolveOutcome",
    "WorkerSpec",
    "answer_timeout",
    "contaminated_seed",
    "fits_context",
    "prompt_too_long",
    "question_timeout",
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
    key: str = ""  # names the checker the workers build ahead of the build's state (pool.prepare_workers)


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
    question_copy_threshold: float = 95.0
    duplicate_threshold: float = 90.0
    answer_copy_threshold: float | None = 95.0
    check_math: bool = True
    check_conditions: bool = True
    verify_timeout: float | None = 5.0
    solve_check_samples: int = 4
    solve_check_min_agree: int = 1
    augment: tuple[str, ...] = ("rephrase",)
    backward_questions: int = 1
    gold_samples: int = 8
    min_agreement: float = 0.5

    @classmethod
    def from_config(
        cls, c: BuildConfig, kind: Kind, model: str, prompt_hashes: dict[str, str], gate: GateSpec | None
    ) -> WorkerSpec:
        """The spec of a build with config ``c`` on ``model``."""
        meta = {
            "model": model,
            "prompt_hashes": prompt_hashes,
            "sampling": c.sampling(),
            "answer_mode": c.answer_mode,
            "synthmath_version": __version__,
        }
        return cls(
            kind=kind,
            meta=meta,
            prompts_dir=str(c.prompts_dir) if c.prompts_dir else None,
            rephrasings=c.rephrasings,
            require_numbers=c.require_numbers,
            answer_mode=c.answer_mode,
            answer_samples=c.answer_samples,
            chat=c.chat,
            gate=gate,
            question_copy_threshold=c.question_copy_threshold,
            duplicate_threshold=c.duplicate_threshold,
            answer_copy_threshold=c.answer_copy_threshold,
            check_math=c.check_math,
            check_conditions=c.check_conditions,
            verify_timeout=c.verify_timeout,
            solve_check_samples=c.solve_check_samples,
            solve_check_min_agree=c.solve_check_min_agree,
            augment=tuple(c.augment),
            backward_questions=c.backward_questions,
            gold_samples=c.gold_samples,
            min_agreement=c.min_agreement,
        )


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
    golds: list[str] = field(default_factory=list)  # per kept question; empty: the seed's gold answer

    def keep(self, indexes: list[int]) -> None:
        """Keep only the questions at ``indexes`` (with their flags and golds)."""
        self.questions = [self.questions[i] for i in indexes]
        self.flagged = [self.flagged[i] for i in indexes]
        if self.golds:
            self.golds = [self.golds[i] for i in indexes]


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
    kept: list[list[str]] = field(default_factory=list)  # per question: its verified answers' texts
    wrong: list[str | None] = field(default_factory=list)  # per question: a wrong-answer solution seen

    def add(self, other: AnswerOutcome) -> None:
        """Another round's outcome after this one's."""
        self.records += other.records
        self.rejects += other.rejects
        self.reasons += other.reasons
        self.candidates += other.candidates


def _line(model: Reject) -> str:
    return json.dumps(model.to_json_dict(), ensure_ascii=False)


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


def fits_context(request: ChatRequest, context: int | None) -> bool:
    """Whether a request can fit the model's context: a low estimate of its tokens (4 characters a
    token) plus its reply must fit; the server's own check catches the rest (a 400)."""
    if context is None:
        return True
    return sum(len(m["content"]) for m in request.messages) // 4 + request.max_tokens <= context


def prompt_too_long(seed: SeedProblem, request: ChatRequest, context: int | None) -> Reject:
    chars = sum(len(m["content"]) for m in request.messages)
    return Reject(
        seed_id=seed.id,
        stage="seed",
        reason="prompt_too_long",
        detail=f"about {chars // 4} prompt tokens + {request.max_tokens} for the reply exceed the "
        f"model's context of {context} tokens; nothing was sent",
        text=seed.problem[:2000],
    )


def contaminated_seed(seed: SeedProblem, gate: GateOutcome) -> Reject:
    return Reject(
        seed_id=seed.id,
        stage="contamination",
        reason="contaminated_seed",
        detail=f"seed problem {gate.detail}; no request was sent for it",
        text=seed.problem,
        gold_answer=seed.gold_answer,
        extra={"matches": gate.check.get("matches", [])},
    )
