"""Generation engines: every step's requests go through one of these."""

from .base import ChatRequest, ChatResult, Choice, Engine, EngineStats, request_seed
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
