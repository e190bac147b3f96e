"""Engines for OpenAI-compatible servers, as every part of synthmath makes them: the build's (through
:mod:`.factory`), the contamination judge's and a managed llama.cpp server's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Engine
from .cache import CachedEngine, RequestCache

__all__ = ["server_engine"]


def server_engine(
    base_urls: list[str],
    *,
    api_key: str = "EMPTY",
    model: str | None = None,
    concurrency: int = 64,
    max_retries: int = 5,
    timeout: float = 600.0,
    managed: dict[str, Any] | None = None,
    cache: str | Path | None = None,
) -> Engine:
    """An engine for OpenAI-compatible servers, behind the request cache ``cache`` when given (the
    contamination judge and a managed llama.cpp server are made here too)."""
    from .openai_server import OpenAIServerEngine  # the openai client: imported when a run needs it

    engine: Engine = OpenAIServerEngine(
        base_urls,
        api_key=api_key,
        model=model,
        concurrency=concurrency,
        max_retries=max_retries,
        timeout=timeout,
        managed=managed,
    )
    return CachedEngine(engine, RequestCache(cache)) if cache else engine
