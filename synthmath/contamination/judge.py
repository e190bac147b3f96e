"""The optional LLM judge: asks a model, in both orders, whether a record and a benchmark item are the
same problem. It runs through the same engine as the build (retries, routing, request cache)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ..engine.base import ChatRequest, Engine
from ..prompts import PromptSet

__all__ = ["LLMJudge"]

PROMPT = "contamination_judge"


def _verdict(text: str) -> bool | None:
    word = text.strip().strip(".*`\"' ").lower().split()
    if not word:
        return None
    if word[0].startswith("same"):
        return True
    if word[0].startswith("different"):
        return False
    return None


class LLMJudge:
    """A :data:`synthmath.contamination.check.Judge` backed by an engine.

    A pair is the same problem only when the model says "same" in both orders; an unreadable or
    failed reply counts as "different" and is counted in ``unclear``. Call :meth:`close` at the end.
    """

    def __init__(self, engine: Engine, prompts: PromptSet | None = None, max_tokens: int = 8) -> None:
        self.engine = engine
        self.template = (prompts or PromptSet())[PROMPT]
        self.max_tokens = max_tokens
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(engine.start())
        self.asked = 0
        self.unclear = 0

    @property
    def prompt_hash(self) -> str:
        return self.template.hash

    def _request(self, first: str, second: str) -> ChatRequest:
        return ChatRequest(
            messages=self.template.render(first=first, second=second),
            temperature=0.0,
            max_tokens=self.max_tokens,
            seed=0,
            step="contamination_judge",
        )

    async def _ask(self, first: str, second: str) -> bool:
        result = await self.engine.complete(self._request(first, second))
        self.asked += 1
        verdict = _verdict(result.choices[0].text) if result.choices and not result.error else None
        if verdict is None:
            self.unclear += 1
        return bool(verdict)

    async def _judge(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        both = await asyncio.gather(
            *(self._ask(a, b) for a, b in pairs), *(self._ask(b, a) for a, b in pairs)
        )
        return [x and y for x, y in zip(both[: len(pairs)], both[len(pairs) :], strict=True)]

    def __call__(self, pairs: list[tuple[str, str]]) -> list[bool]:
        return self.loop.run_until_complete(self._judge(pairs)) if pairs else []

    def info(self) -> dict[str, Any]:
        return {
            "model": self.engine.model,
            "prompt_hash": self.prompt_hash,
            "asked": self.asked,
            "unclear": self.unclear,
        }

    def close(self) -> None:
        self.loop.run_until_complete(self.engine.close())
        self.loop.close()
