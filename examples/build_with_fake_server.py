"""Build a few DPO tuples without a GPU, against synthmath's fake OpenAI-compatible server.

The fake "model" knows a few hand-written rewordings of each question and of its solution, and
sometimes hands back the original problem or solution instead, as real models do. That is enough to
watch the whole pipeline run: requests, question checks (copies are rejected), answer verification,
records and rejects.

    python examples/build_with_fake_server.py
"""

from __future__ import annotations

import json
from typing import Any

from synthmath import Reject, SeedProblem, build_dpo
from synthmath.testing import FakeOpenAIServer, Reply

SEEDS = [
    SeedProblem(
        id="demo/rectangle",
        problem="A rectangle is 4 cm wide and 9 cm long. What is its area, in square centimeters?",
        solution="The area is width times length: $4 \\cdot 9 = \\boxed{36}$ square centimeters.",
        gold_answer="36",
        subject="prealgebra",
        level=1,
    ),
    SeedProblem(
        id="demo/divisors",
        problem="How many positive divisors does $18$ have?",
        solution="Since $18 = 2 \\cdot 3^2$, it has $(1+1)(2+1) = \\boxed{6}$ positive divisors.",
        gold_answer="6",
        subject="number_theory",
        level=2,
    ),
]

# What the fake model writes for each seed: rewordings of the question, then a solution of the reworded
# question. The build asks for three rephrasings per seed: the third is the original problem handed
# back, which the copy check rejects as question_copies_seed (that shows what on_reject receives).
REWORDINGS = {
    "demo/rectangle": [
        "Find the area, in square centimeters, of a rectangle whose width is 4 cm and whose length is 9 cm.",
        "How many square centimeters does a 4 cm by 9 cm rectangle cover?",
    ],
    "demo/divisors": [
        "Count the positive integers that divide $18$ with no remainder.",
        "What is the number of positive divisors of $18$?",
    ],
}
SOLUTIONS = {
    "demo/rectangle": "A rectangle's area is its width multiplied by its length, so it covers "
    "$4 \\times 9 = \\boxed{36}$ square centimeters.",
    "demo/divisors": "Factor it: $18 = 2 \\cdot 3^2$. A divisor picks an exponent of $2$ from $0$ to $1$ and "
    "one of $3$ from $0$ to $2$, which gives $2 \\cdot 3 = \\boxed{6}$ divisors.",
}


class FakeModel:
    """Handles every /v1/chat/completions request the pipeline sends."""

    def __init__(self, seeds: list[SeedProblem]) -> None:
        self.seeds = seeds

    def __call__(self, body: dict[str, Any]) -> Reply:
        n = int(body.get("n") or 1)
        last = body["messages"][-1]["content"]  # the prompt templates put the seed text last
        # An answer request quotes one of our rewordings.
        for seed_id, questions in REWORDINGS.items():
            if any(q in last for q in questions):
                return Reply([SOLUTIONS[seed_id]] * n)
        # Otherwise it is a rephrasing request for one of the seeds.
        seed = next(s for s in self.seeds if s.problem in last)
        return Reply([*REWORDINGS[seed.id], seed.problem][:n])


def main() -> None:
    rejects: list[Reject] = []
    with FakeOpenAIServer(FakeModel(SEEDS), models=["fake-math-model"]) as server:
        records = list(
            build_dpo(
                SEEDS, base_url=server.url, rephrasings=3, contamination=False, on_reject=rejects.append
            )
        )

    for record in records:
        print(json.dumps(record.to_json_dict(), indent=2, ensure_ascii=False))
    print(f"\n{len(records)} DPO records, {len(rejects)} rejects")
    for r in rejects:
        print(f"  rejected {r.seed_id} at the {r.stage} stage: {r.reason} ({r.detail})")


if __name__ == "__main__":
    main()
