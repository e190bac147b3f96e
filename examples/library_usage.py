"""Build Synth. Math-Instruct pairs from Python, with a running OpenAI-compatible server or in-process vLLM.

Start a server first, for example:

    vllm serve Qwen/Qwen2.5-7B-Instruct

then run:

    python examples/library_usage.py --base-url http://localhost:8000/v1 \
        --seeds EleutherAI/hendrycks_math --limit 20 --out instruct.jsonl

Or, on a GPU machine with synthmath[vllm] installed, load the model in this process instead:

    python examples/library_usage.py --backend vllm --model Qwen/Qwen2.5-7B-Instruct \
        --seeds EleutherAI/hendrycks_math --limit 20 --out instruct.jsonl

Seeds must come from the MATH *train* split: data made from test problems contaminates the benchmark.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from synthmath import Reject, build_instruct, load_seeds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["openai", "vllm"], default="openai")
    parser.add_argument("--base-url", help="with --backend openai, e.g. http://localhost:8000/v1")
    parser.add_argument(
        "--seeds", required=True, help="Hub dataset id, MATH directory or .jsonl/.json/.parquet"
    )
    parser.add_argument("--limit", type=int, default=20, help="number of seeds to use")
    parser.add_argument(
        "--model", help="model name (default: the one model the server lists); required with --backend vllm"
    )
    parser.add_argument("--out", default="instruct.jsonl", help="where to write the records")
    parser.add_argument(
        "--benchmark",
        action="append",
        help="NAME or NAME=PATH of a benchmark test set to gate against; repeat "
        "[default: math_test, math500, gsm8k_test from the Hub]",
    )
    args = parser.parse_args()
    if args.backend == "openai" and not args.base_url:
        parser.error("--base-url is required with --backend openai")

    # Seeds stream from the source; filters run on the way. Seeds whose solution has no final
    # answer are skipped and reported to on_skip.
    skipped: Counter[str] = Counter()
    seeds = load_seeds(
        args.seeds,
        split="train",
        levels=[3, 4, 5],
        limit=args.limit,
        on_skip=lambda r: skipped.update([r.reason]),
    )

    # Every rejected candidate (a bad rephrasing, a wrong final answer, ...) goes to on_reject.
    rejects: Counter[str] = Counter()

    def on_reject(r: Reject) -> None:
        rejects[f"{r.stage}:{r.reason}"] += 1

    # Records are yielded as soon as their seed is done, in seed order. Keyword arguments are
    # BuildConfig fields: the same names as the CLI flags, with underscores. None means "default".
    records = build_instruct(
        seeds,
        backend=args.backend,
        base_url=args.base_url,
        model=args.model,
        rephrasings=2,
        temperature=0.7,
        max_tokens=2048,
        # the contamination gate runs before generation, as in the CLI: a seed or a rephrasing that
        # matches a benchmark item is rejected (contamination=False turns the gate off)
        benchmarks=args.benchmark,
        on_reject=on_reject,
    )
    n = 0
    with open(args.out, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record.to_json_dict(), ensure_ascii=False) + "\n")
            n += 1
            print(f"{record.id}: {record.question[:70]!r}")

    print(f"{n} records -> {args.out}")
    print(f"skipped seeds: {dict(skipped)}; rejects: {dict(rejects)}")


if __name__ == "__main__":
    main()
