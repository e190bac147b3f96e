"""The Ray executor against the local one on this machine: equal outputs, and what Ray costs.

    python benchmarks/ray_overhead.py                          # 200 MATH train seeds, gate on, 50 ms
    python benchmarks/ray_overhead.py --seeds-n 1000 --latency 0.2 --concurrency 64

Runs ``synthmath build-dpo`` twice over the same seeds against benchmarks/fake_vllm.py (its own process,
fixed latency): once with the local executor and once with ``--executor ray`` (a local Ray started for
the run, as a user gets without ``--ray-address``), each timed from process start to exit, each with a
fresh request cache. Checks that the records (but their timestamps), the rejects, the gate rows and the
summary's counts are equal, and reports both wall times and the Ray run's per-stage throughput.
"""

from __future__ import annotations

import argparse
import json
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

from pipeline_throughput import Fake  # noqa: E402


def rows(path: Path) -> list[dict[str, Any]]:
    out = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in out:
        r.get("meta", {}).pop("created_at", None)
    return out


def counts(out: Path) -> dict[str, Any]:
    s = json.loads((out / "summary.json").read_text())
    keys = ("seeds", "questions", "answers", "records", "rejects", "by_subject", "by_level", "contamination")
    return {k: s.get(k) for k in keys}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds-n", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="synthmath-ray-"))
    seeds = tmp / "seeds.jsonl"
    train = (DATA / "MATH_train.jsonl").read_text(encoding="utf-8").splitlines()
    step = max(1, len(train) // args.seeds_n)
    seeds.write_text("\n".join(train[::step][: args.seeds_n]) + "\n", encoding="utf-8")
    fake = Fake(args.latency)
    times: dict[str, float] = {}
    try:
        for executor in ("local", "ray"):
            out = tmp / executor
            cmd = [sys.executable, "-m", "synthmath.cli", "build-dpo", "--seeds", str(seeds)]
            cmd += ["--base-url", fake.url, "--out", str(out), "--concurrency", str(args.concurrency)]
            cmd += ["--benchmark", f"math_test={DATA / 'MATH_test.jsonl'}", "--no-embeddings"]
            cmd += ["--no-progress", "--executor", executor]
            start = time.monotonic()
            subprocess.run(cmd, check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), **_env()})
            times[executor] = time.monotonic() - start
    finally:
        fake.stop()
    local, ray = tmp / "local", tmp / "ray"
    same = {
        "records": rows(local / "dpo.jsonl") == rows(ray / "dpo.jsonl"),
        "rejects": rows(local / "rejects.jsonl") == rows(ray / "rejects.jsonl"),
        "gate rows": rows(local / "contamination.jsonl") == rows(ray / "contamination.jsonl"),
        "summary counts": counts(local) == counts(ray),
    }
    summary = json.loads((ray / "summary.json").read_text())
    print(f"{args.seeds_n} seeds, {summary['records']} records, {summary['rejects']} rejects")
    for what, equal in same.items():
        print(f"  {what}: {'equal' if equal else 'DIFFERENT'}")
    print(f"  local executor: {times['local']:.1f}s   ray executor: {times['ray']:.1f}s")
    for stage, t in summary["engine"]["stages"].items():
        print(f"  ray {stage}: " + ", ".join(f"{k} {v}" for k, v in t.items()))
    return 0 if all(same.values()) else 1


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


if __name__ == "__main__":
    raise SystemExit(main())
