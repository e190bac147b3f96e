"""Runs that meet other runs and signals, as real processes: two builds on one --out, SIGTERM, SIGHUP and
Ctrl-C twice. Each leaves whole output, one line on stderr, the right exit status, and no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthmath.lock import LOCK_NAME, hold
from synthmath.testing import FakeOpenAIServer

from .conftest import ROOT, invoke, read_jsonl
from .fakes import MathRephraser
from .faults import one_error_line


class Gated:
    """A handler that holds every chat request until ``open()``; ``reached`` is set by the first one."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.reached = threading.Event()

    def open(self) -> None:
        self.gate.set()

    def __call__(self, body: dict[str, Any]) -> Any:
        self.reached.set()
        self.gate.wait(120)
        return self.inner(body)


@pytest.fixture
def gated(math_seeds: list[Any]) -> Iterator[tuple[FakeOpenAIServer, Gated]]:
    handler = Gated(MathRephraser(math_seeds))
    with FakeOpenAIServer(handler, models=["fake-math"]) as server:
        try:
            yield server, handler
        finally:
            handler.open()


def start_cli(*args: object, path: Path | None = None) -> subprocess.Popen[str]:
    """``synthmath ARGS`` in a process of its own (this checkout's package; ``path`` first on PATH)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if path is not None:
        env["PATH"] = f"{path}{os.pathsep}{env['PATH']}"
    return subprocess.Popen(
        [sys.executable, "-m", "synthmath.cli", *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # even when started in background
    )


def build_args(seeds: Path, url: str, out: Path, *extra: object) -> list[object]:
    return ["build-instruct", "--seeds", seeds, "--base-url", url, "--out", out, "--no-progress",
            "--no-contamination", "--no-cache", *extra]  # fmt: skip


def finish(proc: subprocess.Popen[str], timeout: float = 90) -> tuple[int, str]:
    try:
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, stderr


def test_a_second_build_on_the_same_out_stops_at_once(
    tmp_path: Path, math_seeds_file: Path, gated: tuple[FakeOpenAIServer, Gated]
) -> None:
    server, handler = gated
    out = tmp_path / "twin"
    args = build_args(math_seeds_file, server.url, out, "--limit", 4)
    first, second = start_cli(*args), start_cli(*args)
    try:
        # the server holds every request: whichever build took the folder waits there, the other one exits
        deadline = time.monotonic() + 90
        while first.poll() is None and second.poll() is None:
            assert time.monotonic() < deadline, "neither build stopped"
            time.sleep(0.1)
        loser, winner = (first, second) if first.poll() is not None else (second, first)
        code, stderr = finish(loser)
        assert code == 1, stderr
        line = one_error_line(code, stderr)
        assert line.startswith(f"{out} is in use by build-instruct (PID {winner.pid}, started ")
        assert line.endswith(f"or choose another --out; if that run is gone, delete {out / LOCK_NAME}")
    finally:
        handler.open()
    code, stderr = finish(winner)
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] and summary["records"] == len(read_jsonl(out / "instruct.jsonl")) > 0
    assert summary["rejects"] == len(read_jsonl(out / "rejects.jsonl"))
    assert not (out / LOCK_NAME).exists() and not list(out.glob("*.partial"))


def test_a_lock_left_by_a_dead_run_is_no_obstacle(
    tmp_path: Path, math_seeds_file: Path, server: FakeOpenAIServer
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    record = {"pid": int(dead.stdout), "host": os.uname().nodename, "command": "build-instruct"}
    (out / LOCK_NAME).write_text(json.dumps(record))
    code, output = invoke(*build_args(math_seeds_file, server.url, out, "--limit", 2))
    assert code == 0, output
    assert (out / "summary.json").is_file() and not (out / LOCK_NAME).exists()


def test_merge_and_push_wait_while_a_run_writes(
    tmp_path: Path, math_seeds_file: Path, server: FakeOpenAIServer
) -> None:
    shards = [tmp_path / f"s{i}" for i in range(2)]
    for i, shard in enumerate(shards):
        code, output = invoke(
            *build_args(math_seeds_file, server.url, shard, "--limit", 4, "--shard", f"{i}/2")
        )
        assert code == 0, output
    with hold(shards[1], "build-instruct"):  # a shard being rebuilt: not read
        line = one_error_line(*invoke("push", shards[1], "--repo-id", "someone/x", "--dry-run"))
        assert line.startswith(f"{shards[1]} is in use by build-instruct (PID {os.getpid()}, started ")
        assert line.endswith("wait for it to finish or stop it, then push, or choose another --out; if that "
                             f"run is gone, delete {shards[1] / LOCK_NAME}")  # fmt: skip
        assert not (shards[1] / "_hub").exists()
        line = one_error_line(*invoke("merge", *shards, "--out", tmp_path / "merged"))
        assert line.startswith(f"{shards[1]} is in use by build-instruct")
    merged = tmp_path / "merged"
    merged.mkdir()
    with hold(merged, "merge"):  # the target being written by another merge
        line = one_error_line(*invoke("merge", *shards, "--out", merged))
    assert line.startswith(f"{merged} is in use by merge (PID {os.getpid()}")
    assert invoke("merge", *shards, "--out", merged)[0] == 0


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if fields[0] != "Z" and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def still_alive(pids: list[int], seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := [p for p in pids if Path(f"/proc/{p}").exists() and not _zombie(p)]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    return left


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].split()[0] == "Z"


def interrupted_build(out: Path, stderr: str, failure: str) -> None:
    """Stopped: one line on stderr, the partial summary saying why, the earlier files and no lock."""
    assert "Traceback" not in stderr
    assert [line for line in stderr.splitlines() if line.strip()] == [
        f"{failure[0].upper()}{failure[1:]} - rerun the same command to go on"
    ]
    partial = json.loads((out / "summary.json.partial").read_text())
    assert partial["finished"] is False and partial["failure"] == failure
    assert not (out / "summary.json").exists() and not (out / LOCK_NAME).exists()


@pytest.mark.parametrize(
    ("sig", "status", "failure"),
    [
        (signal.SIGTERM, 143, "interrupted by SIGTERM"),
        (signal.SIGHUP, 129, "interrupted by SIGHUP"),
        (signal.SIGINT, 130, "interrupted by SIGINT (Ctrl-C)"),
    ],
)
def test_a_signal_stops_the_build_like_ctrl_c(
    tmp_path: Path,
    math_seeds_file: Path,
    gated: tuple[FakeOpenAIServer, Gated],
    sig: int,
    status: int,
    failure: str,
) -> None:
    server, handler = gated
    out = tmp_path / "out"
    proc = start_cli(*build_args(math_seeds_file, server.url, out, "--limit", 4))
    try:
        assert handler.reached.wait(90), "no request reached the server"
        children = children_of(proc.pid)
        assert children  # the worker process (and multiprocessing's resource tracker)
        proc.send_signal(sig)
        code, stderr = finish(proc, timeout=30)
    finally:
        handler.open()
    assert code == status, stderr
    interrupted_build(out, stderr, failure)
    assert still_alive(children) == []


@pytest.fixture
def slow_to_stop_vllm(tmp_path: Path) -> Path:
    """A fake ``vllm`` whose process group ignores SIGTERM: stopping it waits out the whole grace period
    (15 s for vLLM) before SIGKILL. The fake server itself runs as its child and answers slowly."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "vllm"
    exe.write_text(
        f"#!{sys.executable}\n"
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "subprocess.Popen([sys.executable, '-m', 'synthmath.testing', *sys.argv[1:]]).wait()\n"
        "time.sleep(600)\n"
    )
    exe.chmod(0o755)
    return bin_dir


