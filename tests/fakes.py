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


class AugmentModel(MathRephraser):
    """MathRephraser that also plays the parts of the kinds beyond rephrasing, told apart by prompt:

    - ``solve`` on a seed problem (AnsAug answers, and the gold vote): the seed's solution reworded; for
      a seed in ``votes`` (problem -> answers), choice i ends in ``votes[problem][i % len]`` instead;
    - ``solve`` on a backward question: ``\\boxed{masked number}`` when ``backward`` is "right", the
      masked number plus one when it is "wrong";
    - ``mask_number``: masks the first number word of the problem (seeds with no number in digits);
    - ``sv_statement``: the masked problem as a statement, with the answer;
    - every answer to a seed of level ``hard_level`` or more is wrong until its question was asked
      ``hard_tries`` times (stateful: counted per question), to hold hard seeds back.

    Masked numbers are found with synthmath's own code masks, as the build makes them."""

    def __init__(
        self,
        seeds: list[SeedProblem],
        *,
        backward: str = "right",
        hard_level: int | None = None,
        hard_tries: int = 3,
        votes: dict[str, list[str]] | None = None,
        wrong_rate: float = 0.0,
    ) -> None:
        super().__init__(seeds, wrong_rate=wrong_rate)
        from synthmath.steps.masking import code_masks

        self.backward = backward
        self.hard_level, self.hard_tries = hard_level, hard_tries
        self.votes = votes or {}
        self.asked: dict[str, int] = {}
        self.masked: dict[str, tuple[SeedProblem, str]] = {}  # masked problem text -> (seed, number)
        for s in seeds:
            for m in code_masks(s.id, s.problem, s.solution, 4):
                self.masked[m.text.strip()] = (s, m.value)
        self.kinds_seen: dict[str, int] = {}

    def _count(self, what: str) -> None:
        self.kinds_seen[what] = self.kinds_seen.get(what, 0) + 1

    def __call__(self, body: dict[str, Any]) -> Reply:
        n = int(body.get("n") or 1)
        system, last = body["messages"][0]["content"], body["messages"][-1]["content"]
        if "reverse exercise" in system:
            return Reply([self._mask(last) for _ in range(n)])
        if "declarative statement" in system:
            self._count("sv_statement")
            question = last.split("Question: ", 1)[1].split("\nAnswer: ", 1)[0]
            answer = last.split("\nAnswer: ", 1)[1].split("\n", 1)[0]
            return Reply([f"Statement: {question.rstrip('?. ')}, and the answer is {answer}."] * n)
        if system.startswith("You solve math problems"):
            return Reply(self._solve(last.strip(), n, body.get("seed")))
        seed = self._seed_of(last)
        if seed is not None and self._held_back(seed, last):
            return Reply([f"Attempt {i}: \\boxed{{{seed.gold_answer}+1}}" for i in range(n)])
        return super().__call__(body)

    def _seed_of(self, text: str) -> SeedProblem | None:
        for question, s in self.by_question.items():
            if question in text:
                return s
        return self.by_problem.get(text.strip())

    def _held_back(self, seed: SeedProblem, key: str) -> bool:
        if self.hard_level is None or (seed.level or 0) < self.hard_level:
            return False
        with self.lock:
            self.asked[key] = self.asked.get(key, 0) + 1
            return self.asked[key] < self.hard_tries

    def _solve(self, question: str, n: int, req_seed: Any) -> list[str]:
        if "unknown variable" in question:
            self._count("backward_solve")
            for masked, (_, value) in self.masked.items():
                if masked in question or masked.rstrip("?. ") in question:
                    wrong = str(int(float(value)) + 1)
                    got = [
                        wrong if self.backward == "wrong" or (self.backward == "mixed" and i % 2) else value
                        for i in range(n)
                    ]
                    return [
                        f"Attempt {i}: solving for the unknown, it is $\\boxed{{{g}}}$."
                        for i, g in enumerate(got)
                    ]
            return [f"Attempt {i}: \\boxed{{7}}" for i in range(n)]
        seed = self._seed_of(question)
        assert seed is not None, question[:80]
        self._count("solve")
        if seed.problem in self.votes:
            answers = self.votes[seed.problem]
            return [f"Attempt {i}, worked out: \\boxed{{{answers[i % len(answers)]}}}" for i in range(n)]
        if self._held_back(seed, question):
            return [f"Attempt {i}: \\boxed{{{seed.gold_answer}+1}}" for i in range(n)]
        return [rewritten_solution(seed, _hash(req_seed, i) % 6) + f"\n\n(Attempt {i}.)" for i in range(n)]

    def _mask(self, last: str) -> str:
        from synthmath.mathtext import NUMBER_WORDS, numbers_in

        self._count("mask_number")
        problem = last.split("Problem:\n", 1)[1].split("\n\nSolution:", 1)[0]
        variable = last.rsplit("Variable: ", 1)[1].strip()
        for word in problem.split():
            bare = word.strip(".,?").lower()
            if bare in NUMBER_WORDS and numbers_in(bare):
                value = sorted(numbers_in(bare))[0]
                masked = problem.replace(word.strip(".,?"), variable, 1)
                seed = self.by_problem[problem.strip()]
                self.masked[masked.strip()] = (seed, value)
                return f"Number: {value}\nProblem: {masked}"
        return "I cannot find a number."
