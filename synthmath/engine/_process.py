"""Process plumbing for managed servers: ports, readiness probes, process groups and last-resort stops."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, Protocol


class _Stoppable(Protocol):
    def stop(self) -> None: ...


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def answers(base_url: str) -> bool:
    """Whether the server is up: ``GET /v1/models`` answers 200 (or refuses our key, which is its job)."""
    try:
        with _no_proxy.open(f"{base_url}/models", timeout=5) as resp:
            return int(resp.status) == 200
    except urllib.error.HTTPError as e:
        return e.code in (401, 403)
    except (OSError, ValueError):
        return False


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies, which hold nothing, do not count)."""
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp ...
            if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
                return True
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# servers running now, stopped at interpreter exit if their owner could not (atexit backstop)
_live: set[_Stoppable] = set()
_live_lock = threading.Lock()
_previous_sigterm: Any = None


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # unwind like Ctrl-C does, so every `with` and `finally` stops its server
    raise SystemExit(128 + signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def register(server: _Stoppable) -> None:
    global _previous_sigterm
    with _live_lock:
        first = not _live
        _live.add(server)
        if first and _in_main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            _previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)


def unregister(server: _Stoppable) -> None:
    global _previous_sigterm
    with _live_lock:
        _live.discard(server)
        if _live or _previous_sigterm is None or not _in_main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, _previous_sigterm)
        _previous_sigterm = None


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        server.stop()


def kill_all() -> None:
    """SIGKILL every live server's process group now, without waiting (a stop that cannot wait)."""
    for server in list(_live):
        pid = getattr(getattr(server, "process", None), "pid", None)
        if pid:
            killpg(pid, signal.SIGKILL)  # start_new_session: the group's id is the leader's pid


def parent_death_signal() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when this process dies (even by SIGKILL)."""
    # Only from the main thread: Linux sends the signal when the *thread* that forked exits.
    if not sys.platform.startswith("linux") or not _in_main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec
