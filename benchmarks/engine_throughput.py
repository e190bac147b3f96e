"""Is the client ever the bottleneck? synthmath against a bare AsyncOpenAI loop, in one run.

    python benchmarks/engine_throughput.py                      # fake server, 50 ms latency, C=64, 300 seeds
    python benchmarks/engine_throughput.py --rss 10000,100000   # also peak RSS of whole builds
    python benchmarks/engine_throughput.py --base-url http://127.0.0.1:8000/v1 --seeds-n 32 --concurrency 32

With no --base-url it starts benchmarks/fake_vllm.py in its own process. Both clients send to the same
server at the same concurrency; the bare loop sends as many requests as synthmath did, each a rendered
rephrase-question prompt. Reported: requests/s and output tokens/s of each, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_SEEDS = ROOT.parent / "shared" / "data" / "math" / "MATH_train.jsonl"
sys.path.insert(0, str(ROOT))

from synthmath import (  # noqa: E402
    BuildConfig,
    build_to_dir,
    load_seeds,
)
from synthmath.prompts import PromptSet  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_fake(latency: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "fake_vllm.py"), "--port", str(port), "--latency", str(latency)],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # "ready on ..."
    return proc, f"http://127.0.0.1:{port}/v1"


def write_seeds(source: Path, n: int, path: Path) -> None:
    """n distinct seeds: MATH train rows, repeated with new ids and a varied problem where n > 7,500."""
    rows = [json.loads(line) for line in source.open()]
    with path.open("w") as f:
        for i in range(n):
            row = dict(rows[i % len(rows)])
            if i >= len(rows):
                row["id"] = f"{row['id']}#{i // len(rows)}"
                row["problem"] = f"{row['problem']} (variant {i // len(rows)})"
            f.write(json.dumps(row) + "\n")


async def bare_loop(
    base_url: str, model: str, messages: list[list[dict[str, str]]], concurrency: int, max_tokens: int
) -> tuple[float, int]:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="EMPTY", max_retries=0, timeout=600)
    sem = asyncio.Semaphore(concurrency)
    out_tokens = 0

    async def one(m: list[dict[str, str]]) -> None:
        nonlocal out_tokens
        async with sem:
            r = await client.chat.completions.create(model=model, messages=m, max_tokens=max_tokens)  # type: ignore[arg-type]
            out_tokens += r.usage.completion_tokens if r.usage else 0

    t = time.perf_counter()
    await asyncio.gather(*(one(m) for m in messages))
    dt = time.perf_counter() - t
    await client.close()
    return dt, out_tokens


def run_synthmath(base_url: str, seeds: Path, n: int, concurrency: int, max_tokens: int, out: Path) -> dict:
    cfg = BuildConfig.load(
        seeds=str(seeds),
        limit=n,
        base_url=base_url,
        concurrency=concurrency,
        out=str(out),
        use_cache=False,
        max_tokens=max_tokens,
        contamination=False,  # this benchmark measures generation; see contamination_eval.py for the gate
    )
    t = time.perf_counter()
    summary = build_to_dir("instruct", cfg).model_dump(mode="json")
    summary["bench_wall"] = time.perf_counter() - t
    return summary


def rss_child(base_url: str, seeds: Path, out: Path, concurrency: int) -> dict:
    code = f"""
import json, resource, sys, time
sys.path.insert(0, {str(ROOT)!r})
from synthmath import BuildConfig
from synthmath import build_to_dir
t = time.perf_counter()
s = build_to_dir("instruct", BuildConfig.load(seeds={str(seeds)!r}, base_url={base_url!r}, out={str(out)!r},
                 rephrasings=1, concurrency={concurrency}, contamination=False))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"rss_mb": rss, "wall_s": time.perf_counter() - t, "records": s.records,
                  "requests": s.engine["requests"]}}))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    ap.add_argument("--seeds-n", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--max-tokens", type=int, default=1024)
    ap.add_argument("--base-url", help="benchmark against this server instead of the fake")
    ap.add_argument(
        "--rss", default="", help="comma-separated seed counts for peak-RSS runs, e.g. 10000,100000"
    )
    args = ap.parse_args()

    fake = None
    base_url = args.base_url
    if base_url is None:
        fake, base_url = start_fake(args.latency)
    try:
        import openai

        model = asyncio.run(_first_model(base_url, openai))
        seeds = list(load_seeds(args.seeds, limit=args.seeds_n))
        template = PromptSet()["rephrase_question"]
        with tempfile.TemporaryDirectory() as tmp:
            # warm up both paths (imports, connections, sympy)
            asyncio.run(
                bare_loop(
                    base_url,
                    model,
                    [template.render(problem=s.problem) for s in seeds[:16]],
                    args.concurrency,
                    args.max_tokens,
                )
            )
            run_synthmath(base_url, args.seeds, 8, args.concurrency, args.max_tokens, Path(tmp) / "warm")

            summary = run_synthmath(
                base_url, args.seeds, args.seeds_n, args.concurrency, args.max_tokens, Path(tmp) / "bench"
            )
            n_req = summary["engine"]["requests"]
            messages = [template.render(problem=seeds[i % len(seeds)].problem) for i in range(n_req)]
            bare = [
                asyncio.run(bare_loop(base_url, model, messages, args.concurrency, args.max_tokens))
                for _ in range(2)
            ]
            bare_dt = sum(b[0] for b in bare) / 2
            bare_tok = sum(b[1] for b in bare) / 2
            sm_dt = summary["bench_wall"]
            print(
                f"server: {'fake, %.0f ms latency' % (args.latency * 1000) if fake else base_url}; "
                f"concurrency {args.concurrency}; {args.seeds_n} seeds; {n_req} requests"
            )
            print("| client | requests/s | output tokens/s |")
            print("|---|---|---|")
            print(f"| bare AsyncOpenAI loop | {n_req / bare_dt:.1f} | {bare_tok / bare_dt:.1f} |")
            sm_tok = summary["tokens"]["completion"]
            print(f"| synthmath build-instruct | {n_req / sm_dt:.1f} | {sm_tok / sm_dt:.1f} |")
            print(f"ratio (synthmath / bare), requests/s: {bare_dt / sm_dt:.3f}")
            print(f"records kept: {summary['records']} from {summary['seeds']['processed']} seeds")

            for n in [int(x) for x in args.rss.split(",") if x.strip()]:
                path = Path(tmp) / f"seeds-{n}.jsonl"
                write_seeds(args.seeds, n, path)
                r = rss_child(base_url, path, Path(tmp) / f"rss-{n}", args.concurrency)
                print(
                    f"peak RSS, {n} seeds: {r['rss_mb']:.0f} MB ({r['requests']} requests, "
                    f"{r['records']} records, {r['wall_s']:.0f} s)"
                )
                os.remove(path)
    finally:
        if fake is not None:
            fake.terminate()
            fake.wait()


async def _first_model(base_url: str, openai: object) -> str:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="EMPTY")  # type: ignore[attr-defined]
    models = await client.models.list()
    await client.close()
    return str(models.data[0].id)


if __name__ == "__main__":
    main()
