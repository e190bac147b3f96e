"""Backward questions (MetaMath's FOBAR and SV): the masks, the questions, and the model's parts.

- **FOBAR**: the problem with one number masked as a variable, then "If we know the answer to the
  above question is ANS, what is the value of the unknown variable x?". Made by code.
- **SV**: the masked problem and its answer rewritten by the model as one declarative statement
  (``prompts/sv_statement.yaml``), then "What is the value of the unknown variable x?".

The masks come from code (:func:`~synthmath.steps.masking.code_masks`) where it finds a number to mask,
else from the model (``prompts/mask_number.yaml``). The masked number is each question's gold answer.
A reply that cannot be used becomes a question-stage reject with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..engine.base import ChatRequest, ChatResult
from ..mathtext import normalize_number, numbers_in
from ..prompts import PromptSet
from ..records import Reject, SeedProblem
from .base import Sampling, make_request
from .masking import Mask, fobar_question, pick_variable, stated_answer, sv_question, uses_variable
from .verify import added_numbers, missing_numbers

__all__ = ["BackwardQuestions", "BackwardSet"]

_NUMBER_LINE = re.compile(r"^\s*\**number\**\s*:\s*\$?\s*(-?[\d.,]+)\s*\$?\s*$", re.I | re.M)
_PROBLEM_LINE = re.compile(r"^\s*\**problem\**\s*:\s*(.+)", re.I | re.M | re.S)
_STATEMENT = re.compile(r"^\s*\**statement\**\s*:\s*", re.I)


@dataclass
class BackwardSet:
    """One kind's backward questions for a seed: the kept ones with their golds (the masked numbers),
    and a reject for each candidate that could not be used."""

    questions: list[str]
    golds: list[str]
    rejects: list[Reject]
    candidates: int


class BackwardQuestions:
    """The requests and parsing of the model's parts; the question texts themselves."""

    stage: Literal["question"] = "question"

    def __init__(self, prompts: PromptSet, sampling: Sampling, *, k: int, kinds: Sequence[str]) -> None:
        self.mask_template = prompts["mask_number"]
        self.sv_template = prompts["sv_statement"] if "sv" in kinds else None
        self.sampling = sampling
        self.k = k

    def templates(self) -> list[object]:
        return [t for t in (self.mask_template, self.sv_template) if t is not None]

    def mask_request(self, seed: SeedProblem) -> ChatRequest:
        """``k`` masks of ``seed`` by the model (when code found no number to mask)."""
        return make_request(
            self.mask_template,
            self.sampling,
            seed_id=seed.id,
            index=0,
            n=self.k,
            problem=seed.problem,
            solution=seed.solution,
            variable=pick_variable(seed.problem),
        )

    def parse_masks(self, seed: SeedProblem, result: ChatResult) -> tuple[list[Mask], list[Reject]]:
        """The model's usable masks (distinct numbers), and a reject for each other reply."""
        if result.error is not None:
            return [], [self._reject(seed, "request_error", f"mask request: {result.error}")]
        masks: list[Mask] = []
        rejects: list[Reject] = []
        stated = numbers_in(seed.problem)
        for i, choice in enumerate(result.choices):
            why, mask = self._one_mask(seed, choice.text, choice.finish_reason, stated)
            if mask is not None and any(m.value == mask.value for m in masks):
                why = ("duplicate_mask", f"number {mask.value} was masked by an earlier reply")
            if why is None and mask is not None:
                masks.append(mask)
            else:
                assert why is not None
                rejects.append(self._reject(seed, *why, text=choice.text, extra={"sample": i}))
        return masks, rejects

    def _one_mask(
        self, seed: SeedProblem, text: str, finish: str | None, stated: set[str]
    ) -> tuple[tuple[str, str] | None, Mask | None]:
        if finish == "length":
            return ("truncated", "the reply hit max_tokens before it ended"), None
        number, problem = _NUMBER_LINE.search(text), _PROBLEM_LINE.search(text)
        if number is None or problem is None or not problem.group(1).strip():
            return ("unparsable_mask", "the reply has no 'Number:' line and 'Problem:' text"), None
        value = normalize_number(number.group(1).replace(",", "").lstrip("-"))
        masked = problem.group(1).strip()
        if value not in stated:
            return ("mask_not_in_problem", f"number {value} is not written in the problem"), None
        if value in numbers_in(masked):
            return ("mask_leaks_number", f"the masked problem still states {value}"), None
        variable = pick_variable(seed.problem)
        if not uses_variable(masked, variable):
            return ("variable_missing", f"the masked problem does not contain the variable {variable}"), None
        changed = missing_numbers(seed.problem, masked)
        if [n for n in changed if n != value]:
            return ("missing_numbers", f"drops number(s) of the original: {', '.join(changed[:10])}"), None
        if added_numbers(seed.problem, masked):
            return ("added_numbers", "the masked problem writes numbers the original does not have"), None
        return None, Mask(value, variable, masked, made_by="model")

    def fobar(self, seed: SeedProblem, masks: list[Mask]) -> BackwardSet:
        """FOBAR questions, one per mask (made by code: nothing to reject)."""
        questions = [fobar_question(m, seed.gold_answer) for m in masks]
        return BackwardSet(questions, [m.value for m in masks], [], len(masks))

    def statement_request(self, seed: SeedProblem, mask: Mask, index: int) -> ChatRequest:
        """The SV statement of one mask."""
        assert self.sv_template is not None
        return make_request(
            self.sv_template,
            self.sampling,
            seed_id=seed.id,
            index=index,
            n=1,
            question=mask.text,
            answer=stated_answer(seed.gold_answer),
            variable=mask.variable,
        )

    def sv(self, seed: SeedProblem, masks: list[Mask], results: list[ChatResult]) -> BackwardSet:
        """SV questions from the model's statements, checked: complete, the variable and the answer
        stated, every number of the masked problem kept and none added (the masked one least of all)."""
        out = BackwardSet([], [], [], 0)
        for mask, result in zip(masks, results, strict=True):
            out.candidates += max(len(result.choices), 1)
            if result.error is not None:
                out.rejects.append(self._reject(seed, "request_error", f"statement request: {result.error}"))
                continue
            for i, choice in enumerate(result.choices):
                statement = _STATEMENT.sub("", choice.text.strip(), count=1).strip()
                why = self._check_statement(seed, mask, statement, choice.finish_reason)
                if why is None:
                    out.questions.append(sv_question(statement, mask.variable))
                    out.golds.append(mask.value)
                else:
                    extra = {"sample": i, "masked_number": mask.value}
                    out.rejects.append(self._reject(seed, *why, text=choice.text, extra=extra))
        return out

    def _check_statement(
        self, seed: SeedProblem, mask: Mask, statement: str, finish: str | None
    ) -> tuple[str, str] | None:
        if finish == "length":
            return "truncated", "the reply hit max_tokens before it ended"
        if not statement:
            return "empty", "the reply was empty"
        if not uses_variable(statement, mask.variable):
            return "variable_missing", f"the statement does not contain the variable {mask.variable}"
        answer = numbers_in(seed.gold_answer, words=False)
        if answer and not answer <= numbers_in(statement, hints=True):
            return "answer_missing", f"the statement does not state the answer {seed.gold_answer!r}"
        missing = missing_numbers(mask.text, statement)
        if missing:
            return "missing_numbers", f"drops number(s) of the masked problem: {', '.join(missing[:10])}"
        added = added_numbers(f"{mask.text} {seed.gold_answer}", statement)
        if added:
            return "added_numbers", f"writes number(s) the problem and answer do not have: {', '.join(added)}"
        return None

    def _reject(
        self,
        seed: SeedProblem,
        reason: str,
        detail: str,
        *,
        text: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Reject:
        return Reject(
            seed_id=seed.id, stage=self.stage, reason=reason, detail=detail, text=text, extra=extra or {}
        )
