"""Logging for the command line: every line printed once, synthmath's own with a ``synthmath:`` prefix.

``datasets`` and ``huggingface_hub`` attach their own handlers to their loggers, and their records still
propagate to the root logger; a plain root handler (``logging.basicConfig``) prints each of their lines
a second time. The root handler here skips any record that a handler further down already printed.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

__all__ = ["configure_logging"]

_FORMAT = "synthmath: %(message)s"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the call (test runners swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ assigns it; sys.stderr wins
        pass


def _not_printed_yet(record: logging.LogRecord) -> bool:
    """False when a logger between the record's and the root has a handler of its own (it printed it)."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None and logger is not logging.root:
        if logger.handlers:
            return False
        if not logger.propagate:
            return False
        logger = logger.parent
    return True


def configure_logging(verbose: bool = False) -> None:
    """Print warnings (and with ``verbose`` synthmath's debug lines) on stderr, each line once.

    Replaces ``logging.basicConfig`` in the CLI; calling it again replaces the previous handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _StderrHandler):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(_not_printed_yet)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("synthmath").setLevel(logging.DEBUG if verbose else logging.WARNING)
