"""Handlers for synthmath.testing.FakeOpenAIServer that behave like a rephrasing LLM."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from synthmath.records import SeedProblem
from synthmath.testing import Reply, reword

PREFIXES = [
    "Consider the following problem. ",
    "Here is a question to work out. ",
    "Answer this: ",
    "A math problem for you: ",
    "Please determine the result. ",
    "Think about this question. ",
]


def _hash(*parts: Any) -> int:
    return int.from_bytes(hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()[:8], "big")


def rephrasing(seed: SeedProblem, i: int) -> str:
    """The ``i``-th rewording MathRephraser gives of a seed: an opening, then the problem reworded."""
    return PREFIXES[i % len(PREFIXES)] + reword(seed.problem.strip(), i)


def rewritten_solution(seed: SeedProblem, i: int = 0) -> str:
    """The ``i``-th rewrite MathRephraser gives of a seed's solution (same steps and final answer)."""
    return f"We work on the reworded problem.\n\n{reword(seed.solution, i, rewrap_math=True)}"


class MathRephraser:
    """Rephrases faithfully (a new opening, the prose reworded, every number and formula kept); answers
    with the seed's own solution reworded, whose final answer is wrong for about ``wrong_rate`` of the
    answers (decided by a hash of the request, so reruns are identical). ``wrong`` collects every wrong
    answer text it sent."""

    def __init__(self, seeds: list[SeedProblem], wrong_rate: float = 0.3) -> None:
        self.seeds = seeds
        self.by_problem = {s.problem.strip(): s for s in seeds}
        self.by_question = {rephrasing(s, k): s for s in seeds for k in range(len(PREFIXES))}
        self.wrong_rate = wrong_rate
        self.wrong: set[str] = set()
        self.wrong_count = 0
        self.lock = threading.Lock()
        self.calls = {"question": 0, "answer": 0}

    def __call__(self, body: dict[str, Any]) -> Reply:
        """Stateless: the reply depends only on the request, so any server instance gives the same one."""
        n = int(body.get("n") or 1)
        last = body["messages"][-1]["content"]
        seed = self.by_problem.get(last.strip())
        with self.lock:
            if seed is None:  # an answer request: it quotes one of our rephrasings
                for question, s in self.by_question.items():
                    if question in last:
                        self.calls["answer"] += 1
                        return Reply([self._answer(s, question, body.get("seed"), i) for i in range(n)])
                seed = next(s for s in self.seeds if s.problem.strip() in last)
            self.calls["question"] += 1
        offset = _hash(seed.id, body.get("seed")) % len(PREFIXES)
        return Reply([rephrasing(seed, offset + i) for i in range(n)])

    def _answer(self, seed: SeedProblem, question: str, req_seed: Any, i: int) -> str:
        text = rewritten_solution(seed, i)
        if _hash(question, req_seed, i) % 1000 < self.wrong_rate * 1000:
            text += f"\n\nSo the final answer is $\\boxed{{{seed.gold_answer}+1}}$."
            self.wrong.add(text)
            self.wrong_count += 1
        return text


class Faults:
    """Wraps a handler: answers ``error_rate`` of requests with HTTP 500 and cuts ``cut_rate`` of
    connections, at random (seeded), before the wrapped handler sees them."""

    def __init__(self, inner: Any, error_rate: float = 0.2, cut_rate: float = 0.05, seed: int = 0) -> None:
        import random

        self.inner = inner
        self.error_rate = error_rate
        self.cut_rate = cut_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.injected = {"500": 0, "cut": 0}

    def __call__(self, body: dict[str, Any]) -> Any:
        from synthmath.testing import CutConnection, HTTPFailure

        with self.lock:
            r = self.rng.random()
            if r < self.error_rate:
                self.injected["500"] += 1
                return HTTPFailure(500, "injected fault")
            if r < self.error_rate + self.cut_rate:
                self.injected["cut"] += 1
                return CutConnection()
        return self.inner(body)
