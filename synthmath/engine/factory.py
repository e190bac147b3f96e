"""The one place an engine is made: ``open_engine(config)`` for every command and the library.

It starts what the config asks for (a managed server for ``local`` / ``serve``, OpenAI-compatible servers
at ``base_url``, or vLLM in this process), wraps it in the request cache, starts it and closes it after.
The config is only read, never changed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import Engine
from .cache import CachedEngine, RequestCache
from .local import check_local_backend, open_local_engine
from .managed import ManagedServer
from .remote import server_engine

if TYPE_CHECKING:
    from ..config import BuildConfig

__all__ = ["check_backend", "make_engine", "open_engine", "server_engine"]


def make_engine(
    config: BuildConfig, *, base_urls: list[str] | None = None, managed: dict[str, Any] | None = None
) -> Engine:
    """The engine the config asks for, not started: vLLM in this process, or OpenAI-compatible servers
    (``base_urls``/``model`` override the config's, for a server this run started)."""
    if config.backend == "vllm":
        from .vllm_engine import VLLMEngine

        return VLLMEngine(config.model, engine_args=config.vllm_args, max_batch=config.concurrency)
    return server_engine(
        base_urls or config.base_url,
        api_key=config.api_key,
        model=None if base_urls else config.model,
        concurrency=config.concurrency,
        max_retries=config.max_retries,
        timeout=config.timeout,
        managed=managed,
    )


def check_backend(config: BuildConfig) -> None:
    """Fail at once, before any Hub call or server start, when the backend is not installed."""
    if config.local:
        check_local_backend(config.local_backend, config.model)
    elif config.backend == "vllm":
        from .vllm_engine import _import_vllm

        _import_vllm()


@contextlib.asynccontextmanager
async def open_engine(
    config: BuildConfig, *, log_path: Path | None = None, cache: bool = True
) -> AsyncIterator[Engine]:
    """A started engine for ``config``; closed (and a managed server stopped) when the block ends.

    ``log_path``: where a managed server (``local`` / ``serve``) writes its log. ``cache=False`` leaves
    the request cache out even when the config has one.
    """
    async with contextlib.AsyncExitStack() as stack:
        server = ManagedServer.from_config(config, log_path=log_path)
        engine: Engine
        if config.local and server is None:  # SmolLM2 on the CPU, in this process (transformers, vLLM)
            local = open_local_engine(config.local_backend, config.model, vllm_args=config.vllm_args)
            engine = await stack.enter_async_context(local)
        elif server is not None:
            await stack.enter_async_context(server)
            engine = make_engine(config, base_urls=[server.url], managed=server.info())
        else:
            engine = make_engine(config)
        cache_path = config.cache_path() if cache else None
        if cache_path is not None:
            engine = CachedEngine(engine, RequestCache(cache_path))
        try:
            await engine.start()
        except BaseException:
            await engine.close()
            raise
        stack.push_async_callback(engine.close)
        yield engine
