"""A two-node Ray cluster on this machine: a node lost mid-run, and the run finishing by itself.

    python benchmarks/ray_cluster.py                    # 300 MATH train seeds, gate on, 0.3 s replies
    python benchmarks/ray_cluster.py --seeds-n 600 --kill-after 20 --concurrency 16

Starts a head node and a worker node (``ray start``, one CPU each, token authentication as Ray 2.60
sets it up), a fake vLLM (benchmarks/fake_vllm.py, fixed latency) and runs ``synthmath build-dpo`` four
ways over the same seeds: the local executor, then ``--executor ray --ray-address`` on the cluster
three times: untouched; with the worker node's raylet killed (SIGKILL, with its workers)
``--kill-after`` seconds after a third of the requests were answered; and interrupted with Ctrl-C
then resumed. It
checks that each Ray output equals the local one line for line, that the fake server never held more
than ``--concurrency`` requests at once, and reports wall times and where the tasks ran.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data" / "math"
sys.path.insert(0, str(HERE))

from pipeline_throughput import Fake, free_port  # noqa: E402


def rows(path: Path) -> list[dict[str, Any]]:
    out = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in out:
        r.get("meta", {}).pop("created_at", None)
    return out


def same(a: Path, b: Path) -> bool:
    names = ("dpo.jsonl", "rejects.jsonl", "contamination.jsonl")
    return all(rows(a / n) == rows(b / n) for n in names)


def ray_cmd(*args: str, env: dict[str, str]) -> None:
    subprocess.run(["ray", *args], check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def raylet_of(port: int) -> int | None:
    """The raylet process started with ``--node_manager_port=port``."""
    for pid, cmd in cmdlines().items():
        if "raylet" in cmd.split(" ")[0] and f"--node_manager_port={port}" in cmd:
            return pid
    return None


def cmdlines() -> dict[int, str]:
    out = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                out[int(proc.name)] = (
                    (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
            except OSError:
                continue
    return out


def stop_cluster(head_port: int) -> None:
    """Every process of the cluster whose GCS listens on ``head_port`` (found by its session folder), and
    nothing else: other Ray sessions on this machine (a test suite's) are left alone."""
    procs = cmdlines()
    session = None
    for cmd in procs.values():
        if "gcs_server" in cmd and f"--gcs_server_port={head_port}" in cmd:
            session = next(
                (w.split("/logs")[0].split("=", 1)[1] for w in cmd.split() if w.startswith("--log_dir")), None
            )
    if not session:
        return
    for pid, cmd in procs.items():
        if session in cmd and pid != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def kill_tree(pid: int) -> None:
    children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == pid]
    os.kill(pid, signal.SIGKILL)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def _ppid(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds-n", type=int, default=300)
    ap.add_argument("--latency", type=float, default=0.3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--tasks", type=int, default=6)
    ap.add_argument("--kill-after", type=float, default=1.0, help="seconds after a third of the requests")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="synthmath-cluster-"))
    seeds = tmp / "seeds.jsonl"
    train = (DATA / "MATH_train.jsonl").read_text(encoding="utf-8").splitlines()
    step = max(1, len(train) // args.seeds_n)
    seeds.write_text("\n".join(train[::step][: args.seeds_n]) + "\n", encoding="utf-8")
    env = {**os.environ, "RAY_AUTH_MODE": "token", "PYTHONPATH": str(ROOT)}
    head_port, worker_port = free_port(), free_port()
    address = f"127.0.0.1:{head_port}"
    ray_cmd("start", "--head", f"--port={head_port}", "--num-cpus=1", "--disable-usage-stats",
            "--include-dashboard=false", "--node-ip-address=127.0.0.1", env=env)  # fmt: skip
    ray_cmd("start", f"--address={address}", "--num-cpus=1", f"--node-manager-port={worker_port}",
            "--disable-usage-stats", "--node-ip-address=127.0.0.1", env=env)  # fmt: skip
    fake = Fake(args.latency)
    base = [sys.executable, "-m", "synthmath.cli", "build-dpo", "--seeds", str(seeds), "--no-progress"]
    base += ["--base-url", fake.url, "--concurrency", str(args.concurrency), "--no-embeddings"]
    base += ["--benchmark", f"math_test={DATA / 'MATH_test.jsonl'}"]
    on_ray = ["--executor", "ray", "--ray-address", address, "--tasks", str(args.tasks)]
    results: dict[str, dict[str, Any]] = {}

    def run(name: str, extra: list[str], during: Any = None) -> subprocess.Popen[bytes]:
        fake.stats()  # resets the server's counts
        start = time.monotonic()
        proc = subprocess.Popen([*base, "--out", str(tmp / name), *extra], env=env, stderr=subprocess.PIPE)
        if during is not None:
            during(proc)
        _, err = proc.communicate()
        stats = fake.stats()
        results[name] = {
            "exit": proc.returncode,
            "wall_s": round(time.monotonic() - start, 1),
            "max_in_flight": stats["max_in_flight"],
            "stderr": err.decode().strip()[-400:],
        }
        return proc

    def working(name: str) -> None:
        """Until a third of the run's requests (about three a seed) are answered, and then some."""
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{fake.url}/stats?peek", timeout=10) as r:
                if json.loads(r.read())["requests"] >= args.seeds_n:
                    break
            time.sleep(0.2)
        time.sleep(args.kill_after)

    def kill_worker_node(proc: subprocess.Popen[bytes]) -> None:
        working("ray-node-lost")
        pid = raylet_of(worker_port)
        results["killed"] = {"raylet": pid}
        if pid is not None:
            kill_tree(pid)

    def interrupt(proc: subprocess.Popen[bytes]) -> None:
        working("ray-resumed")
        proc.send_signal(signal.SIGINT)

    try:
        run("local", [])
        run("ray", on_ray)
        run("ray-node-lost", on_ray, kill_worker_node)
        ray_cmd("start", f"--address={address}", "--num-cpus=1", f"--node-manager-port={worker_port}",
                "--disable-usage-stats", "--node-ip-address=127.0.0.1", env=env)  # fmt: skip
        run("ray-resumed", on_ray, interrupt)
        results["ray-resumed-interrupted"] = results.pop("ray-resumed")
        run("ray-resumed", on_ray)
    finally:
        fake.stop()
        stop_cluster(head_port)
    local = tmp / "local"
    for name, r in results.items():
        if name.startswith("ray") and name != "ray-resumed-interrupted":
            r["equal_to_local"] = same(tmp / name, local)
            engine = json.loads((tmp / name / "summary.json").read_text())["engine"]
            r["tasks_per_node"] = engine.get("tasks_per_node")
            r["tasks_resumed"] = engine.get("tasks_resumed")
    print(json.dumps({"seeds": args.seeds_n, "concurrency": args.concurrency, **results}, indent=2))
    ok = all(r.get("equal_to_local", True) for r in results.values() if isinstance(r, dict))
    ok = ok and all(r.get("max_in_flight", 0) <= args.concurrency for r in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
