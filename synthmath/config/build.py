"""The build's config: one validated object made of the parts in this package.

Each part is a model of its own (seeds, output, execution, generation, checks, gate, sampling,
engine); :class:`BuildConfig` is all of them at once, so every field keeps its flat name, which is
the CLI flag's name and the config file's key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, ValidationError, model_validator

from ..errors import ConfigError
from ..steps.base import Sampling
from .checks import ChecksConfig
from .engine import EngineConfig
from .execution import ExecutionConfig
from .gate import GateConfig
from .generation import GenerationConfig
from .io import check_combinations, first_error, read_config_file
from .output import OutputConfig
from .sampling import NESTED, SamplingConfig
from .seeds import SeedsConfig

__all__ = ["PARTS", "BuildConfig"]


class BuildConfig(  # (bases last to first: pydantic lists the fields of the last base first)
    EngineConfig,
    SamplingConfig,
    GateConfig,
    ChecksConfig,
    GenerationConfig,
    ExecutionConfig,
    OutputConfig,
    SeedsConfig,
):
    """Everything a build-instruct / build-dpo run needs. Field names are the CLI flags' names."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @model_validator(mode="after")
    def _combinations(self) -> BuildConfig:
        check_combinations(self)
        return self

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: Any) -> BuildConfig:
        """Defaults, then ``config_file`` (YAML or JSON), then ``overrides`` whose value is not None."""
        data: dict[str, Any] = {}
        if config_file is not None:
            data.update(read_config_file(Path(config_file)))
        for key, value in overrides.items():
            if value is None:
                continue
            if key in NESTED and isinstance(value, dict) and isinstance(data.get(key), dict):
                # one --question-temperature changes that setting, not the file's whole block
                value = {**data[key], **value}
            data[key] = value
        unknown = sorted(set(data) - set(cls.model_fields))
        if unknown:
            raise ConfigError(
                f"unknown config key(s) {', '.join(unknown)} - valid keys: {', '.join(cls.model_fields)}"
            )
        try:
            return cls(**data)
        except ValidationError as e:
            raise ConfigError(first_error(e)) from e

    def seed_options(self) -> dict[str, Any]:
        """The selection of seeds: the keyword arguments of ``iter_seed_stream`` besides the source."""
        return {
            "split": self.split,
            "subjects": self.subjects,
            "levels": self.levels,
            "limit": self.limit,
            "sample": self.sample,
            "seed": self.seed,
            "shard": self.shard_tuple(),
            "positions": (self.task.start, self.task.stop) if self.task is not None else None,
            **({"need_gold": False} if self.gold == "majority" else {}),
        }

    def step_sampling(self, step: Literal["question", "answer"]) -> Sampling:
        """The sampling settings of one step: its own where set, the run-wide ones otherwise."""
        own = self.question_sampling if step == "question" else self.answer_sampling
        return Sampling(
            temperature=self.temperature if own.temperature is None else own.temperature,
            top_p=self.top_p if own.top_p is None else own.top_p,
            max_tokens=self.max_tokens if own.max_tokens is None else own.max_tokens,
            run_seed=self.seed,
            extra_body=self.vllm_extras(),
            system_prompt=self.system_prompt,
        )

    def sampling(self) -> dict[str, Any]:
        """The sampling parameters recorded in every record's meta."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            **self.vllm_extras(),
            **({"system_prompt": self.system_prompt} if self.system_prompt is not None else {}),
            **{
                f"{step}_{k}": v
                for step, own in (("question", self.question_sampling), ("answer", self.answer_sampling))
                for k, v in own.model_dump(exclude_none=True).items()
            },
        }

    def public_dict(self) -> dict[str, Any]:
        """The config as JSON types, with the API key hidden (for summary.json)."""
        d = self.model_dump(mode="json")
        if d.get("api_key") not in (None, "", "EMPTY"):
            d["api_key"] = "***"
        return d


PARTS: dict[str, type] = {
    "seeds": SeedsConfig,
    "output": OutputConfig,
    "execution": ExecutionConfig,
    "generation": GenerationConfig,
    "checks": ChecksConfig,
    "gate": GateConfig,
    "sampling": SamplingConfig,
    "engine": EngineConfig,
}
"""The parts of the config by name, in the order the docs and ``--help`` list them."""
