"""Start-up times, this checkout against another one, side by side (runs interleaved, medians, ratios).

    python benchmarks/startup.py --baseline /path/to/other/checkout [--runs 5]

Each probe runs in a fresh interpreter with ``PYTHONPATH`` set to the checkout:

- ``--help``: ``python -m synthmath.cli --help``, the whole process;
- ``import``: ``import synthmath`` (and whether it loaded openai);
- ``worker ready``: ``WorkerPool(spec, workers=1).start()`` from the first call to its return (a new
  worker process, its imports and its state);
- ``1-seed build``: ``build_instruct`` of one seed against an in-process fake server, gate off, the
  first build of a process, then a second one in the same process.

The machine is shared: the figures are noisy, the ratios less so. ``uptime`` is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROBE = r"""
import json, sys, time, asyncio
t0 = time.perf_counter()
import synthmath
t_import = time.perf_counter() - t0
openai_loaded = "openai" in sys.modules
from synthmath.pipeline import WorkerPool, WorkerSpec

spec = WorkerSpec(kind="instruct", meta={"model": "m", "prompt_hashes": {}, "sampling": {},
                  "answer_mode": "rephrase", "synthmath_version": "x"})

async def ready():
    pool = WorkerPool(spec, workers=1)
    t = time.perf_counter()
    await pool.start()
    took = time.perf_counter() - t
    await pool.close()
    return took

t_ready = asyncio.run(ready())

from synthmath import SeedProblem, build_instruct
from synthmath.testing import FakeOpenAIServer, Reply

seed = SeedProblem(id="s", problem="A box holds 4 red and 9 blue balls. How many balls are in the box?",
                   solution="There are $4+9=\\boxed{13}$ balls.", gold_answer="13")

def handler(body):
    last = body["messages"][-1]["content"]
    if "Reference solution" in last:
        return Reply(["Adding the red and the blue ones gives $4+9=13$, so $\\boxed{13}$."])
    return Reply(["Find the number of balls in a box with 4 red balls and 9 blue balls."])

builds = []
with FakeOpenAIServer(handler) as server:
    for _ in range(2):
        t = time.perf_counter()
        list(build_instruct([seed], base_url=server.url, contamination=False, rephrasings=1, workers=1))
        builds.append(time.perf_counter() - t)
print(json.dumps({"import": t_import, "openai": openai_loaded, "ready": t_ready,
                  "build1": builds[0], "build2": builds[1]}))
"""


def _run(checkout: Path, args: list[str]) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1"}
    t = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=checkout)
    took = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: {' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")
    return took, done.stdout


def measure(checkout: Path) -> dict[str, float]:
    help_s, _ = _run(checkout, ["-m", "synthmath.cli", "--help"])
    _, out = _run(checkout, ["-c", PROBE])
    probe = json.loads(out.strip().splitlines()[-1])
    return {"--help": help_s, **{k: float(v) for k, v in probe.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another synthmath checkout")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    runs: dict[str, list[dict[str, float]]] = {"this": [], "baseline": []}
    for _ in range(args.runs):  # interleaved, so that both see the same load
        runs["this"].append(measure(here))
        runs["baseline"].append(measure(args.baseline.resolve()))
    keys = ["--help", "import", "ready", "build1", "build2"]
    names = {"--help": "synthmath --help", "import": "import synthmath", "ready": "worker ready",
             "build1": "1-seed build, first", "build2": "1-seed build, second"}  # fmt: skip
    print(f"{'median of ' + str(args.runs):24} {'this':>8} {'baseline':>9} {'ratio':>7}")
    for k in keys:
        a = statistics.median(r[k] for r in runs["this"])
        b = statistics.median(r[k] for r in runs["baseline"])
        print(f"{names[k]:24} {a:7.3f}s {b:8.3f}s {a / b:7.2f}")
    print("openai loaded by import synthmath:", {n: bool(r[0]["openai"]) for n, r in runs.items()})
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
