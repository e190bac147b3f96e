"""The records synthmath reads and writes: a public contract that training repositories depend on.

Field names here are named in the output format docs (docs/formats.md); change them only with a
version bump and a note there.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

__all__ = [
    "DPORecord",
    "InstructRecord",
    "Message",
    "Meta",
    "Reject",
    "SeedProblem",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_json_dict(self) -> dict[str, Any]:
        """The record as plain JSON types, as written to the JSONL files."""
        return self.model_dump(mode="json")


class SeedProblem(_Model):
    """One seed problem with its original solution and gold answer."""

    id: str
    problem: str
    solution: str
    gold_answer: str
    subject: str | None = None
    level: int | None = None
    source: str = ""


class Message(_Model):
    role: Literal["system", "user", "assistant"]
    content: str


class Meta(_Model):
    """How a record was made: enough to reproduce or audit it."""

    model: str
    prompt_hashes: dict[str, str]
    sampling: dict[str, Any]
    answer_mode: str
    synthmath_version: str
    created_at: str
    seed_source: str = ""
    # copy-check scores (0-100, see docs/verification.md): the question's similarity to its seed
    # problem, the answer's to the original solution; None when not measured
    question_similarity: float | None = None
    answer_similarity: float | None = None
    # the kind of data (docs/recipe.md#beyond-rephrasing): rephrase, ansaug, fobar or sv; records written
    # before the field existed are rephrasings
    kind: str = "rephrase"
    # written only when set: "vote" when the gold answer is the majority answer of sampled solutions
    # (gold="majority"); for fobar/sv DPO tuples, what ``rejected`` is ("wrong_sample": a sampled
    # solution to the same question with a wrong final answer; "seed_solution": the seed's solution)
    gold_from: str | None = None
    rejected_from: str | None = None

    @model_serializer(mode="wrap")
    def _drop_unset_extras(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("gold_from", "rejected_from"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class InstructRecord(_Model):
    """A Synth. Math-Instruct pair: rephrased question, verified rephrased answer."""

    id: str
    seed_id: str
    question: str
    answer: str
    messages: list[Message]
    gold_answer: str
    subject: str | None
    level: int | None
    meta: Meta


class DPORecord(_Model):
    """A Synth. Math-Alignment tuple.

    ``prompt`` is the rephrased question, ``chosen`` the verified rephrased answer, ``rejected`` the
    seed's original solution verbatim. In chat form (``--chat``) each is a list of messages, as TRL's
    conversational preference format expects.
    """

    id: str
    seed_id: str
    prompt: str | list[Message]
    chosen: str | list[Message]
    rejected: str | list[Message]
    gold_answer: str
    subject: str | None
    level: int | None
    meta: Meta


class Reject(_Model):
    """A dropped seed or candidate, with the stage that dropped it and why."""

    seed_id: str
    stage: Literal["seed", "question", "answer", "contamination"]
    reason: str
    detail: str = ""
    question: str | None = None
    text: str | None = None
    extracted_answer: str | None = None
    gold_answer: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