def test_ctrl_c_twice_stops_at_once(tmp_path: Path, math_seeds_file: Path, slow_to_stop_vllm: Path) -> None:
    """The first Ctrl-C starts the cleanup, which waits on a server slow to stop; the second ends the
    run at once: exit 130, one line, the partial summary, and no process left (server and workers)."""
    out = tmp_path / "out"
    marker = f"synthmath-twice-{os.getpid()}"
    proc = start_cli("build-instruct", "--serve", marker, "--serve-arg", "--latency 60", "--seeds",
                     math_seeds_file, "--limit", 4, "--out", out, "--no-progress", "--no-contamination",
                     "--no-cache", path=slow_to_stop_vllm)  # fmt: skip
    try:
        log = out / "logs" / "server.log"
        deadline = time.monotonic() + 90
        while not (log.is_file() and "request" in log.read_text()):  # a request is in flight
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no request reached the server"
            time.sleep(0.1)
        family = children_of(proc.pid)
        server_group = [p for p in family if marker.encode() in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert server_group
        family += children_of(server_group[0])
        proc.send_signal(signal.SIGINT)
        while any(b"synthmath.testing" in _cmdline(p) for p in family):  # the stop has begun: SIGTERM sent
            assert time.monotonic() < deadline + 30, "the server was never asked to stop"
            time.sleep(0.05)
        assert proc.poll() is None  # waiting out the grace period for the rest of the server
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code, stderr = finish(proc, timeout=30)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130, stderr
    assert took < 5
    interrupted_build(out, stderr, "interrupted by SIGINT (Ctrl-C), then again: stopped at once")
    assert still_alive(family) == []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_without_flock_the_lock_file_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a file system without flock, a live holder on this host keeps the folder; a dead one does not."""
    import socket

    from synthmath import lock

    monkeypatch.setattr(lock, "fcntl", None)
    host = socket.gethostname()
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": os.getppid(), "host": host, "command": "merge"}))
    busy = rf"in use by merge \(PID {os.getppid()}, started \?\)"
    with pytest.raises(lock.OutputLockedError, match=busy), hold(tmp_path, "build-dpo"):
        pass
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": int(dead.stdout), "host": host}))
    with hold(tmp_path, "build-dpo"):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert not (tmp_path / LOCK_NAME).exists()


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = children_of(todo.pop())
        found += kids
        todo += kids
    return found


def test_sigterm_reaches_a_build_cut_into_task_processes(
    tmp_path: Path, math_seeds_file: Path, gated: tuple[FakeOpenAIServer, Gated]
) -> None:
    """SIGTERM to the driver of a --tasks 2 build: each task stops as on Ctrl-C, and nothing survives."""
    server, handler = gated
    out = tmp_path / "out"
    proc = start_cli(*build_args(math_seeds_file, server.url, out, "--limit", 4, "--tasks", 2))
    try:
        assert handler.reached.wait(120), "no request reached the server"
        family = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        code, stderr = finish(proc, timeout=60)
    finally:
        handler.open()
    assert code == 143, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "Interrupted by SIGTERM - rerun the same command to go on"
    assert not (out / "summary.json").exists() and not (out / LOCK_NAME).exists()
    assert still_alive(family, 10) == []
