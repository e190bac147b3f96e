"""Routing over the servers of an :class:`~synthmath.engine.openai_server.OpenAIServerEngine`: each
server's health (one that stops answering is drained, then probed again after a growing pause), the
choice of the server for the next request, and what went wrong with one, in words."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import Sequence

import httpx2  # the openai client's HTTP library
import openai

__all__ = ["Server", "cause", "excerpt", "pick", "refused", "server_version", "short"]

log = logging.getLogger(__name__)

_DRAIN_AFTER = 3  # consecutive connection failures before a server is drained
_MAX_DRAIN = 60.0  # longest pause before probing a drained server again


class Server:
    """One server: its client, the requests it has outstanding, what it serves, and its health."""

    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        self.base_url = base_url
        self.client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)
        self.outstanding = 0
        self.models: list[str] = []
        self.max_model_len: dict[str, int] = {}
        self.version: str | None = None  # what the server says of its version (vLLM: GET /version)
        self.failures = 0  # consecutive connection failures
        self.down_until = 0.0  # drained until then; the first request after it is the probe

    def failed(self) -> None:
        if self.down_until > time.monotonic():
            return  # requests sent before the drain began: no news about the server since
        self.failures += 1
        if self.failures >= _DRAIN_AFTER:
            pause = min(_MAX_DRAIN, 2.0 ** (self.failures - _DRAIN_AFTER))
            self.down_until = time.monotonic() + pause
            log.warning("%s stopped answering: draining it, next probe in %.0fs", self.base_url, pause)

    def answered(self) -> None:
        if self.failures >= _DRAIN_AFTER:
            log.warning("%s answers again", self.base_url)
        self.failures = 0
        self.down_until = 0.0


async def pick(servers: Sequence[Server]) -> Server:
    """The answering server with the fewest requests outstanding; waits when all are drained."""
    while True:
        now = time.monotonic()
        up = [s for s in servers if s.down_until <= now]
        if up:
            return min(up, key=lambda s: s.outstanding)
        await asyncio.sleep(min(s.down_until for s in servers) - now)


def server_version(base_url: str) -> str | None:
    """The version a vLLM server reports at ``/version`` (beside ``/v1``), or None."""
    root = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url
    try:
        with urllib.request.urlopen(f"{root}/version", timeout=5) as resp:
            data = json.loads(resp.read())
        return str(data["version"]) if isinstance(data, dict) and "version" in data else None
    except Exception:
        return None


def refused(e: BaseException) -> bool:
    """A connection that could not be made (nothing listens), as opposed to one dropped mid-reply."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, (httpx2.ConnectError, ConnectionRefusedError)):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def cause(e: BaseException) -> str:
    """The innermost message of an error chain: the HTTP library's, under the client's 'Connection error.'"""
    inner: BaseException = e
    while inner.__cause__ is not None or inner.__context__ is not None:
        nxt = inner.__cause__ or inner.__context__
        assert nxt is not None
        inner = nxt
    return short(inner)


def excerpt(body: bytes, limit: int = 80) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return repr(text[:limit] + ("..." if len(text) > limit else "")) if text else "(empty)"


def short(e: BaseException | None) -> str:
    if e is None:
        return ""
    if isinstance(e, openai.APIStatusError):
        body = e.body
        msg = body.get("message") if isinstance(body, dict) else None
        text = str(msg or e.message)
    else:
        text = str(e) or type(e).__name__
    text = " ".join(text.split())
    return text[:300]
