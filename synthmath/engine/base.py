"""What the steps ask of a generation engine, and what they get back.

A step builds :class:`ChatRequest` objects and reads :class:`ChatResult` objects; concurrency, retries,
routing and token accounting live in the engine, once.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

LocalBackend = Literal["transformers", "llama.cpp", "vllm"]  # how --local runs SmolLM2 on the CPU

__all__ = [
    "ChatRequest",
    "ChatResult",
    "Choice",
    "Engine",
    "EngineStats",
    "LocalBackend",
    "request_seed",
]


def request_seed(seed_id: str, step: str, index: int, run_seed: int) -> int:
    """The sampling seed of one request, from (seed id, step, sample index, --seed): reproducible runs."""
    digest = hashlib.sha256(f"{seed_id}\x00{step}\x00{index}\x00{run_seed}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True)
class ChatRequest:
    messages: list[dict[str, str]]
    n: int = 1
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    step: str = ""


@dataclass(frozen=True)
class Choice:
    text: str
    finish_reason: str | None


@dataclass(frozen=True)
class ChatResult:
    choices: list[Choice]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None  # this request failed (e.g. HTTP 400): becomes a reject
    # the server kept failing (5xx, timeouts, empty replies) through every retry: counts toward
    # stopping the build
    server_failure: bool = False
    # the reject reason of a failed request, or of the choices a reply lacks: ``request_error``,
    # ``empty_reply`` (a 200 with no choices, or none with any content), ``bad_reply`` (a 200 whose body
    # is not a chat completion)
    reason: str = "request_error"
    shortfall: str | None = None  # why fewer choices came back than were asked for, when they did


@dataclass
class EngineStats:
    requests: int = 0
    failed_requests: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hits: int = 0
    cached_prompt_tokens: int = 0  # tokens of replies replayed from the request cache (not generated now)
    cached_completion_tokens: int = 0
    per_server: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failed_requests": self.failed_requests,
            "retries": self.retries,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cache_hits": self.cache_hits,
            "cached_prompt_tokens": self.cached_prompt_tokens,
            "cached_completion_tokens": self.cached_completion_tokens,
            "requests_per_server": dict(self.per_server),
        }


class Engine(Protocol):
    """A chat-completion backend. ``start`` resolves the model; ``complete`` runs one request; ``info``
    says what served the run (model, servers and their versions) for provenance."""

    @property
    def model(self) -> str: ...

    @property
    def stats(self) -> EngineStats: ...

    async def start(self) -> None: ...

    async def complete(self, request: ChatRequest) -> ChatResult: ...

    async def close(self) -> None: ...

    def info(self) -> dict[str, Any]: ...
