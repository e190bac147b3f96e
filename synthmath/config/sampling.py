"""How the model samples: run-wide settings, each step's own, vLLM's extras and the system prompt."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["NESTED", "SamplingConfig", "StepSampling"]

NESTED = ("question_sampling", "answer_sampling")  # blocks a flag or keyword sets one key of


class StepSampling(BaseModel):
    """One step's sampling settings; a field left unset takes the run-wide value (``temperature``, ...)."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)


class SamplingConfig(BaseModel):
    """Sampling parameters, recorded in every record's meta."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(1024, ge=1)
    top_k: int | None = Field(None, description="vLLM sampling extra")
    min_p: float | None = Field(None, ge=0.0, le=1.0, description="vLLM sampling extra")
    repetition_penalty: float | None = Field(None, gt=0.0, description="vLLM sampling extra")
    question_sampling: StepSampling = Field(
        StepSampling(temperature=None, top_p=None, max_tokens=None),
        description="the question step's own sampling settings",
    )
    answer_sampling: StepSampling = Field(
        StepSampling(temperature=None, top_p=None, max_tokens=None),
        description="the answer step's own sampling settings",
    )
    system_prompt: str | None = Field(
        None, description="a system message for the question and answer steps, instead of the prompt files'"
    )

    def vllm_extras(self) -> dict[str, Any]:
        """vLLM's sampling parameters beyond the OpenAI API, sent in ``extra_body`` when set."""
        extras = {"top_k": self.top_k, "min_p": self.min_p, "repetition_penalty": self.repetition_penalty}
        return {k: v for k, v in extras.items() if v is not None}
