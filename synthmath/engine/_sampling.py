"""Picking one row's next token: repetition penalty, temperature, top-k, top-p, min-p, a seeded draw."""

from __future__ import annotations

from typing import Any

from .base import ChatRequest

__all__ = ["sample_token"]


def sample_token(
    torch: Any, logits: Any, r: ChatRequest, seen: tuple[list[int], list[int]], generator: Any
) -> int:
    """The next token from ``logits`` (one row), sampled as ``r`` asks with the row's own generator.

    ``seen``: the prompt's and the reply's tokens, for the repetition penalty.
    """
    penalty = float(r.extra_body.get("repetition_penalty") or 1.0)
    if penalty != 1.0:  # as in vLLM: over the prompt's and the reply's tokens
        index = torch.tensor(sorted({*seen[0], *seen[1]}))
        old = logits[index]
        logits = logits.clone()
        logits[index] = torch.where(old > 0, old / penalty, old * penalty)
    if r.temperature <= 0:
        return int(logits.argmax())
    probs = torch.softmax(logits / r.temperature, dim=-1)
    top_k = int(r.extra_body.get("top_k") or 0)
    min_p = float(r.extra_body.get("min_p") or 0.0)
    if r.top_p < 1.0 or top_k > 0 or min_p > 0:
        sorted_p, order = probs.sort(descending=True)
        drop = sorted_p.cumsum(-1) - sorted_p > r.top_p  # keep the smallest set reaching top_p
        if top_k > 0:
            drop[top_k:] = True
        if min_p > 0:
            drop |= sorted_p < min_p * sorted_p[0]
        drop[0] = False
        probs = torch.zeros_like(probs).scatter(0, order, sorted_p.masked_fill(drop, 0.0))
    return int(torch.multinomial(probs, 1, generator=generator))
