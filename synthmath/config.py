"""One validated config object per command.

CLI flags, config files (``--config run.yaml``) and library keyword arguments all map one to one onto
the fields of :class:`BuildConfig`. Precedence: library/CLI values over the file over the defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config_io import (
    check_combinations,
    first_error,
    key_values,
    known_thresholds,
    read_config_file,
    shard_spec,
    shell_words,
)
from .contamination.benchmarks import DEFAULT_BENCHMARKS, check_benchmark_specs
from .engine.base import LocalBackend
from .errors import ConfigError, opt
from .location import Location, check_uri
from .steps.base import Sampling

__all__ = ["DEFAULT_BASE_URL", "LOCAL_CONCURRENCY", "BuildConfig", "StepSampling", "TaskSlice"]

DEFAULT_BASE_URL = "http://localhost:8000/v1"
# llama.cpp's server answers one request at a time: more in flight only queue there and time out
LOCAL_CONCURRENCY = 2


def _env_base_url() -> str:
    return os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL


def _env_api_key() -> str:
    return os.environ.get("OPENAI_API_KEY") or "EMPTY"


Level = Literal["same_problem", "same_template"]
AugmentKind = Literal["rephrase", "ansaug", "fobar", "sv"]

_NESTED = ("question_sampling", "answer_sampling")  # blocks a flag or keyword sets one key of


class StepSampling(BaseModel):
    """One step's sampling settings; a field left unset takes the run-wide value (``temperature``, ...)."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)


