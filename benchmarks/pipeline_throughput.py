"""Is the client the bottleneck? synthmath's whole pipeline against a bare AsyncOpenAI loop that replays
the very request bodies synthmath sent, both timed as whole processes, in one run.

    python benchmarks/pipeline_throughput.py                         # C=64 and 256, 50 ms, 1500 seeds
    python benchmarks/pipeline_throughput.py --concurrency 64 --seeds-n 500 --repeats 1

For each concurrency: a capture run of ``synthmath build-instruct`` (verification on, the contamination
gate on against MATH test with its n-gram stages) records every request body at a fake server; then, in
turn, the bare loop (a separate Python process: ``AsyncOpenAI`` under an ``asyncio.Semaphore``, the
recorded bodies sent as they are) and the same synthmath command, each timed from process start to exit
against a fresh fake server with the same latency. Reported: requests/s of each and their ratio, plus
the steady-state rate the server saw (first to last request, without start-up).

``--bare BODIES`` runs only the bare loop (what the benchmark spawns).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data" / "math"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Fake:
    def __init__(self, latency: float, record: Path | None = None) -> None:
        port = free_port()
        cmd = [sys.executable, str(HERE / "fake_vllm.py"), "--port", str(port), "--latency", str(latency)]
        if record is not None:
            cmd += ["--record", str(record)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # "ready on ..."
        self.url = f"http://127.0.0.1:{port}/v1"

    def stats(self) -> dict[str, float]:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as r:
            data: dict[str, float] = json.loads(r.read())
        return data

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


async def bare_loop(base_url: str, bodies: list[dict], concurrency: int) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="EMPTY", max_retries=0, timeout=600)
    sem = asyncio.Semaphore(concurrency)

    async def one(body: dict) -> None:
        async with sem:
            await client.chat.completions.create(**body)

    await asyncio.gather(*(one(b) for b in bodies))
    await client.close()


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=Path, default=DATA / "MATH_train.jsonl")
    ap.add_argument("--benchmark", type=Path, default=DATA / "MATH_test.jsonl")
    ap.add_argument("--seeds-n", type=int, default=1500)
    ap.add_argument("--concurrency", default="64,256")
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--bare", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--base-url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare is not None:  # the bare loop's own process
        bodies = [json.loads(line) for line in args.bare.open(encoding="utf-8")]
        asyncio.run(bare_loop(args.base_url, bodies, int(args.concurrency)))
        return

    print(f"fake server, {args.latency * 1000:.0f} ms latency; {args.seeds_n} MATH train seeds; gate on")
    print(
        "| concurrency | requests | bare loop, req/s | synthmath, req/s | ratio "
        "| steady state: bare, synthmath req/s | steady-state ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for c in [int(x) for x in args.concurrency.split(",")]:
            bodies = Path(tmp) / f"bodies-{c}.jsonl"

            def synthmath(url: str, out: str, c: int = c) -> list[str]:
                return [
                    sys.executable, "-m", "synthmath.cli", "build-instruct", "--seeds", str(args.seeds),
                    "--limit", str(args.seeds_n), "--base-url", url, "--out", str(Path(tmp) / out),
                    "--concurrency", str(c), "--no-cache", "--no-progress", "--no-embeddings",
                    "--benchmark", f"math_test={args.benchmark}",
                ]  # fmt: skip

            fake = Fake(args.latency, record=bodies)  # the capture run (also warms the index cache)
            subprocess.run(synthmath(fake.url, "capture"), check=True, stdout=subprocess.DEVNULL)
            fake.stop()
            n = sum(1 for _ in bodies.open(encoding="utf-8"))
            rates: dict[str, list[float]] = {"bare": [], "synthmath": [], "bare_ss": [], "synthmath_ss": []}
            for i in range(args.repeats):
                for who in ("bare", "synthmath") if i % 2 == 0 else ("synthmath", "bare"):
                    fake = Fake(args.latency)
                    bare = [sys.executable, __file__, "--bare", str(bodies), "--base-url", fake.url]
                    cmd = [*bare, "--concurrency", str(c)]
                    if who == "synthmath":
                        cmd = synthmath(fake.url, f"{who}{i}")
                    wall = timed(cmd)
                    s = fake.stats()
                    fake.stop()
                    rates[who].append(s["requests"] / wall)
                    rates[f"{who}_ss"].append(s["requests"] / max(s["last"] - s["first"], 1e-9))
            mean = {k: sum(v) / len(v) for k, v in rates.items()}
            ratio, steady = mean["synthmath"] / mean["bare"], mean["synthmath_ss"] / mean["bare_ss"]
            print(
                f"| {c} | {n} | {mean['bare']:.1f} | {mean['synthmath']:.1f} | **{ratio:.2f}** | "
                f"{mean['bare_ss']:.0f}, {mean['synthmath_ss']:.0f} | {steady:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
