"""Handlers for synthmath.testing.FakeOpenAIServer that behave like a rephrasing LLM."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from synthmath.records import SeedProblem
from synthmath.testing import Reply

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


class MathRephraser:
    """Rephrases faithfully (a new opening, every number kept); answers with the seed's own solution,
    whose final answer is wrong for about ``wrong_rate`` of the answers (decided by a hash of the request,
    so reruns are identical). ``wrong`` collects every wrong answer text it sent."""

    def __init__(self, seeds: list[SeedProblem], wrong_rate: float = 0.3) -> None:
        self.by_problem = {s.problem.strip(): s for s in seeds}
        self.rephrased: dict[str, SeedProblem] = {}
        self.wrong_rate = wrong_rate
        self.wrong: set[str] = set()
        self.wrong_count = 0
        self.lock = threading.Lock()
        self.calls = {"question": 0, "answer": 0}

    def __call__(self, body: dict[str, Any]) -> Reply:
        n = int(body.get("n") or 1)
        last = body["messages"][-1]["content"]
        with self.lock:
            for q, seed in self.rephrased.items():
                if q in last:
                    self.calls["answer"] += 1
                    return Reply([self._answer(seed, q, body.get("seed"), i) for i in range(n)])
            seed = self.by_problem.get(last.strip())
            if seed is None:
                seed = next(s for p, s in self.by_problem.items() if p in last)
            self.calls["question"] += 1
            offset = _hash(seed.id, body.get("seed")) % len(PREFIXES)
            texts = [PREFIXES[(offset + i) % len(PREFIXES)] + seed.problem for i in range(n)]
            for t in texts:
                self.rephrased[t] = seed
            return Reply(texts)

    def _answer(self, seed: SeedProblem, question: str, req_seed: Any, i: int) -> str:
        text = f"We work on the reworded problem.\n\n{seed.solution}"
        if _hash(question, req_seed, i) % 1000 < self.wrong_rate * 1000:
            text += f"\n\nSo the final answer is $\\boxed{{{seed.gold_answer}+1}}$."
            self.wrong.add(text)
            self.wrong_count += 1
        return text