class TaskSlice(BaseModel):
    """One shard task of a build: task ``index`` of ``count``, over positions ``[start, stop)`` of the
    selected seed stream (rows that cannot be seeds count as positions too)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0)
    count: int = Field(ge=1)
    start: int = Field(ge=0)
    stop: int = Field(ge=0)


class BuildConfig(BaseModel):
    """Everything a build-instruct / build-dpo run needs. Field names are the CLI flags' names."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # seeds
    seeds: str | None = Field(
        None, description="Hub dataset id, MATH directory, or .jsonl/.json/.parquet file"
    )
    split: str = "train"
    subjects: list[str] | None = None
    levels: list[int] | None = None
    limit: int | None = Field(None, ge=0)
    sample: int | None = Field(None, ge=1)
    seed: int = 0

    # output
    out: str | None = Field(
        None, description="output folder, local or a URI that fsspec knows (s3://bucket/run, gs://...)"
    )
    chat: bool = Field(False, description="DPO only: write TRL's conversational form")

    # resume and scale-out
    cache: Path | None = Field(None, description="request cache file [default: OUT/cache/requests.sqlite]")
    use_cache: bool = Field(True, description="reuse responses already received (resume after a crash)")
    shard: str | None = Field(None, description="I/N: this run's share of the seeds, for N machines")
    executor: Literal["local", "ray"] = Field(
        "local", description="local: this machine; ray: shard tasks on a Ray cluster (synthmath[ray])"
    )
    tasks: int | None = Field(
        None,
        ge=1,
        description="shard tasks to cut the seeds into [default: 1 locally; on Ray, from the seeds and CPUs]",
    )
    ray_address: str | None = Field(
        None, description="Ray cluster to join [default: $RAY_ADDRESS, else a local Ray for the run]"
    )
    task: TaskSlice | None = Field(
        None, description="set by the executors: this run is one shard task of a build"
    )

    # steps
    prompts_dir: Path | None = None
    rephrasings: int = Field(2, ge=1, le=64)
    answer_mode: Literal["rephrase", "solve"] = "rephrase"
    answer_samples: int = Field(1, ge=1, le=64)
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

    # beyond rephrasing (docs/recipe.md#beyond-rephrasing): the kinds of questions a build makes,
    # answers sampled in rounds until enough are verified, and gold answers voted for seeds without one
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

    # contamination gate (run at the end of a build written to a directory)
    contamination: bool = Field(True, description="check seeds and generated questions against benchmarks")
    benchmarks: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BENCHMARKS),
        description="benchmark names (loaded from the Hub) or NAME=PATH for local files",
    )
    on_contamination: Literal["drop", "flag", "fail"] = "drop"
    contamination_drop: list[Level] = Field(
        ["same_problem"],  # copied for each config, as pydantic does with mutable defaults
        description="the match levels that count as contaminated (same_template: shared wording, other math)",
    )
    contamination_thresholds: dict[str, float] = Field(
        default_factory=dict, description="the gate's thresholds to override, e.g. {nearest_cosine: 0.75}"
    )
    embeddings: bool | None = Field(
        None, description="embedding stage: on, off, or None for on when synthmath[embed] is installed"
    )
    judge: bool = Field(False, description="ask the run's model whether top candidates are the same problem")
    contamination_cache: Path | None = Field(
        None, description="benchmark index cache [default: ~/.cache/synthmath/contamination]"
    )

    # backend, server and sampling
    backend: Literal["openai", "vllm"] = Field(
        "openai", description="openai: OpenAI-compatible servers; vllm: vllm.LLM in this process"
    )
    vllm_args: dict[str, Any] = Field(default_factory=dict, description="vllm.LLM keyword arguments")
    base_url: list[str] = Field(default_factory=lambda: [_env_base_url()])
    api_key: str = Field(default_factory=_env_api_key)
    model: str | None = None
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(1024, ge=1)
    top_k: int | None = Field(None, description="vLLM sampling extra")
    min_p: float | None = Field(None, ge=0.0, le=1.0, description="vLLM sampling extra")
    repetition_penalty: float | None = Field(None, gt=0.0, description="vLLM sampling extra")
    concurrency: int = Field(
        256,
        ge=1,
        description="requests in flight, whole run [default: 256; 8 with local, 2 with its llama.cpp]",
    )
    max_retries: int = Field(5, ge=0)
    timeout: float = Field(600.0, gt=0)
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
    max_prompt_tokens: int | None = Field(
        None, ge=1, description="context length when the server does not say it (vLLM: max_model_len)"
    )

    # CPU work and failure rules
    workers: int | None = Field(
        None, ge=1, description="worker processes for the CPU stages [default: cores - 1]"
    )
    verify_timeout: float = Field(5.0, gt=0, description="seconds per answer before verify_timeout")
    max_failed_seeds: int = Field(
        10, ge=1, description="stop the build when every request of this many seeds in a row failed"
    )
    max_failed_fraction: float = Field(
        0.5, ge=0.0, le=1.0, description="stop the build when more than this share of requests failed"
    )

    # a server that synthmath starts for the run and stops after it (engine/managed.py)
    local: bool = Field(
        False, description="run SmolLM2-135M (or the GGUF file or checkpoint folder `model`) on the CPU"
    )
    local_backend: LocalBackend = Field(
        "transformers", description="with local: transformers (in process), llama.cpp (a server) or vllm"
    )
    serve: str | None = Field(None, description="start `vllm serve MODEL` for the run")
    serve_args: list[str] = Field(default_factory=list, description="more arguments for the managed server")
    serve_timeout: float | None = Field(
        None, gt=0, description="seconds to wait for the managed server [default: 120 local, 1800 vLLM]"
    )

    @field_validator("base_url", "benchmarks", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("subjects", "levels", "contamination_drop", mode="before")
    @classmethod
    def _split_commas(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [s.strip() for s in v.split(",") if s.strip()]
        return [v] if isinstance(v, int) else v

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

    @field_validator("base_url")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("give at least one URL")
        for url in v:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL, e.g. {DEFAULT_BASE_URL}")
        return [u.rstrip("/") for u in v]

    @field_validator("vllm_args", mode="before")
    @classmethod
    def _key_values(cls, v: Any) -> Any:
        return key_values(v, "tensor_parallel_size=2")  # from repeated --vllm-arg

    @field_validator("serve_args", mode="before")
    @classmethod
    def _shell_words(cls, v: Any) -> Any:
        return shell_words(v)  # one --serve-arg may hold several words: --serve-arg "--max-model-len 8192"

    @model_validator(mode="before")
    @classmethod
    def _local_concurrency(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("local") and data.get("concurrency") is None:
            # llama.cpp's server answers one request at a time; the in-process engines batch 16 rows
            llama = data.get("local_backend") == "llama.cpp"
            data = {**data, "concurrency": LOCAL_CONCURRENCY if llama else 8}
        return data

    @model_validator(mode="after")
    def _combinations(self) -> BuildConfig:
        check_combinations(self)
        return self

    @field_validator("shard")
    @classmethod
    def _shard(cls, v: str | None) -> str | None:
        return None if v is None else shard_spec(v)

    def shard_tuple(self) -> tuple[int, int] | None:
        if self.shard is None:
            return None
        i, n = self.shard.split("/")
        return int(i), int(n)

    @field_validator("out", mode="before")
    @classmethod
    def _out(cls, v: Any) -> Any:
        return None if v is None else check_uri(os.fspath(v))

    def cache_path(self) -> Path | None:
        """Where the request cache lives, or None when caching is off (for a remote ``out``: in its
        local staging folder, copied up as the build goes)."""
        if not self.use_cache:
            return None
        if self.cache is not None:
            return self.cache
        return Location(self.out).staging() / "cache" / "requests.sqlite" if self.out is not None else None

    @field_validator("contamination_thresholds", mode="before")
    @classmethod
    def _threshold_pairs(cls, v: Any) -> Any:
        return known_thresholds(key_values(v, "nearest_cosine=0.75"))  # from repeated --threshold

    @field_validator("benchmarks")
    @classmethod
    def _benchmark_specs(cls, v: list[str]) -> list[str]:
        check_benchmark_specs(v)  # NAME or NAME=PATH, no empty name, no name twice
        return v

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: Any) -> BuildConfig:
        """Defaults, then ``config_file`` (YAML or JSON), then ``overrides`` whose value is not None."""
        data: dict[str, Any] = {}
        if config_file is not None:
            data.update(read_config_file(Path(config_file)))
        for key, value in overrides.items():
            if value is None:
                continue
            if key in _NESTED and isinstance(value, dict) and isinstance(data.get(key), dict):
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

    def benchmarks_are_default(self) -> bool:
        return self.benchmarks == list(DEFAULT_BENCHMARKS)

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

    def require_seeds(self) -> str:
        """The seed source, or a one-line error that says how to give one."""
        if not self.seeds:
            raise ConfigError(
                f"no seeds given - pass {opt('seeds', 'PATH_OR_HUB_ID')} (e.g. EleutherAI/hendrycks_math)"
            )
        return self.seeds

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

    def vllm_extras(self) -> dict[str, Any]:
        """vLLM's sampling parameters beyond the OpenAI API, sent in ``extra_body`` when set."""
        extras = {"top_k": self.top_k, "min_p": self.min_p, "repetition_penalty": self.repetition_penalty}
        return {k: v for k, v in extras.items() if v is not None}

    def public_dict(self) -> dict[str, Any]:
        """The config as JSON types, with the API key hidden (for summary.json)."""
        d = self.model_dump(mode="json")
        if d.get("api_key") not in (None, "", "EMPTY"):
            d["api_key"] = "***"
        return d
