"""The index cache's rules: one process builds a missing piece while the others wait for it, and every
piece is written whole (a temporary file renamed) so that a reader never sees half of one.

A build's worker processes all start their checker at once; on a fresh cache each would otherwise
build the same index side by side, multiplying the first build's cost by the number of workers.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["build_once", "load_pickle", "locked", "no_collections"]


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block; no lock where the OS has
    no ``fcntl`` (each process then builds its own copy, which is only slower)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build_once(path: Path | None, load: Callable[[Path], Any], build: Callable[[], Any],
               save: Callable[[Any, Path], None]) -> Any:  # fmt: skip
    """``load(path)`` when it exists, else ``build()``, saved with ``save(value, tmp)`` and renamed to
    ``path``; under a lock, so that of several processes only the first builds."""
    if path is None:
        return build()
    if path.is_file():
        return load(path)
    with locked(path.with_name(path.name + ".lock")):
        if path.is_file():  # another process built it while this one waited
            return load(path)
        value = build()
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.partial{path.suffix}")
        save(value, tmp)
        tmp.replace(path)
        return value


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def save_json(value: Any, path: Path) -> None:
    path.write_text(json.dumps(value), encoding="utf-8")


def load_pickle(path: Path) -> Any:
    """The object in ``path``, read with the garbage collector paused: an index is a million objects,
    and the collections that creating them triggers would walk all of them, again and again."""
    with path.open("rb") as f, no_collections():
        return pickle.load(f)


@contextlib.contextmanager
def no_collections() -> Iterator[None]:
    """The garbage collector paused (a context manager, or a decorator: ``@no_collections()``)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def save_pickle(value: Any, path: Path) -> None:
    with path.open("wb") as f:
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
