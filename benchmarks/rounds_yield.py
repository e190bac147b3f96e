"""Yield by level with and without difficulty-aware sampling (``--min-correct``), against a fake model
whose chance of a right answer falls with the seed's level (hard seeds are held back).

Two builds of the same seeds side by side: one round of answers (``--answer-samples 1``), and rounds of
one answer until one is verified or ``--max-tries`` were sampled. Prints the yield by level after the
first round and at the end, and the answer requests each build sent.

    python benchmarks/rounds_yield.py --seeds ../shared/data/math/MATH_train.jsonl --n 200

The fake's chance of a right answer per level (1 to 5): 0.9, 0.7, 0.5, 0.3, 0.15, drawn per answer
from a hash of the request's sampling seed, so each round draws afresh and reruns are identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from synthmath import build_to_dir
from synthmath.config import BuildConfig
from synthmath.seeds import load_seeds
from synthmath.testing import FakeOpenAIServer, Reply

RIGHT = {1: 0.9, 2: 0.7, 3: 0.5, 4: 0.3, 5: 0.15}


class LevelModel:
    """Solves a seed problem right with a chance that depends on its level."""

    def __init__(self, seeds: list[Any]) -> None:
        self.by_problem = {s.problem.strip(): s for s in seeds}
        self.answers = 0

    def __call__(self, body: dict[str, Any]) -> Reply:
        seed = self.by_problem[body["messages"][-1]["content"].strip()]
        n = int(body.get("n") or 1)
        self.answers += n
        texts = []
        for i in range(n):
            draw = int.from_bytes(hashlib.sha256(f"{body.get('seed')}/{i}".encode()).digest()[:4], "big")
            right = draw / 2**32 < RIGHT.get(seed.level or 3, 0.5)
            answer = seed.gold_answer if right else f"{seed.gold_answer}+1"
            texts.append(f"Working it out (try {body.get('seed')}/{i}), the answer is $\\boxed{{{answer}}}$.")
        return Reply(texts)


def run(seeds_path: Path, out: Path, url: str, **extra: Any) -> dict[str, Any]:
    cfg = BuildConfig.load(
        seeds=str(seeds_path),
        out=str(out),
        base_url=url,
        augment=["ansaug"],
        contamination=False,
        workers=1,
        **extra,
    )
    summary = build_to_dir("instruct", cfg)
    return summary.model_dump(mode="json")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=Path, required=True, help="MATH-style .jsonl seeds")
    ap.add_argument("--n", type=int, default=200, help="seeds to use (every k-th row, all levels)")
    ap.add_argument("--max-tries", type=int, default=8)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.seeds.open(encoding="utf-8") if line.strip()]
    step = max(1, len(rows) // args.n)
    with tempfile.TemporaryDirectory() as tmp:
        seeds_path = Path(tmp) / "seeds.jsonl"
        seeds_path.write_text("".join(json.dumps(r) + "\n" for r in rows[::step][: args.n]), encoding="utf-8")
        seeds = list(load_seeds(seeds_path))
        model = LevelModel(seeds)
        with FakeOpenAIServer(model, models=["fake-level"]) as server:
            one = run(seeds_path, Path(tmp) / "one", server.url)
            one_requests, model.answers = model.answers, 0
            rounds = run(
                seeds_path, Path(tmp) / "rounds", server.url, min_correct=1, max_tries=args.max_tries
            )
            round_requests = model.answers
    print(
        f"{len(seeds)} seeds; answers sampled: one round {one_requests}, rounds {round_requests} "
        f"({round_requests / max(one_requests, 1):.2f}x)"
    )
    print(
        "| level | seeds | yield, one round | yield after round 1 | yield at the end (min_correct 1, "
        f"max_tries {args.max_tries}) |"
    )
    print("|---|---:|---:|---:|---:|")
    for level, r in rounds["by_level"].items():
        s = r["seeds"]
        base = one["by_level"][level]["with_records"] / s
        first, end = r["with_records_round1"] / s, r["with_records"] / s
        print(f"| {level} | {s} | {base:.1%} | {first:.1%} | {end:.1%} |")
    print("rounds:", json.dumps(rounds["rounds"]))


if __name__ == "__main__":
    main()
