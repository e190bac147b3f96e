"""An engine that answers in this process, by calling a function: no server, no HTTP, no sockets.

:class:`FunctionEngine` takes the same handlers as :class:`synthmath.testing.FakeOpenAIServer` (a
function of the OpenAI request body that returns a :class:`~synthmath.testing.Reply`, a text, a list
of texts or an :class:`~synthmath.testing.HTTPFailure`), so a fake model written once serves both: over
HTTP where the test is about the client, in process everywhere else::

    records = list(build_instruct(seeds, engine=FunctionEngine(FakeMathModel()), contamination=False))

Token counts are whitespace-separated words, as the fake server counts them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .engine.base import ChatRequest, ChatResult, Choice, EngineStats
from .fake_replies import CutConnection, HTTPFailure, Reply

__all__ = ["FunctionEngine"]


class FunctionEngine:
    """The :class:`~synthmath.engine.base.Engine` of a Python function; ``requests`` keeps every body."""

    def __init__(self, handler: Callable[[dict[str, Any]], Any], *, model: str = "fake-math") -> None:
        self.handler = handler
        self._model = model
        self._stats = EngineStats()
        self.requests: list[dict[str, Any]] = []

    @property
    def model(self) -> str:
        return self._model

    @property
    def stats(self) -> EngineStats:
        return self._stats

    async def start(self) -> None:
        return None

    async def complete(self, request: ChatRequest) -> ChatResult:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": request.messages,
            "n": request.n,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
            **request.extra_body,
        }
        self.requests.append(body)
        await asyncio.sleep(0)  # a turn for the other seeds, as a request over the network gives
        result = self.handler(body)
        self._stats.requests += 1
        self._stats.per_server["in-process"] += 1
        if isinstance(result, (HTTPFailure, CutConnection)):
            self._stats.failed_requests += 1
            status = result.status if isinstance(result, HTTPFailure) else "connection cut"
            return ChatResult(choices=[], error=f"the fake model failed ({status})")
        if isinstance(result, str):
            result = Reply([result] * request.n)
        elif isinstance(result, list):
            result = Reply(result)
        reasons = result.finish_reasons or ["stop"] * len(result.texts)
        prompt = sum(len(str(m.get("content", "")).split()) for m in request.messages)
        completion = sum(len(t.split()) for t in result.texts)
        self._stats.prompt_tokens += prompt
        self._stats.completion_tokens += completion
        choices = [Choice(text, reason) for text, reason in zip(result.texts, reasons, strict=True)]
        return ChatResult(choices=choices, prompt_tokens=prompt, completion_tokens=completion)

    async def close(self) -> None:
        return None

    def info(self) -> dict[str, Any]:
        return {"model": self._model, "servers": {"in-process": {"model": self._model}}}
