"""Progress on long runs: a live bar on a terminal, a log line every few seconds otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import BuildStats
    from .engine import EngineStats

__all__ = ["ProgressReporter"]


class ProgressReporter:
    """Call :meth:`update` as often as you like; it redraws at most a few times a second."""

    def __init__(self, total: int | None, *, enabled: bool = True, interval: float = 10.0) -> None:
        self.total = total
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self.interval = interval if not self.tty else 0.25
        self._last = 0.0
        self._start = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressReporter:
        if self.tty:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("[bold]seeds"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}" if self.total else "{task.completed}"),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("build", total=self.total, info="")
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, stats: BuildStats, engine: EngineStats, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self._start, 1e-9)
        info = (
            f"kept {stats.records} | {engine.requests / elapsed:.1f} req/s | "
            f"{engine.completion_tokens / elapsed:.0f} out tok/s"
        )
        if self._bar is not None:
            self._bar.update(self._task, completed=stats.seeds, info=info)
        else:
            total = f"/{self.total}" if self.total else ""
            print(
                f"synthmath: seeds {stats.seeds}{total} | {info} | {elapsed:.0f}s",
                file=sys.stderr,
                flush=True,
            )
