"""Stopping a run from outside: a signal that unwinds it like Ctrl-C, and a stop at once that leaves
nothing running.

:class:`Stopped` is the exception a signal handler raises (the CLI's, for SIGINT, SIGTERM and SIGHUP): a
``KeyboardInterrupt``, so every ``finally`` and ``with`` that cleans up after Ctrl-C cleans up after it
too (the partial summary, the worker processes, a managed server). When that cleanup itself is cut
short (a second Ctrl-C), :func:`stop_now` ends the process at once: it runs the *last words* the run
registered (:func:`last_words`: the partial summary, the output lock), kills the worker processes and
managed servers outright, and exits without unwinding.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator

__all__ = ["Stopped", "last_words", "stop_now"]

log = logging.getLogger(__name__)

_last: list[Callable[[str], None]] = []


class Stopped(KeyboardInterrupt):
    """The run was stopped by a signal; ``status`` is the exit status it calls for (128 + signal)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.status = 128 + signum
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}" + (" (Ctrl-C)" if signum == signal.SIGINT else ""))


@contextlib.contextmanager
def last_words(say: Callable[[str], None]) -> Iterator[None]:
    """While the block runs, ``say(why)`` is called if the process must stop at once (:func:`stop_now`)."""
    _last.append(say)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            _last.remove(say)


def stop_now(why: str) -> None:
    """Run the last words (newest first), kill every child this process started and its managed servers,
    without waiting for them."""
    for say in reversed(list(_last)):
        try:
            say(why)
        except Exception as e:  # the others still get their turn
            log.debug("last words failed: %s", e)
    from .engine import _process

    _process.kill_all()
    for child in multiprocessing.active_children():  # the worker pool's processes
        if child.pid:
            with contextlib.suppress(OSError):
                os.kill(child.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):  # unlink the pool's semaphores, or their tracker warns on stderr
        multiprocessing.util._run_finalizers(0)  # type: ignore[attr-defined]
