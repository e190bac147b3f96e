"""Checking a build before trusting it: ``merge`` and ``push`` read a build's files, and a file cut short
(a copy that stopped, a full disk, a half-written last line) must not pass for the whole build.

A finished build's ``summary.json`` says how many records and rejects it wrote (and how many gate rows:
one per seed and rephrased question checked). :func:`check_build` reads each file once: every line must be
a JSON object (a record with its ``id`` and ``seed_id``), and the counts must match the summary's.
Otherwise one line names the file, the line and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError, opt
from .summary import Summary

__all__ = ["check_build"]

_REDO = f"rerun its build with the same {opt('out')}: finished requests come from the cache"


def check_build(build_dir: Path, summary: Summary | Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` unless ``build_dir``'s files are whole and match ``summary``."""
    data = summary.model_dump() if isinstance(summary, Summary) else dict(summary)
    files = data.get("files") or {}
    expected: list[tuple[str, int | None, tuple[str, ...], str]] = [
        (files.get("records") or "", data.get("records"), ("id", "seed_id"), "records"),
        (files.get("rejects") or "rejects.jsonl", data.get("rejects"), (), "rejects"),
    ]
    gate = data.get("contamination")
    if isinstance(gate, Mapping):
        rows = int(gate.get("seeds_checked") or 0) + int(gate.get("questions_checked") or 0)
        expected.append(("contamination.jsonl", rows, (), "contamination check rows"))
    for name, count, keys, what in expected:
        if not name:
            continue
        path = build_dir / name
        if not path.is_file():
            raise ConfigError(f"{path}: missing, though summary.json lists it - {_REDO}")
        lines = _count_lines(path, keys)
        if count is not None and lines != count:
            raise ConfigError(
                f"{path}: {lines} {what}, but summary.json says {count} - the file was cut short or "
                f"changed after the build; {_REDO}"
            )


def _count_lines(path: Path, keys: tuple[str, ...]) -> int:
    """The JSON lines of ``path``, each checked to be an object holding ``keys``."""
    n = 0
    try:
        with path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as e:
                    cut = "" if line.endswith("\n") else " (the last line, cut short)"
                    raise ConfigError(f"{path}:{lineno}: not a whole JSON line{cut}: {e} - {_REDO}") from None
                if not isinstance(row, dict) or any(k not in row for k in keys):
                    want = f"a JSON object with {' and '.join(keys)}" if keys else "a JSON object"
                    raise ConfigError(f"{path}:{lineno}: not {want} - {_REDO}")
                n += 1
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text - {_REDO}") from None
    return n
