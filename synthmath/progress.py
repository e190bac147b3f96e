"""Progress on long runs: a live rich bar on a terminal, a plain line every few seconds otherwise.

The counter is seeds *finished* (their records and rejects handed to the writer), never seeds sent, and
the ETA comes from the finished rate. Beside it: seeds in flight, requests/s, output tokens/s, and the
records and rejects written.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .config import BuildConfig
    from .engine import EngineStats
    from .pipeline.stats import BuildStats

__all__ = ["ProgressReporter", "build_line", "estimate_total"]


def estimate_total(config: BuildConfig) -> int | None:
    """How many seeds the run will see, for the ETA (None when it cannot tell cheaply)."""
    total: int | None = None
    src = Path(config.seeds) if config.seeds else None
    if src is not None and src.suffix in (".jsonl", ".ndjson") and src.is_file():
        with src.open("rb") as f:
            total = sum(1 for line in f if line.strip())
    elif src is not None and src.is_dir():
        split_dir = src / config.split if (src / config.split).is_dir() else src
        total = sum(1 for _ in split_dir.glob("*/*.json"))
    for cap in (config.sample, config.limit):
        if cap is not None:
            total = cap if total is None else min(total, cap)
    shard = config.shard_tuple()
    if total is not None and shard is not None:
        total = -(-total // shard[1])  # about 1/N of the seeds fall in each shard
    return total


def build_line(stats: BuildStats, engine: EngineStats, elapsed: float, written: dict[str, int]) -> str:
    """The figures beside a build's counter: in flight, kept, rejected, requests/s, output tokens/s.

    ``written``: the lines written so far by kind (``record``, ``reject``): kept and rejected count what
    the files hold, like the counter, not candidates checked but not yet written.
    """
    in_flight = max(0, stats.seeds + sum(stats.seeds_skipped.values()) - stats.seeds_finished)
    kept, rejected = written.get("record", 0), written.get("reject", 0)
    elapsed = max(elapsed, 1e-9)
    return (
        f"{in_flight} in flight | kept {kept} | rejected {rejected} | "
        f"{engine.requests / elapsed:.1f} req/s | {engine.completion_tokens / elapsed:.0f} out tok/s"
    )


def _env_interval() -> float:
    raw = os.environ.get("SYNTHMATH_PROGRESS_INTERVAL", "")
    try:
        value = float(raw) if raw else 10.0
    except ValueError:
        raise ConfigError(
            f"SYNTHMATH_PROGRESS_INTERVAL={raw!r} is not a number - give seconds between progress lines"
        ) from None
    return max(value, 0.0)


class ProgressReporter:
    """One progress display for every long job (builds, contamination checks). Call :meth:`update` as
    often as you like with the count of finished units and a line of figures; it redraws at most a few
    times a second on a terminal, every ``interval`` seconds otherwise (default
    ``$SYNTHMATH_PROGRESS_INTERVAL``, else 10)."""

    def __init__(
        self,
        total: int | None,
        *,
        enabled: bool = True,
        interval: float | None = None,
        unit: str = "seeds done",
    ) -> None:
        self.total = total
        self.enabled = enabled
        self.unit = unit
        self.tty = enabled and sys.stderr.isatty()
        if interval is None:  # seconds between plain lines: $SYNTHMATH_PROGRESS_INTERVAL, else 10
            interval = _env_interval()
        self.interval = interval if not self.tty else 0.25
        self._start = time.monotonic()
        self._last = self._start if not self.tty else 0.0  # the first plain line after one interval
        self._bar: Any = None
        self._task: Any = None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def __enter__(self) -> ProgressReporter:
        if self.tty:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn(f"[bold]{self.unit}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}" if self.total else "{task.completed}"),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),  # from the finished rate: rich estimates from completed steps
                transient=False,
                refresh_per_second=4,  # live even while nothing finishes
            )
            self._bar.start()
            self._task = self._bar.add_task("work", total=self.total, info="")
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def eta(self, done: int) -> str:
        if not self.total or not done:
            return "?"
        left = self.elapsed / done * max(self.total - done, 0)
        return f"{left:.0f}s"

    def update(self, done: int, info: str | Callable[[], str] = "", *, force: bool = False) -> None:
        """``done`` units finished; ``info`` (or a function that makes it, called only on a redraw)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        text = info() if callable(info) else info
        if self._bar is not None:
            self._bar.update(self._task, completed=done, info=text)
        else:
            total = f"/{self.total}" if self.total else ""
            print(
                f"synthmath: {self.unit} {done}{total} | {text} | {self.elapsed:.0f}s, ETA {self.eta(done)}",
                file=sys.stderr,
                flush=True,
            )
