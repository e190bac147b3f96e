"""What a build generates: the prompts, how many rephrasings, which kinds of data (rephrase, ansaug,
fobar, sv), answers sampled in rounds, and gold answers voted for seeds without one
(docs/recipe.md#beyond-rephrasing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["AugmentKind", "GenerationConfig"]

AugmentKind = Literal["rephrase", "ansaug", "fobar", "sv"]


class GenerationConfig(BaseModel):
    """The steps' prompts and counts, the kinds of questions a build makes, rounds and voting."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    prompts_dir: Path | None = None
    rephrasings: int = Field(2, ge=1, le=64)
    answer_mode: Literal["rephrase", "solve"] = "rephrase"
    answer_samples: int = Field(1, ge=1, le=64)
    augment: list[AugmentKind] = Field(
        default_factory=lambda: list[AugmentKind](["rephrase"]),
        description="kinds of data: rephrase, ansaug (new answers to the original question), fobar, sv",
    )
    backward_questions: int = Field(
        1, ge=1, le=16, description="fobar and sv questions per seed, each masking another number"
    )
    min_correct: int | None = Field(
        None, ge=1, description="sample answers in rounds until this many are verified per question"
    )
    max_tries: int = Field(16, ge=1, description="with min_correct: answers sampled per question at most")
    gold: Literal["seed", "majority"] = Field(
        "seed", description="majority: a seed without a gold answer gets the answer most solutions reach"
    )
    gold_samples: int = Field(8, ge=2, le=64, description="with gold majority: solutions sampled per seed")
    min_agreement: float = Field(
        0.5, gt=0.0, le=1.0, description="with gold majority: the share of solutions that must agree"
    )

    @field_validator("augment", mode="before")
    @classmethod
    def _augment_words(cls, v: Any) -> Any:  # "rephrase,fobar", or a list of such (a repeated --augment)
        if isinstance(v, str):
            v = [v]
        if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
            v = [k.strip() for x in v for k in x.split(",") if k.strip()]
            known = get_args(AugmentKind)
            for k in v:
                if k not in known:
                    raise ValueError(f"{k!r} is not a kind of data - use {', '.join(known)}")
        return v

    @field_validator("augment")
    @classmethod
    def _augment(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("give at least one kind: rephrase, ansaug, fobar or sv")
        return list(dict.fromkeys(v))  # each kind once, in the order given
