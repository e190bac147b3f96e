"""What every step shares: the run-wide sampling settings a step turns into requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine.base import ChatRequest, ChatResult, request_seed
from ..prompts import PromptTemplate
from ..records import Reject

__all__ = ["Sampling", "make_request", "unanswered"]


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 1024
    run_seed: int = 0
    extra_body: dict[str, Any] = field(default_factory=dict)
    system_prompt: str | None = None  # replaces the prompt file's system message (or comes first)


def make_request(
    template: PromptTemplate, sampling: Sampling, *, seed_id: str, index: int, n: int, **values: str
) -> ChatRequest:
    """A request for one prompt, seeded from (seed id, step, index, run seed) so reruns reproduce it."""
    messages = template.render(**values)
    if sampling.system_prompt is not None:
        rest = messages[1:] if messages and messages[0]["role"] == "system" else messages
        messages = [{"role": "system", "content": sampling.system_prompt}, *rest]
    return ChatRequest(
        messages=messages,
        n=n,
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_tokens=sampling.max_tokens,
        seed=request_seed(seed_id, template.name, index, sampling.run_seed),
        extra_body=dict(sampling.extra_body),
        step=template.name,
    )


def unanswered(seed_id: str, stage: Any, result: ChatResult, n: int, **fields: Any) -> list[Reject]:
    """A reject for each of the ``n`` samples asked for that did not come back: every one when the
    request failed, the missing ones when the server sent fewer than asked. So each candidate a clean
    run would have is a record or a reject, and the counts add up."""
    if result.error is not None:
        missing, detail = range(n), result.error
    else:
        missing, detail = range(len(result.choices), n), result.shortfall or "no reply"
    return [
        Reject(
            seed_id=seed_id, stage=stage, reason=result.reason, detail=detail, extra={"sample": i}, **fields
        )
        for i in missing
    ]
