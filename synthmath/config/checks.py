"""How generated questions and answers are checked before they are kept (docs/verification.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ChecksConfig"]


class ChecksConfig(BaseModel):
    """The question checks (numbers, formulas, conditions, copies, duplicates, the solve check) and the
    answer check's copy rule."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    require_numbers: bool = Field(
        True, description="reject rephrasings that drop a number of the original or write a new one"
    )
    question_copy_threshold: float = Field(
        95.0, ge=0, le=100, description="reject a rephrasing this similar to its seed (rapidfuzz, 0-100)"
    )
    duplicate_threshold: float = Field(
        90.0, ge=0, le=100, description="reject a rephrasing this similar to an earlier one of its seed"
    )
    answer_copy_threshold: float | None = Field(
        95.0, ge=0, le=100, description="reject an answer this similar to the original solution (None: off)"
    )
    check_math: bool = Field(
        True, description="reject rephrasings that lose a formula of the original (compared as math)"
    )
    check_conditions: bool = Field(
        True, description="reject rephrasings that drop a condition of the original (integer, distinct, ...)"
    )
    check_questions: Literal["none", "solve"] = Field(
        "none", description="solve: keep a rephrasing only if independent solutions reach the gold answer"
    )
    solve_check_samples: int = Field(
        4, ge=1, le=64, description="solutions per rephrasing for the solve check"
    )
    solve_check_min_agree: int = Field(1, ge=1, description="solutions that must reach the gold answer")
