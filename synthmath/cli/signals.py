"""Signals while a command runs: SIGTERM (what ``kill`` and schedulers send) and SIGHUP (a closed
terminal) stop it as Ctrl-C does, and a second signal stops it at once.

The first SIGINT, SIGTERM or SIGHUP raises :class:`~synthmath.stopping.Stopped` in the main thread: the
run unwinds, writes ``summary.json.partial``, stops its worker processes and any server it started, and
the CLI exits 128 + the signal (130, 143, 129) with one line. A second signal while that cleanup runs
does not interrupt the cleanup halfway (which printed tracebacks): it ends the process at once through
:func:`~synthmath.stopping.stop_now` (partial summary, children killed), with one line and 128 + signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from ..stopping import Stopped, stop_now

__all__ = ["Stopping", "stopping_on_signals"]

_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


class Stopping:
    """What the handler saw: the signals received, and whether the user has been told."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.said = False

    def say(self, line: str) -> None:
        if not self.said:
            self.said = True
            with contextlib.suppress(OSError):  # a closed terminal (SIGHUP) may have taken stderr with it
                os.write(2, f"{line[0].upper()}{line[1:]} - rerun the same command to go on\n".encode())

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        if len(self.received) == 1:
            raise Stopped(signum)
        first, name = self.received[0], signal.Signals(signum).name
        why = f"{Stopped(first)}, then {'again' if signum == first else 'by ' + name}: stopped at once"
        stop_now(why)
        self.say(why)
        os._exit(128 + signum)


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[Stopping]:
    """For the block: the first signal raises Stopped, the second ends the process at once."""
    state = Stopping()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous: dict[int, Any] = {}
    try:
        for sig in _SIGNALS:
            previous[sig] = signal.signal(sig, state.handle)
        yield state
    finally:
        if not state.received:  # once stopped, the process is on its way out: a second signal still
            for sig, handler in previous.items():  # stops it at once, even while the interpreter exits
                signal.signal(sig, handler)
