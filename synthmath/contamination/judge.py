"""The optional LLM judge: asks a model whether a text and a benchmark item are the same problem, the
same template, or different problems, in both orders.

The judge is split so that a pipeline can send its requests on its own engine:

- :func:`judge_requests` turns screenings (:meth:`ContaminationChecker.screen`) into chat requests,
  two per candidate (the text first, then the item first);
- :func:`resolve` reads the replies' texts, in the same order, into results. A pair gets the weaker
  of its two verdicts ("same problem" needs both); an unreadable or failed reply counts as
  "different" and is counted in ``unclear``. A pair the stages called the same problem (a
  ``confirm`` candidate) is demoted to ``same_template`` when both replies are read and they are not
  both "same problem"; an unread reply leaves the stages' verdict.

:class:`LLMJudge` does both on an engine of its own, for :meth:`ContaminationChecker.check`. Its
requests go through the engine (retries, routing, the exact-request cache), so verdicts are cached
like every other request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ..engine.base import ChatRequest, Engine
from ..prompts import PromptSet, PromptTemplate
from .results import LEVELS, CheckResult, Level, Match, Screening

__all__ = ["PROMPT", "LLMJudge", "judge_requests", "resolve", "verdict"]

PROMPT = "contamination_judge"
_DIFFERENT = "different"


def verdict(reply: str | None) -> str | None:
    """``same_problem``, ``same_template`` or ``different`` from a reply; None when unreadable."""
    if not reply:
        return None
    words = reply.strip().strip(".*`\"' ").lower().replace("_", " ").replace("-", " ").split()
    if not words:
        return None
    if words[0].startswith("different"):
        return _DIFFERENT
    if words[0] == "same" and len(words) > 1:
        if words[1].startswith("problem"):
            return "same_problem"
        if words[1].startswith("template"):
            return "same_template"
    return None


def judge_requests(
    screenings: Sequence[Screening], template: PromptTemplate | None = None, max_tokens: int = 8
) -> list[ChatRequest]:
    """Two requests per judge candidate of each screening, in order: (text, item), (item, text)."""
    template = template or PromptSet()[PROMPT]
    requests = []
    for s in screenings:
        for c in s.judge:
            for first, second in ((s.text, c.item_text), (c.item_text, s.text)):
                requests.append(
                    ChatRequest(
                        messages=template.render(first=first, second=second),
                        temperature=0.0,
                        max_tokens=max_tokens,
                        seed=0,
                        step=PROMPT,
                    )
                )
    return requests


def _weaker(a: str | None, b: str | None) -> Level | None:
    if a is None or b is None or _DIFFERENT in (a, b):
        return None
    return "same_problem" if a == b == "same_problem" else "same_template"


def resolve(
    screenings: Sequence[Screening],
    replies: Sequence[str | None] = (),
    drop: Sequence[str] = ("same_problem",),
) -> list[CheckResult]:
    """Results from screenings and the texts of the replies to :func:`judge_requests` (in its order;
    none when no screening needs the judge). A result is contaminated when its level is in ``drop``."""
    expected = 2 * sum(len(s.judge) for s in screenings)
    if replies and len(replies) != expected:
        raise ValueError(f"{len(replies)} judge replies for {expected} requests")
    results = []
    k = 0
    for s in screenings:
        judged = []
        demoted = set()
        for c in s.judge:
            said = (verdict(replies[k]), verdict(replies[k + 1])) if replies else (None, None)
            k += 2
            level = _weaker(*said)
            if c.confirm and None not in said and level != "same_problem":
                demoted.add((c.benchmark, c.benchmark_id))  # both answers read, not both "same problem"
            if level is not None:
                judged.append(Match(c.benchmark, c.benchmark_id, "judge", round(c.cosine, 4), level))
        results.append(s.result(drop, judged, demoted))
    return results


class LLMJudge:
    """The judge on an engine of its own: called with chat requests, returns the replies' texts.

    Counts requests (``asked``) and unreadable or failed replies (``unclear``). Call :meth:`close`
    at the end.
    """

    def __init__(self, engine: Engine, prompts: PromptSet | None = None, max_tokens: int = 8) -> None:
        self.engine = engine
        self.template = (prompts or PromptSet())[PROMPT]
        self.max_tokens = max_tokens
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(engine.start())
        self.asked = 0
        self.unclear = 0
        self.verdicts = dict.fromkeys([*LEVELS, _DIFFERENT], 0)

    @property
    def prompt_hash(self) -> str:
        return self.template.hash

    def requests(self, screenings: Sequence[Screening]) -> list[ChatRequest]:
        return judge_requests(screenings, self.template, self.max_tokens)

    async def _ask(self, request: ChatRequest) -> str | None:
        result = await self.engine.complete(request)
        self.asked += 1
        text = result.choices[0].text if result.choices and not result.error else None
        said = verdict(text)
        if said is None:
            self.unclear += 1
        else:
            self.verdicts[said] += 1
        return text

    async def _all(self, requests: Sequence[ChatRequest]) -> list[str | None]:
        return list(await asyncio.gather(*(self._ask(r) for r in requests)))

    def __call__(self, requests: Sequence[ChatRequest]) -> list[str | None]:
        return self.loop.run_until_complete(self._all(requests)) if requests else []

    def info(self) -> dict[str, Any]:
        return {
            "model": self.engine.model,
            "prompt_hash": self.prompt_hash,
            "asked": self.asked,
            "unclear": self.unclear,
            "verdicts": dict(self.verdicts),
        }

    def close(self) -> None:
        self.loop.run_until_complete(self.engine.close())
        self.loop.close()
