"""The Ray executor against the local one on this machine: equal outputs, and what Ray costs.

    python benchmarks/ray_overhead.py                          # 1,000 MATH train seeds, gate on, 50 ms
    python benchmarks/ray_overhead.py --seeds-n 1000 --latency 0.2 --concurrency 64 --repeats 2

Runs ``synthmath build-dpo`` over the same seeds against benchmarks/fake_vllm.py (its own process,
fixed latency), ``--repeats`` times each: the local executor; ``--executor ray`` starting its own
local Ray (what a user gets without ``--ray-address`` on a machine where no Ray runs); and
``--executor ray`` joining a Ray that is already running (``ray start --head`` here, as on a
cluster). Each is timed from process start to exit with a fresh output folder and cache. Checks that
the records (but their timestamps), the rejects, the gate rows and the summary's counts are equal,
and prints the median times and their ratios to the local executor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data" / "math"
sys.path.insert(0, str(HERE))

from pipeline_throughput import Fake, free_port  # noqa: E402
from ray_cluster import rows, stop_cluster  # noqa: E402


def counts(out: Path) -> dict[str, Any]:
    s = json.loads((out / "summary.json").read_text())
    keys = ("seeds", "questions", "answers", "records", "rejects", "by_subject", "by_level", "contamination")
    return {k: s.get(k) for k in keys}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds-n", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="synthmath-ray-"))
    seeds = tmp / "seeds.jsonl"
    train = (DATA / "MATH_train.jsonl").read_text(encoding="utf-8").splitlines()
    step = max(1, len(train) // args.seeds_n)
    seeds.write_text("\n".join(train[::step][: args.seeds_n]) + "\n", encoding="utf-8")
    fake = Fake(args.latency)
    port = free_port()
    env = {"PYTHONPATH": str(ROOT), **_env(), "RAY_AUTH_MODE": "token"}  # as Ray 2.60 starts clusters
    ways = {
        "local": ["--executor", "local"],
        "ray (own Ray)": ["--executor", "ray"],
        "ray (joined)": ["--executor", "ray", "--ray-address", f"127.0.0.1:{port}"],
    }
    times: dict[str, list[float]] = {k: [] for k in ways}
    outs: dict[str, Path] = {}
    head = False
    try:
        for name, extra in ways.items():
            if name == "ray (joined)":  # last: a running Ray on this machine is what ray.init() joins
                subprocess.run(
                    ["ray", "start", "--head", f"--port={port}", "--disable-usage-stats",
                     "--include-dashboard=false"],
                    check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                head = True
            for r in range(args.repeats):
                out = tmp / f"{name.split()[0]}-{'own' if 'own' in name else 'joined'}-{r}"
                cmd = [sys.executable, "-m", "synthmath.cli", "build-dpo", "--seeds", str(seeds)]
                cmd += ["--base-url", fake.url, "--out", str(out), "--concurrency", str(args.concurrency)]
                cmd += ["--benchmark", f"math_test={DATA / 'MATH_test.jsonl'}", "--no-embeddings"]
                cmd += ["--no-progress", *extra]
                start = time.monotonic()
                subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
                times[name].append(time.monotonic() - start)
                outs[name] = out
    finally:
        fake.stop()
        if head:
            stop_cluster(port)
    local = outs["local"]
    ok = True
    print(f"{args.seeds_n} seeds, {json.loads((local / 'summary.json').read_text())['records']} records")
    base = statistics.median(times["local"])
    for name, out in outs.items():
        equal = name == "local" or (
            rows(local / "dpo.jsonl") == rows(out / "dpo.jsonl")
            and rows(local / "rejects.jsonl") == rows(out / "rejects.jsonl")
            and rows(local / "contamination.jsonl") == rows(out / "contamination.jsonl")
            and counts(local) == counts(out)
        )
        ok = ok and equal
        med = statistics.median(times[name])
        tasks = json.loads((out / "summary.json").read_text())["engine"].get("tasks", 1)
        print(
            f"  {name:14s} {med:6.1f} s  ({med / base:.2f}x local)  tasks {tasks}  "
            + ("output equal" if equal else "OUTPUT DIFFERS")
        )
    return 0 if ok else 1


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


if __name__ == "__main__":
    raise SystemExit(main())
