"""A fault server's replies: what a real server or the network sends now and then, on top of a handler.

Each fault is a reply a client must not take for an answer: a 200 with ``"choices": []``, with
``"content": null``, with a body that is not JSON, a reply whose body stops halfway (the connection
closed), replies cut off at ``max_tokens``, empty texts, and a request that hangs until released.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from typing import Any

from synthmath.testing import CutConnection, RawReply, Reply

KINDS = ("no_choices", "null_content", "not_json", "cut_mid_body", "cut_off", "empty_text", "hang")


class FaultyReplies:
    """Wraps a handler: each request gets a fault from ``faults`` (kind -> share of requests, drawn at
    random with ``seed``) or the wrapped handler's reply. ``release()`` frees hanging requests;
    ``injected`` counts the faults sent."""

    def __init__(self, inner: Any, faults: dict[str, float], seed: int = 0) -> None:
        unknown = set(faults) - set(KINDS)
        assert not unknown, f"unknown faults {unknown}"
        self.inner = inner
        self.faults = faults
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()

    def _draw(self) -> str | None:
        with self.lock:
            r = self.rng.random()
            for kind, share in self.faults.items():
                if r < share:
                    self.injected[kind] += 1
                    return kind
                r -= share
        return None

    def __call__(self, body: dict[str, Any]) -> Any:
        kind = self._draw()
        n = int(body.get("n") or 1)
        if kind is None:
            return self.inner(body)
        if kind == "no_choices":
            return Reply([])
        if kind == "null_content":
            return Reply([None] * n)
        if kind == "not_json":
            return RawReply(b"<html><body><h1>502 Bad Gateway</h1></body></html>")
        if kind == "cut_mid_body":
            full = {"choices": [{"index": 0, "message": {"content": "x" * 200}, "finish_reason": "stop"}]}
            return RawReply(json.dumps(full).encode(), cut_after=40)
        if kind == "empty_text":
            return Reply([""] * n)
        if kind == "hang":
            self.released.wait(60)
            return CutConnection()
        reply = self.inner(body)  # cut_off: the start of a real reply, stopped at max_tokens
        texts = reply.texts if isinstance(reply, Reply) else [str(reply)] * n
        return Reply([(t or "")[:40] for t in texts], finish_reasons=["length"] * len(texts))


def one_error_line(code: int, output: str) -> str:
    """The single ``Error: ...`` line of a failed command (exit 1, no traceback, no second error)."""
    assert code == 1, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, output
    return errors[0].removeprefix("Error: ")
