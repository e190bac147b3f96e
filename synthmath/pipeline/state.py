"""A worker process's state for one build: the prompt steps that parse and check replies, the answer
steps, the kinds beyond rephrasing, and the gate's checker (built once per gate and kept across builds).
The jobs of :mod:`.cpu`, :mod:`.answers_job` and :mod:`.cpu_augment` run against it."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..records import Meta
from .jobs import GateSpec, WorkerSpec

if TYPE_CHECKING:
    from ..contamination.check import ContaminationChecker
    from ..steps import RephraseAnswer, RephraseQuestion

__all__ = ["KEEP_STATES", "WorkerState", "checkers", "gate_checker"]

KEEP_STATES = 2  # builds whose state a worker keeps (two builds at once in one process)


class WorkerState:
    """What a worker keeps for one build (see the module's docstring)."""

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
            check_math=spec.check_math,
            check_conditions=spec.check_conditions,
            copy_threshold=spec.question_copy_threshold,
            duplicate_threshold=spec.duplicate_threshold,
        )

        def answer_step(mode: str) -> RephraseAnswer:  # the answer step, and the same step solving afresh
            return RephraseAnswer(
                prompts,
                sampling,
                mode=mode,
                samples=spec.answer_samples,
                copy_threshold=spec.answer_copy_threshold,
                timeout=spec.verify_timeout,
            )

        self.answer_step = answer_step(spec.answer_mode)
        self.solve_check = SolveCheck(
            prompts, sampling, samples=spec.solve_check_samples, min_agree=spec.solve_check_min_agree
        )
        self.meta = Meta(**spec.meta, created_at="")
        # the kinds beyond rephrasing: answers solved afresh, backward questions, voted gold answers
        from ..steps.backward import BackwardQuestions
        from ..steps.vote import MajorityVote

        self.solve_step = answer_step("solve")
        kinds = list(spec.augment)
        backward = {"fobar", "sv"} & set(kinds)
        self.backward = (
            BackwardQuestions(prompts, sampling, k=spec.backward_questions, kinds=kinds) if backward else None
        )
        self.vote = MajorityVote(
            prompts, sampling, samples=spec.gold_samples, min_agreement=spec.min_agreement
        )
        self.checker: ContaminationChecker | None = None
        if spec.gate is not None:
            self.checker = gate_checker(spec.gate)

    def gate_info(self) -> dict[str, Any]:
        if self.checker is None:
            return {}
        report = self.checker.report()
        # no timings: a build's summary must be the same whichever executor ran it
        keys = (
            "stages",
            "benchmarks",
            "thresholds",
            "embedding_thresholds",
            "problem_thresholds",
        )
        return {k: report[k] for k in keys}


checkers: OrderedDict[str, ContaminationChecker] = OrderedDict()  # by gate key, the most recent last


def gate_checker(gate: GateSpec) -> ContaminationChecker:
    """The gate's checker: the one :func:`prepare_gate` built ahead, else a new one."""
    checker = checkers.get(gate.key) if gate.key else None
    if checker is None:
        checker = _make_checker(gate)
        if gate.key:
            checkers[gate.key] = checker
            while len(checkers) > KEEP_STATES:
                checkers.popitem(last=False)
    return checker


def _make_checker(gate: GateSpec) -> ContaminationChecker:
    from ..contamination.run import make_checker

    judge = None
    if gate.judge is not None:
        from ..contamination.judge import LLMJudge
        from ..engine.factory import server_engine
        from ..prompts import PromptSet

        args = dict(gate.judge)
        prompts = PromptSet(args.pop("prompts_dir", None))  # the run's prompts, as checked at its start
        judge = LLMJudge(server_engine(args.pop("base_urls"), **args), prompts)
    from ..contamination.settings import Thresholds

    return make_checker(
        list(gate.benchmarks),
        embeddings=gate.embeddings,
        judge=judge,
        thresholds=Thresholds(**{**gate.thresholds, "drop": gate.drop}),
        cache_dir=Path(gate.cache_dir) if gate.cache_dir else None,
    )
