"""Is the contamination gate what a build waits for? Builds with and without it, side by side, and the
standalone check's speed.

    python benchmarks/contamination_speed.py                 # 500 seeds, C=64, 50 ms, 3 pairs
    python benchmarks/contamination_speed.py --pairs 1 --no-fresh --check-n 2000
    python benchmarks/contamination_speed.py --baseline /path/to/a/checkout/before --pairs 6 --no-fresh

Every run is a whole ``synthmath build-instruct`` process against a fresh fake server (50 ms a
request), 500 MATH train seeds at concurrency 64, benchmarks MATH test + GSM8K test given as
``NAME=PATH`` local files from ../shared/data. Reported:

1. **warm**: builds with ``--no-contamination`` and with the default gate (index already built),
   alternated in pairs so that both see the same load; the ratio of each pair and their median, of
   wall time and of CPU seconds (the build and its worker processes, the server left out: on a
   machine shared with other jobs the CPU ratio is the steadier measure of what the gate adds);
2. **fresh**: one gated build with an empty index cache, timed, and the seconds until its first
   request reached the server (what the index costs), with the progress lines it printed;
3. **check**: ``synthmath check-contamination`` (embeddings on, warm index) over MATH train problems,
   texts per second from the report's own count and the process's wall time.

The machine's load average is printed with each figure: other jobs share the cores. ``--baseline``
runs the warm pairs of another checkout of synthmath too, each of its pairs right after this one's,
so that a change is measured side by side with what it changes, and its check-contamination too.
``--gate-runs`` first times the gate alone as a worker runs it (the checker built, then the build's
seeds and two rewordings of each checked, with their rows for contamination.jsonl), in turns, without
the noise of a whole build.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
sys.path.insert(0, str(HERE))

from pipeline_throughput import Fake  # noqa: E402

BENCHMARKS = [f"math_test={DATA / 'math' / 'MATH_test.jsonl'}", f"gsm8k_test={DATA / 'gsm8k' / 'test.jsonl'}"]


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def build(
    seeds: Path,
    out: Path,
    cache: Path,
    gate: bool,
    latency: float,
    concurrency: int,
    checkout: Path | None = None,
) -> dict:
    """One build as its own process, of ``checkout``'s synthmath (by default this one's): wall seconds,
    the server's first-request delay, stderr lines."""
    fake = Fake(latency)
    cmd = [sys.executable, "-m", "synthmath.cli", "build-instruct", "--seeds", str(seeds),
           "--base-url", fake.url, "--model", "fake", "--out", str(out), "--concurrency", str(concurrency),
           "--no-progress"]  # fmt: skip
    cmd += [a for b in BENCHMARKS for a in ("--benchmark", b)] if gate else ["--no-contamination"]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(checkout or HERE.parent)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()  # the fake server stamps requests with the same clock
    # from a folder of its own: ``python -m`` puts the working directory first on sys.path, before
    # PYTHONPATH, so a checkout there would be the one that runs
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=out.parent)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the build and its workers, not the server
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    stats = fake.stats()
    fake.stop()
    if proc.returncode:
        raise SystemExit(f"build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    first = stats.get("first") or 0.0
    return {
        "wall": wall,
        "cpu": cpu,
        "first_request": first - started if first else None,
        "stderr": proc.stderr,
    }


# the gate's own work in a build's worker, in a process of its own: the checker built (warm index) and
# frozen as prepare_gate does, then the build's texts checked in batches and their rows made, as the
# worker's gate does
GATE_CPU = r"""
import json, sys, time
from synthmath.contamination.benchmarks import load_benchmarks
from synthmath.pipeline.cpu import prepare_gate
from synthmath.pipeline.jobs import GateSpec
from synthmath.pipeline.state import gate_checker
texts_path, cache, specs = sys.argv[1:4]
texts = [tuple(t) for t in json.load(open(texts_path))]
gate = GateSpec(tuple(load_benchmarks(specs.split(","))), cache_dir=cache, key="gate")
prepare_gate(None, modules=True)  # the imports, which a worker does while the seeds are read
from synthmath.contamination.embeddings import load_model
load_model()
started = time.process_time()
prepare_gate(gate)
built = time.process_time()
checker = gate_checker(gate)
for i in range(0, len(texts), 64):  # as a worker's gate: the results, and their rows for contamination.jsonl
    rows = [r.to_json_dict() for r in checker.check(texts[i : i + 64])]
print(json.dumps([built - started, time.process_time() - built]))
"""


def gate_cpu(checkouts: list[Path | None], runs: int, seeds_n: int, cache: Path, tmp: Path) -> None:
    """The gate's CPU seconds in a worker, each checkout in turn, ``runs`` times: what a build of
    ``seeds_n`` seeds pays for it, without the build's own noise."""
    sys.path.insert(0, str(HERE.parent))
    from synthmath.testing import reword

    rows = [json.loads(line) for line in (DATA / "math" / "MATH_train.jsonl").open(encoding="utf-8")][
        :seeds_n
    ]
    texts = [(r["id"], r["problem"]) for r in rows]
    texts += [
        (f"{r['id']}/{i}", "Here is a question. " + reword(r["problem"], i)) for r in rows for i in range(2)
    ]
    path = tmp / "gate-texts.json"
    path.write_text(json.dumps(texts))
    print(f"\n## the gate in a worker: its checker built, {len(texts)} texts screened (load {load()})\n")
    print("| run | checkout | checker built, CPU s | screening, CPU s | per text, ms | load |")
    print("|---:|---|---:|---:|---:|---|")
    got: dict[Path | None, list[tuple[float, float]]] = {c: [] for c in checkouts}
    for i in range(runs):
        for c in checkouts:
            env = {**os.environ, "PYTHONPATH": str(c or HERE.parent), "OPENBLAS_NUM_THREADS": "1"}
            args = [sys.executable, "-c", GATE_CPU, str(path), str(cache / "synthmath" / "contamination"),
                    ",".join(BENCHMARKS)]  # fmt: skip
            proc = subprocess.run(args, env=env, capture_output=True, text=True, cwd=tmp, check=True)
            built, screened = json.loads(proc.stdout.strip().splitlines()[-1])
            got[c].append((built, screened))
            name = "this" if c is None else "baseline"
            print(f"| {i + 1} | {name} | {built:.2f} | {screened:.2f} | {screened / len(texts) * 1000:.2f} "
                  f"| {load()} |")  # fmt: skip
    for c in checkouts:
        name = "this checkout" if c is None else f"baseline {c}"
        built = statistics.median(b for b, _ in got[c])
        screened = statistics.median(s for _, s in got[c])
        print(f"\n{name}: median CPU s, checker built {built:.2f}, screening {screened:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds-n", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--no-fresh", action="store_true", help="skip the fresh-cache build")
    ap.add_argument("--check-n", type=int, default=7500, help="MATH train problems for check-contamination")
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout: its warm pairs too")
    ap.add_argument(
        "--gate-runs", type=int, default=3, help="runs of the gate alone in a worker-like process"
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="synthmath-gate-speed-"))
    rows = [json.loads(line) for line in (DATA / "math" / "MATH_train.jsonl").open(encoding="utf-8")]
    seeds = tmp / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(r) + "\n" for r in rows[: args.seeds_n]))
    cache = tmp / "cache"
    print(
        f"{args.seeds_n} MATH train seeds, concurrency {args.concurrency}, "
        f"{args.latency * 1000:.0f} ms server"
    )

    if not args.no_fresh:
        print(f"\n## fresh index cache (load {load()})")
        r = build(seeds, tmp / "fresh", cache, True, args.latency, args.concurrency)
        lines = [ln for ln in r["stderr"].splitlines() if "index" in ln]
        print(
            f"gated build on an empty cache: {r['wall']:.1f} s; "
            f"first request after {r['first_request']:.1f} s"
        )
        print("\n".join(f"    {ln}" for ln in lines) or "    (no progress lines)")
    else:  # the warm runs need the index: build it, untimed
        build(seeds, tmp / "fresh", cache, True, args.latency, args.concurrency)
    checkouts: list[Path | None] = [None]
    if args.baseline is not None:
        build(seeds, tmp / "fresh-baseline", cache, True, args.latency, args.concurrency, args.baseline)
        checkouts.append(args.baseline)

    if args.gate_runs:
        gate_cpu(checkouts, args.gate_runs, args.seeds_n, cache, tmp)

    print(f"\n## warm index cache: --no-contamination against the default gate, in pairs (load {load()})\n")
    print("| pair | checkout | no gate, s | gate, s | wall ratio | CPU s: no gate / gate | CPU ratio "
          "| first request: no gate / gate, s | load |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    ratios: dict[Path | None, list[float]] = {c: [] for c in checkouts}
    cpu_ratios: dict[Path | None, list[float]] = {c: [] for c in checkouts}
    walls: dict[Path | None, list[float]] = {c: [] for c in checkouts}
    for i in range(args.pairs):
        for n, c in enumerate(checkouts):
            plain = build(seeds, tmp / f"plain{i}-{n}", cache, False, args.latency, args.concurrency, c)
            gated = build(seeds, tmp / f"gated{i}-{n}", cache, True, args.latency, args.concurrency, c)
            ratios[c].append(gated["wall"] / plain["wall"])
            cpu_ratios[c].append(gated["cpu"] / plain["cpu"])
            walls[c].append(gated["wall"] - plain["wall"])
            name = "this" if c is None else "baseline"
            print(f"| {i + 1} | {name} | {plain['wall']:.1f} | {gated['wall']:.1f} | {ratios[c][-1]:.2f} "
                  f"| {plain['cpu']:.1f} / {gated['cpu']:.1f} | {cpu_ratios[c][-1]:.2f} "
                  f"| {plain['first_request']:.1f} / {gated['first_request']:.1f} | {load()} |")  # fmt: skip
    for c in checkouts if args.pairs else []:
        name = "this checkout" if c is None else f"baseline {c}"
        print(f"\n{name}: median ratio gate / no gate: wall {statistics.median(ratios[c]):.2f}, "
              f"CPU {statistics.median(cpu_ratios[c]):.2f} (goal <= {1 / 0.9:.2f}); the gate's median "
              f"extra wall time {statistics.median(walls[c]):.1f} s")  # fmt: skip

    texts = tmp / "texts.jsonl"
    texts.write_text(
        "".join(json.dumps({"id": r["id"], "problem": r["problem"]}) + "\n" for r in rows[: args.check_n])
    )
    for n, c in enumerate(checkouts):  # each checkout's own check, one after the other
        out = tmp / f"check-{n}"
        cmd = [sys.executable, "-m", "synthmath.cli", "check-contamination", str(texts), "--out", str(out),
               "--cache-dir", str(cache / "synthmath" / "contamination"), "--no-progress"]  # fmt: skip
        cmd += [a for b in BENCHMARKS for a in ("--benchmark", b)]
        before = load()
        started = time.time()
        env = {**os.environ, "PYTHONPATH": str(HERE.parent if c is None else c)}
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=tmp)
        wall = time.time() - started
        report = json.loads((out / "contamination_report.json").read_text())
        name = "this checkout" if c is None else f"baseline {c}"
        print(f"\n## check-contamination ({name}), {report['checked']} MATH train problems, embeddings on, "
              "warm index")  # fmt: skip
        print(
            f"{report['checked'] / wall:.0f} texts/s over the whole process ({wall:.1f} s, start-up "
            f"included); stages: {report['records_per_second']} texts/s (goal >= 300); "
            f"load {before} -> {load()}"
        )


if __name__ == "__main__":
    main()
