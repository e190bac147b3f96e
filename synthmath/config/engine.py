"""What answers the requests: OpenAI-compatible servers, vLLM in this process, or a server synthmath
starts for the run (engine/managed.py); and how hard the client pushes it."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..engine.base import LocalBackend
from .io import key_values, shell_words

__all__ = ["DEFAULT_BASE_URL", "LOCAL_CONCURRENCY", "EngineConfig"]

DEFAULT_BASE_URL = "http://localhost:8000/v1"
# llama.cpp's server answers one request at a time: more in flight only queue there and time out
LOCAL_CONCURRENCY = 2


def _env_base_url() -> str:
    return os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL


def _env_api_key() -> str:
    return os.environ.get("OPENAI_API_KEY") or "EMPTY"


class EngineConfig(BaseModel):
    """The backend and its servers, the client's concurrency and retries, and a managed server."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    backend: Literal["openai", "vllm"] = Field(
        "openai", description="openai: OpenAI-compatible servers; vllm: vllm.LLM in this process"
    )
    vllm_args: dict[str, Any] = Field(default_factory=dict, description="vllm.LLM keyword arguments")
    base_url: list[str] = Field(default_factory=lambda: [_env_base_url()])
    api_key: str = Field(default_factory=_env_api_key)
    model: str | None = None
    concurrency: int = Field(
        256,
        ge=1,
        description="requests in flight, whole run [default: 256; 8 with local, 2 with its llama.cpp]",
    )
    max_retries: int = Field(5, ge=0)
    timeout: float = Field(600.0, gt=0)
    max_prompt_tokens: int | None = Field(
        None, ge=1, description="context length when the server does not say it (vLLM: max_model_len)"
    )
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

    @field_validator("base_url", mode="before")
    @classmethod
    def _one_url(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

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
