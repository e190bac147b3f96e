"""Writing a build to a directory: ``instruct.jsonl`` or ``dpo.jsonl``, ``rejects.jsonl``,
``contamination.jsonl`` with its reports, and ``summary.json``.

Lines go into ``*.partial`` files beside the previous build's files as they are produced. Only a run
that finishes swaps them in: ``summary.json`` is removed first, each file is renamed into place, and the
new ``summary.json`` is written last, so a directory with a ``summary.json`` always holds one finished
run. A run that fails or is interrupted leaves the previous build's files as they were, plus its own
``.partial`` files and ``summary.json.partial`` saying why it stopped.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import IO, Any

from .errors import ConfigError, OutputError, opt
from .location import Location
from .summary import GateSummary, Summary, write_json_atomic

__all__ = ["OUTPUT_FILES", "BuildWriter", "RemoteMirror", "prepare_dir", "write_json_atomic"]

CACHE_NAME = "cache/requests.sqlite"

OUTPUT_FILES = {"instruct": "instruct.jsonl", "dpo": "dpo.jsonl"}


def _os_error(path: Path, e: OSError) -> OutputError:
    if e.errno == errno.ENOSPC:
        return OutputError(f"disk full while writing {path} - free space and rerun: finished work is resumed")
    return OutputError(f"cannot write to {path} ({e.strerror}) - choose another {opt('out')} directory")


def prepare_dir(out: Path) -> None:
    """Create ``out`` and check that it can be written, before any work starts."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file - pass a directory as {opt('out')}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".synthmath-write-test-{os.getpid()}"  # two runs at once must not share it
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise _os_error(out, e) from e


class BuildWriter:
    """The files of one build in ``out``: written as ``.partial``, swapped in by :meth:`commit`."""

    def __init__(self, out: Path, kind: str, *, gate: bool) -> None:
        self.out = out
        self.final = {"record": out / OUTPUT_FILES[kind], "reject": out / "rejects.jsonl"}
        if gate:
            self.final["check"] = out / "contamination.jsonl"
        self.partial = {k: p.with_name(p.name + ".partial") for k, p in self.final.items()}
        self._files: dict[str, IO[str]] = {}
        self.counts = dict.fromkeys(self.final, 0)

    def __enter__(self) -> BuildWriter:
        for key, path in self.partial.items():
            try:
                self._files[key] = path.open("w", encoding="utf-8")
            except OSError as e:
                self.close()
                raise _os_error(path, e) from e
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, kind: str, line: str) -> None:
        """One JSON line to the file of its kind: ``record``, ``reject`` or ``check`` (the gate's rows)."""
        try:
            self._files[kind].write(line + "\n")
        except OSError as e:
            raise _os_error(self.partial[kind], e) from e
        self.counts[kind] += 1

    def close(self) -> None:
        for f in self._files.values():
            with contextlib.suppress(OSError):
                f.close()
        self._files.clear()

    def commit(self, summary: Summary, examples: list[dict[str, Any]] | None = None) -> list[str]:
        """Swap the new files in, then write ``summary.json`` (last: it marks a finished build); returns
        the names of the files written, ``summary.json`` last."""
        self.close()
        names = [p.name for p in self.final.values()]
        try:
            (self.out / "summary.json").unlink(missing_ok=True)
            for key, path in self.final.items():
                os.replace(self.partial[key], path)
            if summary.contamination is not None:
                write_gate_report(self.out, summary.contamination, examples or [])
                names += ["contamination_report.json", "contamination_report.md"]
            (self.out / "summary.json.partial").unlink(missing_ok=True)
        except OSError as e:
            raise _os_error(self.out, e) from e
        summary.write(self.out / "summary.json")
        return [*names, "summary.json"]

    def abort(self, summary: Summary) -> None:
        """Leave the earlier build as it was; say in ``summary.json.partial`` why this one stopped."""
        self.close()
        with contextlib.suppress(OutputError):  # the disk is full: the error that stopped the run says so
            summary.write(self.out / "summary.json.partial")


def write_gate_report(out: Path, gate: GateSummary, examples: list[dict[str, Any]]) -> None:
    """``contamination_report.json`` and ``.md`` for a build's gate (the model and renderer of
    ``check-contamination``'s report)."""
    report = gate.model_copy(update={"examples": examples or gate.examples})
    write_json_atomic(out / "contamination_report.json", report.model_dump(mode="json"))
    tmp = out / "contamination_report.md.tmp"
    tmp.write_text("# Contamination report\n\n" + report.markdown(), encoding="utf-8")
    os.replace(tmp, out / "contamination_report.md")


class RemoteMirror:
    """A build's staging folder kept in step with its remote location (``s3://``, ``gs://``, ...): the
    request cache is copied down before the build (resume on any machine) and up while it runs and when
    it stops; a finished build's files go up with ``summary.json`` last, so that it still marks a
    finished build there."""

    def __init__(self, location: Location, staging: Path, cache: Path | None) -> None:
        self.location, self.staging = location, staging
        # only the default cache (inside the staging folder) travels; a --cache file is the user's own
        self.cache = cache if cache is not None and cache == staging / CACHE_NAME else None

    def pull_cache(self) -> bool:
        """The remote cache copied down when there is no local one; True when it was."""
        if self.cache is None or self.cache.exists():
            return False
        return self.location.get(CACHE_NAME, self.cache)

    def push_cache(self) -> None:
        """A consistent snapshot of the cache (SQLite's backup, safe while it is being written) copied up."""
        if self.cache is None or not self.cache.exists():
            return
        import sqlite3

        snapshot = self.cache.with_name(self.cache.name + ".upload")
        src = sqlite3.connect(self.cache)
        dst = sqlite3.connect(snapshot)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        try:
            self.location.put(snapshot, CACHE_NAME)
        finally:
            snapshot.unlink(missing_ok=True)

    def publish(self, names: list[str]) -> None:
        """The finished build's files up, the earlier ``summary.json`` removed first and the new one last."""
        self.location.remove("summary.json")
        for name in names:
            if name != "summary.json":
                self.location.put(self.staging / name, name)
        self.push_cache()
        self.location.remove("summary.json.partial")
        self.location.put(self.staging / "summary.json", "summary.json")

    def abort(self) -> None:
        """What a stopped build leaves: its cache and ``summary.json.partial``, so a rerun resumes."""
        with contextlib.suppress(OutputError):
            self.push_cache()
            partial = self.staging / "summary.json.partial"
            if partial.exists():
                self.location.put(partial, "summary.json.partial")
