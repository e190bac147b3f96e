"""Starting worker processes that never run the caller's main module.

multiprocessing's ``spawn`` start method, the one safe choice in a process with an event loop, threads
and open sockets, makes every new process import the parent's ``__main__`` again (as ``__mp_main__``)
so that functions defined there can be unpickled. A script without an ``if __name__ == "__main__":``
guard then runs again in each worker, whose build starts workers of its own: multiprocessing stops it
("... before the current process has finished its bootstrapping phase") and the pool breaks.

synthmath's workers run synthmath's own functions only, so they need nothing from ``__main__``. The
context here hides ``__main__``'s file and module name while a process is launched, which is what
multiprocessing reads to decide what the child imports: the child then starts with a clean
``__main__`` whatever the caller is (a script, ``python -c``, a notebook, a thread, ``python -m``).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any

__all__ = ["clean_spawn_context"]

_launching = threading.Lock()  # two pools starting workers in two threads must not interleave
_MISSING = object()


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """While launching: ``__main__`` without ``__file__`` and ``__spec__``, so the child imports none."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    with _launching:
        saved = {k: main.__dict__.get(k, _MISSING) for k in ("__file__", "__spec__")}
        main.__dict__.pop("__file__", None)
        main.__dict__["__spec__"] = None
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is _MISSING:
                    main.__dict__.pop(key, None)
                else:
                    main.__dict__[key] = value


class _CleanSpawnProcess(SpawnProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        with _main_hidden():
            return SpawnProcess._Popen(process_obj)


class _CleanSpawnContext(SpawnContext):
    Process = _CleanSpawnProcess


_context = _CleanSpawnContext()


def clean_spawn_context() -> SpawnContext:
    """A ``spawn`` context whose processes never import the caller's ``__main__``."""
    return _context
