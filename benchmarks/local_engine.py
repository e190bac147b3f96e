"""How fast is ``--local``'s in-process transformers engine? Start time and output tokens per second.

    python benchmarks/local_engine.py                       # batch 1 and 16, 128 new tokens each
    python benchmarks/local_engine.py --batch 1,4,16 --max-tokens 64 --threads 2
    python benchmarks/local_engine.py --cache-dir /tmp/fresh-cache   # measure the first start too
    python benchmarks/local_engine.py --prompts build --batch 16 --threads 1,2

``--prompts short`` (default) sends a bare question; ``--prompts build`` sends what a build sends: the
question step's prompt file (instructions and worked examples, about 500 tokens) around each question,
so the key/value cache and the shared-prefix reuse are exercised as in a run. ``--prompts seeds`` sends the
question step's prompts for the first Level 1 prealgebra problems of MATH train (from
../shared/data/math/MATH_train.jsonl, or --seeds FILE): their own parts run from 24 to 849 tokens,
as real seeds do. ``--pad-slack`` takes a list of the engine's padding bounds to compare (``inf``: no
bound, every waiting prompt read in one padded pass). ``--threads`` takes a
list: each thread count is measured in turn, with the same requests. ``--caches growing,copying``
measures the engine's key/value cache (written in place into buffers with spare room) against
transformers' default layer (the whole cache copied with every new token), in the same run.

The start is timed as the engine does it (imports, then loading the dequantised model, or dequantising
the GGUF file when its cache folder is empty). Each batch sends that many requests at once, MATH-style
questions; a reply ends where the model stops or at --max-tokens, so the figure is output tokens over
wall time, as a run sees it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "What is the least common multiple of 12 and 18?",
    "Simplify $\\frac{84}{144}$.",
    "A rectangle is 7 cm long and 3 cm wide. What is its area?",
    "What is $2^5 - 3^3$?",
    "How many positive divisors does 36 have?",
    "Round 3.14159 to the nearest hundredth.",
    "What is 15% of 80?",
    "Solve for $x$: $3x + 5 = 20$.",
]


async def measure(args: argparse.Namespace) -> dict[str, object]:
    from synthmath.engine import ChatRequest, _decoding, _kv_cache
    from synthmath.engine.transformers_engine import TransformersEngine

    report: dict[str, object] = {}
    loaded = None
    growing = _kv_cache._growing_layer
    runs = [(c, t, slack) for c in args.caches for t in args.threads or [None] for slack in args.pad_slack]
    for cache, threads, slack in runs:
        _kv_cache._growing_layer = growing if cache == "growing" else _copying_layer  # type: ignore[assignment]
        if slack is not None:
            _decoding._PAD_SLACK = slack
        started = time.perf_counter()
        engine = TransformersEngine(
            args.model, max_batch=max(args.batch), threads=threads, cache_dir=args.cache_dir, loaded=loaded
        )
        await engine.start()
        if loaded is None:
            report.update(model=engine.model, start_s=round(time.perf_counter() - started, 1))
            loaded = engine._loaded
        label = (f"{cache}_" if len(args.caches) > 1 else "") + (
            f"threads_{threads}_" if args.threads else ""
        )
        label += f"pad_slack_{slack}_" if len(args.pad_slack) > 1 else ""
        try:
            for size in args.batch:
                requests = [
                    ChatRequest(messages(args, i), max_tokens=args.max_tokens, seed=i) for i in range(size)
                ]
                before = dict(vars(engine.stats))
                t = time.perf_counter()
                await asyncio.gather(*(engine.complete(r) for r in requests))
                seconds = time.perf_counter() - t
                tokens = engine.stats.completion_tokens - before["completion_tokens"]
                report[f"{label}batch_{size}"] = {
                    "prompt_tokens": engine.stats.prompt_tokens - before["prompt_tokens"],
                    "output_tokens": tokens,
                    "seconds": round(seconds, 1),
                    "output_tok_per_s": round(tokens / seconds, 1),
                }
        finally:
            await engine.close()
    return report


MATH_TRAIN = ROOT.parent / "shared" / "data" / "math" / "MATH_train.jsonl"
_SEEDS: list[str] = []


def _seed_problems(path: Path) -> list[str]:
    if not _SEEDS:
        from synthmath.seeds.select import load_seeds

        seeds = load_seeds(str(path), subjects=["prealgebra"], levels=[1], limit=64)
        _SEEDS.extend(s.problem for s in seeds)
    return _SEEDS


def _copying_layer() -> type:
    """transformers' DynamicLayer (each update concatenates the whole cache), filled as the engine's
    layer is: rows of two caches stacked, right-aligned, left-padded with zeros."""
    import torch
    from transformers.cache_utils import DynamicLayer

    class Copying(DynamicLayer):  # type: ignore[misc]
        @classmethod
        def of(cls, k0, v0, k1=None, v1=None, *, spare=0):  # type: ignore[no-untyped-def]
            width = max(k0.shape[2], k1.shape[2] if k1 is not None else 0)

            def pad(t):  # type: ignore[no-untyped-def]
                shape = list(t.shape)
                shape[2] = width - t.shape[2]
                return torch.cat([t.new_zeros(shape), t], dim=2)

            keys = [pad(k) for k in (k0, k1) if k is not None]
            values = [pad(v) for v in (v0, v1) if v is not None]
            layer = cls()
            layer.update(torch.cat(keys), torch.cat(values))
            return layer

    return Copying


def messages(args: argparse.Namespace, i: int) -> list[dict[str, str]]:
    kind = args.prompts
    question = QUESTIONS[i % len(QUESTIONS)]
    if kind == "seeds":
        question = _seed_problems(args.seeds)[i % 64]
    if kind == "short":
        return [{"role": "user", "content": f"{question} Answer in \\boxed{{}}."}]
    from synthmath.prompts import PromptSet

    return PromptSet()["rephrase_question"].render(problem=question)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a .gguf file or checkpoint folder [default: the bundled SmolLM2]")
    parser.add_argument("--batch", default="1,16", help="comma-separated batch sizes [default: 1,16]")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", help="comma-separated torch CPU thread counts [default: the engine's]")
    parser.add_argument("--prompts", choices=["short", "build", "seeds"], default="short")
    parser.add_argument(
        "--seeds", type=Path, default=ROOT.parent / "shared" / "data" / "math" / "MATH_train.jsonl"
    )
    parser.add_argument("--pad-slack", default="", help="comma-separated padding bounds (inf: none)")
    parser.add_argument("--caches", default="growing", help="growing (the engine's), copying, or both")
    parser.add_argument("--cache-dir", type=Path, help="dequantised-model cache [default: the user cache]")
    args = parser.parse_args()
    args.batch = [int(b) for b in args.batch.split(",")]
    args.threads = [int(t) for t in args.threads.split(",")] if args.threads else None
    args.caches = args.caches.split(",")
    args.pad_slack = [float(x) for x in args.pad_slack.split(",")] if args.pad_slack else [None]
    print(json.dumps(asyncio.run(measure(args)), indent=2))


if __name__ == "__main__":
    main()
