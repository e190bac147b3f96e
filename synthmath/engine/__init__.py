"""Generation engines: every step's requests go through one of these.

:class:`OpenAIServerEngine` is imported on first use: the openai client takes most of a second to
import, and only a run that sends requests to a server needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import ChatRequest, ChatResult, Choice, Engine, EngineStats, request_seed

if TYPE_CHECKING:
    from .openai_server import OpenAIServerEngine

__all__ = [
    "ChatRequest",
    "ChatResult",
    "Choice",
    "Engine",
    "EngineStats",
    "OpenAIServerEngine",
    "request_seed",
]


def __getattr__(name: str) -> Any:
    if name == "OpenAIServerEngine":
        from .openai_server import OpenAIServerEngine

        return OpenAIServerEngine
    raise AttributeError(f"module 'synthmath.engine' has no attribute {name!r}")
