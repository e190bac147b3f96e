"""Build a few DPO tuples without a GPU, against synthmath's fake OpenAI-compatible server.

The fake "model" rephrases a question by putting an opening phrase in front of it, and answers a
rephrased question with the seed's own solution. That is enough to watch the whole pipeline run:
requests, question checks, answer verification, records and rejects.

    python examples/build_with_fake_server.py
"""

from __future__ import annotations

import json
import threading
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

# Two ways to reword a question. The build below asks for three rephrasings per seed, so the third
# repeats the first and is rejected as a duplicate: that shows what on_reject receives.
OPENINGS = ["Here is a problem to solve. ", "Work out the following. "]


class FakeModel:
    """Handles every /v1/chat/completions request the pipeline sends."""

    def __init__(self, seeds: list[SeedProblem]) -> None:
        self.seeds = seeds
        self.rephrased: dict[str, SeedProblem] = {}  # rephrasing we sent -> its seed
        self.lock = threading.Lock()  # the server answers requests on several threads

    def __call__(self, body: dict[str, Any]) -> Reply:
        n = int(body.get("n") or 1)
        last = body["messages"][-1]["content"]  # the prompt templates put the seed text last
        with self.lock:
            # An answer request quotes a rephrasing we produced earlier.
            for question, seed in self.rephrased.items():
                if question in last:
                    return Reply([f"Working on the reworded problem.\n\n{seed.solution}"] * n)
            # Otherwise it is a rephrasing request for one of the seeds.
            seed = next(s for s in self.seeds if s.problem in last)
            texts = [OPENINGS[i % len(OPENINGS)] + seed.problem for i in range(n)]
            for text in texts:
                self.rephrased[text] = seed
            return Reply(texts)


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
