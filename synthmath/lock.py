"""One run per output folder at a time: a build or a merge holds ``OUT/.synthmath.lock`` while it writes.

The lock is an exclusive ``flock`` on that file, so the kernel frees it when its holder dies, however it
dies (``kill -9`` included): a lock left behind is never mistaken for a live one. The file says who holds
it (PID, host, start time, command), so a second run on the same folder stops at once with one line
naming the holder and how to clear the lock. Where ``flock`` is not available (some network file
systems), the file alone is the lock: a holder whose PID is gone on this host is stale and taken over;
one on another host cannot be checked, and the message says to delete the file if nothing runs there.

(``filelock`` truncates the lock file on every attempt, which would erase the holder's name that the
second run needs for its message; hence this small module.)
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import OutputError, OutputLockedError, opt
from .stopping import last_words

try:
    import fcntl
except ImportError:  # Windows: the file alone is the lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "OutputLockedError", "check_free", "hold"]

log = logging.getLogger(__name__)

LOCK_NAME = ".synthmath.lock"
_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)


def _me(what: str) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": what,
    }


def _holder(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _stale(holder: dict[str, Any]) -> bool:
    """A holder on this host whose process is gone."""
    pid = holder.get("pid")
    return holder.get("host") == socket.gethostname() and isinstance(pid, int) and not _alive(pid)


def _locked_error(folder: Path, holder: dict[str, Any], verb: str) -> OutputLockedError:
    path = folder / LOCK_NAME
    if holder.get("pid"):
        where = "" if holder.get("host") == socket.gethostname() else f" on host {holder.get('host')}"
        who = (
            f"{holder.get('command') or 'a synthmath run'} (PID {holder['pid']}{where}, "
            f"started {holder.get('started_at', '?')})"
        )
    else:
        who = "another synthmath run (just starting)"
    return OutputLockedError(
        f"{folder} is in use by {who} - wait for it to finish or stop it, then {verb}, or choose another "
        f"{opt('out')}; if that run is gone, delete {path}"
    )


@contextlib.contextmanager
def hold(folder: Path, what: str) -> Iterator[None]:
    """Hold ``folder``'s lock for the block (``what`` names the run in the holder's record); raises
    :class:`OutputLockedError` at once when another run holds it. ``folder`` must exist."""
    path = folder / LOCK_NAME
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise OutputError(f"cannot write to {folder} ({e.strerror}) - choose another {opt('out')}") from e
        if _lock(fd, path):
            if os.path.exists(path) and os.stat(path).st_ino == os.fstat(fd).st_ino:
                break  # the file we locked is still the one at the path (its holder did not just remove it)
            os.close(fd)
            continue
        os.close(fd)
        raise _locked_error(folder, _holder(path), "rerun")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(_me(what)) + "\n").encode())
        with last_words(lambda why: path.unlink(missing_ok=True)):  # a stop at once leaves no lock file
            yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # before the lock goes: a run that opens the path now gets a fresh file
        os.close(fd)


def _lock(fd: int, path: Path) -> bool:
    """True when this process now holds the lock on ``fd``."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as e:
            if e.errno in _BUSY:
                return False
            log.debug("no flock on %s (%s): the lock file alone decides", path, e)
    holder = _holder(path)  # no flock here: a live holder's record is the lock (best effort)
    if not holder.get("pid"):
        return True
    if _stale(holder):
        log.warning("taking over %s: its holder (PID %s) is no longer running", path, holder["pid"])
        return True
    return False


def check_free(folder: Path, verb: str) -> None:
    """Raise :class:`OutputLockedError` when a run is writing ``folder`` now (for readers: merge, push)."""
    path = folder / LOCK_NAME
    if not path.is_file():
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return  # nobody holds it: a file left by a run that died
            except OSError as e:
                if e.errno not in _BUSY:
                    return
        elif _stale(_holder(path)) or not _holder(path):
            return
        raise _locked_error(folder, _holder(path), verb)
    finally:
        os.close(fd)
