"""A persistent request cache: what makes a rerun after a crash cost nothing.

Responses are stored in SQLite, keyed by the exact request (model, messages, n, sampling parameters,
seed) and not by the server that answered. Each response is committed as it arrives (WAL mode), so a
``kill -9`` loses at most the requests that were in flight. Failed requests, and replies with fewer
choices than asked for, are not stored: a rerun tries them again. Changing a prompt changes the
messages of the requests it makes, and only those.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import OutputError, clip, opt
from .base import ChatRequest, ChatResult, Choice, EngineStats

__all__ = ["CachedEngine", "RequestCache", "request_key"]


def request_key(model: str, request: ChatRequest) -> str:
    """The cache key: a hash of everything that decides the response (not the step name or server)."""
    payload = {
        "model": model,
        "messages": request.messages,
        "n": request.n,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "extra_body": request.extra_body,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class RequestCache:
    """``key -> ChatResult`` in one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses"
                " (key TEXT PRIMARY KEY, response TEXT NOT NULL, created REAL)"
            )
        except sqlite3.Error as e:
            full = "full" in str(e)
            fix = "free some space and rerun, or pass" if full else "pass"
            where = "" if full else " in a folder you can write"
            raise OutputError(
                f"cannot open the request cache {clip(self.path, 200)} ({_why(self.path, e)}) - {fix} "
                f"{opt('cache', 'PATH')}{where}, or {opt('use_cache', False)}"
            ) from e

    def get(self, key: str) -> ChatResult | None:
        row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row[0])
        return ChatResult(
            choices=[Choice(**c) for c in data["choices"]],
            prompt_tokens=data["prompt_tokens"],
            completion_tokens=data["completion_tokens"],
        )

    def put(self, key: str, result: ChatResult) -> None:
        data = {
            "choices": [asdict(c) for c in result.choices],
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
        }
        self._db.execute(
            "INSERT OR REPLACE INTO responses (key, response, created) VALUES (?, ?, ?)",
            (key, json.dumps(data, ensure_ascii=False), time.time()),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def _why(path: Path, e: sqlite3.Error) -> str:
    """SQLite's reason, or the file system's when SQLite only says it could not open the file (a
    read-only file system, no permission)."""
    if "unable to open" not in str(e):
        return str(e)
    probe = path.parent / f".synthmath-write-test-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as oe:
        return f"{oe.strerror or oe}: {path.parent} cannot be written"
    return str(e)


class CachedEngine:
    """Wraps an engine: answers a request from the cache when it can, stores every new response."""

    def __init__(self, inner: Any, cache: RequestCache) -> None:
        self.inner = inner
        self.cache = cache
        self.hits = 0

    @property
    def model(self) -> str:
        return str(self.inner.model)

    @property
    def stats(self) -> EngineStats:
        stats: EngineStats = self.inner.stats
        stats.cache_hits = self.hits
        return stats

    async def start(self) -> None:
        await self.inner.start()

    async def _get(self, key: str) -> ChatResult | None:
        return self.cache.get(key)

    async def _put(self, key: str, result: ChatResult) -> None:
        self.cache.put(key, result)

    async def complete(self, request: ChatRequest) -> ChatResult:
        key = request_key(self.inner.model, request)
        cached = await self._get(key)
        if cached is not None:
            self.hits += 1
            stats = self.inner.stats
            stats.cached_prompt_tokens += cached.prompt_tokens
            stats.cached_completion_tokens += cached.completion_tokens
            return cached
        result: ChatResult = await self.inner.complete(request)
        if result.error is None and len(result.choices) >= request.n:  # a rerun asks again for the rest
            await self._put(key, result)
        return result

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = self.inner.info()
        return info

    async def close(self) -> None:
        try:
            await self.inner.close()
        finally:
            self.cache.close()
