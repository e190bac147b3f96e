"""What a fake model's handler returns: the replies and faults that
:class:`~synthmath.testing.FakeOpenAIServer` sends over HTTP and
:class:`~synthmath.fake_engine.FunctionEngine` returns in process. Their own module, so that the
server, the in-process engine and the fake model can all use them without importing one another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CutConnection", "HTTPFailure", "Handler", "RawReply", "Reply"]


@dataclass
class Reply:
    """The texts of the choices (one per ``n``; None is sent as ``"content": null``) and, optionally,
    their finish reasons. ``Reply([])`` is a 200 with ``"choices": []``."""

    texts: list[str | None]
    finish_reasons: list[str] | None = None


@dataclass
class RawReply:
    """A reply sent as it is, for faults a real server shows now and then: ``body`` (a dict is sent as
    JSON, bytes as they are) with ``status``; ``cut_after`` sends only that many bytes of the body, then
    closes the connection, while the headers announce the whole body."""

    body: dict[str, Any] | bytes
    status: int = 200
    cut_after: int | None = None


@dataclass
class HTTPFailure:
    status: int
    message: str = "fake failure"


@dataclass
class CutConnection:
    """Close the connection without answering."""


Handler = Callable[[dict[str, Any]], "Reply | RawReply | HTTPFailure | CutConnection | str | list[str]"]
