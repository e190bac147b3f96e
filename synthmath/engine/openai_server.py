"""Generation over OpenAI-compatible servers (``vllm serve``), async with bounded concurrency.

Each request goes to the server with the fewest requests outstanding. 429s, 5xx, dropped connections
and timeouts are retried with exponential backoff and full jitter; other HTTP errors (a 400 for an
over-long prompt, say) come back as ``ChatResult.error`` and become rejects. A run whose servers all stop
answering ends with :class:`ServerUnreachableError` rather than retrying for hours.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import urllib.request
from dataclasses import replace
from typing import Any

import httpx2  # the openai client's HTTP library
import openai

from ..errors import ModelNotFoundError, ServerError, ServerUnreachableError, opt
from .base import ChatRequest, ChatResult, Choice, EngineStats

__all__ = ["OpenAIServerEngine"]

log = logging.getLogger(__name__)

_JSON: Any = {"headers": {"Content-Type": "application/json"}}
_DRAIN_AFTER = 3  # consecutive connection failures before a server is drained
_MAX_DRAIN = 60.0  # longest pause before probing a drained server again


class _Server:
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


class OpenAIServerEngine:
    """Chat completions against one or more OpenAI-compatible servers."""

    def __init__(
        self,
        base_urls: list[str],
        *,
        api_key: str = "EMPTY",
        model: str | None = None,
        concurrency: int = 256,
        max_retries: int = 5,
        timeout: float = 600.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        managed: dict[str, Any] | None = None,
    ) -> None:
        if not base_urls:
            raise ServerError(f"no server URL given - pass {opt('base_url', ['URL'])}")
        self.servers = [_Server(u, api_key, timeout) for u in base_urls]
        self._all_servers = list(self.servers)
        self.model = model or ""
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.stats = EngineStats()
        self._concurrency = concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self.managed = managed  # the server this run started (local / serve), for provenance

    async def start(self) -> None:
        """Check every server answers and serves the model; pick the model when none was given."""
        self._semaphore = asyncio.Semaphore(self._concurrency)
        unreachable: list[tuple[_Server, openai.APIConnectionError]] = []
        for server in self.servers:
            try:
                page = await server.client.models.list()
                server.models = [m.id for m in page.data]
                for m in page.data:  # vLLM says each model's context length
                    length = (m.model_extra or {}).get("max_model_len")
                    if isinstance(length, int) and length > 0:
                        server.max_model_len[m.id] = length
            except openai.APIConnectionError as e:
                unreachable.append((server, e))
            except openai.APIStatusError as e:
                raise ServerError(
                    f"{server.base_url}/models answered HTTP {e.status_code} ({_short(e)}) - "
                    f"is this an OpenAI-compatible server? check {opt('base_url')} and {opt('api_key')}"
                ) from e
        for server in self.servers:
            if server.models:
                server.version = await asyncio.to_thread(_server_version, server.base_url)
        if len(unreachable) == len(self.servers):
            urls = ", ".join(s.base_url for s in self.servers)
            raise ServerUnreachableError(urls, _short(unreachable[0][1]))
        for server, err in unreachable:
            log.warning("%s does not answer (%s): going on without it", server.base_url, _short(err))
        if not self.model:
            served = sorted({m for s in self.servers for m in s.models})
            if len(served) != 1:
                raise ModelNotFoundError("(none given)", served, self.servers[0].base_url)
            self.model = served[0]
        usable = [s for s in self.servers if self.model in s.models]
        if not usable:
            served = sorted({m for s in self.servers for m in s.models})
            raise ModelNotFoundError(self.model, served, ", ".join(s.base_url for s in self.servers))
        for s in self.servers:
            if s not in usable and s.models:
                log.warning("%s does not serve %s: not using it", s.base_url, self.model)
        self.servers = usable

    async def complete(self, request: ChatRequest) -> ChatResult:
        assert self._semaphore is not None, "call start() first"
        async with self._semaphore:
            result = await self._complete(request)
            # a server may return fewer choices than asked for (some ignore n): ask again for the rest
            for _ in range(3):
                missing = request.n - len(result.choices)
                if missing <= 0 or result.error is not None:
                    break
                more = await self._complete(
                    replace(
                        request,
                        n=missing,
                        seed=None if request.seed is None else request.seed + len(result.choices),
                    )
                )
                if more.error is not None or not more.choices:
                    break
                result = ChatResult(
                    choices=result.choices + more.choices,
                    prompt_tokens=result.prompt_tokens + more.prompt_tokens,
                    completion_tokens=result.completion_tokens + more.completion_tokens,
                )
            return result

    async def _complete(self, request: ChatRequest) -> ChatResult:
        body: dict[str, Any] = {
            **request.extra_body,
            "model": self.model,
            "messages": request.messages,
            "n": request.n,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        # encoded once, sent as is: the client's per-request validation and deep copy of long few-shot
        # messages would cost more CPU than everything else the client does
        content = json.dumps(body, ensure_ascii=False).encode()
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            server = await self._pick()
            server.outstanding += 1
            try:
                resp = await server.client.post(
                    "/chat/completions", cast_to=httpx2.Response, content=content, options=_JSON
                )
            except openai.APITimeoutError as e:  # slow, not gone: retry, but do not drain the server
                last = e
            except openai.APIConnectionError as e:
                server.failed()
                last = e
            except (openai.RateLimitError, openai.InternalServerError) as e:
                last = e
            except openai.APIStatusError as e:
                if e.status_code in (408, 409) or e.status_code >= 500:
                    last = e
                else:
                    self.stats.failed_requests += 1
                    return ChatResult(choices=[], error=f"HTTP {e.status_code}: {_short(e)}")
            else:
                server.answered()
                try:
                    return self._result(server, resp)
                except (ValueError, KeyError, TypeError) as e:  # a 200 whose body is not a chat completion
                    last = e
            finally:
                server.outstanding -= 1
            if attempt < self.max_retries:
                self.stats.retries += 1
                delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
                log.debug("retrying after %s (attempt %d, %.2fs)", _short(last), attempt + 1, delay)
                await asyncio.sleep(delay)
        self.stats.failed_requests += 1
        if isinstance(last, openai.APIConnectionError) and not isinstance(last, openai.APITimeoutError):
            urls = ", ".join(s.base_url for s in self.servers)
            raise ServerUnreachableError(urls, f"gave up after {self.max_retries} retries: {_short(last)}")
        return ChatResult(
            choices=[], error=f"failed after {self.max_retries} retries: {_short(last)}", server_failure=True
        )

    def _result(self, server: _Server, resp: httpx2.Response) -> ChatResult:
        data = json.loads(resp.content)
        usage = data.get("usage") or {}
        prompt_tokens, completion_tokens = (
            usage.get("prompt_tokens") or 0,
            usage.get("completion_tokens") or 0,
        )
        choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
        self.stats.requests += 1
        self.stats.per_server[server.base_url] += 1
        self.stats.prompt_tokens += prompt_tokens
        self.stats.completion_tokens += completion_tokens
        return ChatResult(
            choices=[
                Choice((c.get("message") or {}).get("content") or "", c.get("finish_reason")) for c in choices
            ],
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )

    async def _pick(self) -> _Server:
        """The answering server with the fewest requests outstanding; waits when all are drained."""
        while True:
            now = time.monotonic()
            up = [s for s in self.servers if s.down_until <= now]
            if up:
                return min(up, key=lambda s: s.outstanding)
            await asyncio.sleep(min(s.down_until for s in self.servers) - now)

    def info(self) -> dict[str, Any]:
        """The model, each server with the version it reports, and the managed server (provenance)."""
        program = (self.managed or {}).get("program")  # llama.cpp's server does not say its version
        servers = {s.base_url: {"model": self.model, "version": s.version or program} for s in self.servers}
        lengths = [s.max_model_len[self.model] for s in self.servers if self.model in s.max_model_len]
        return {
            "model": self.model,
            "servers": servers,
            "managed_server": self.managed,
            "max_model_len": min(lengths) if lengths else None,
        }

    async def close(self) -> None:
        for s in self._all_servers:
            await s.client.close()


def _server_version(base_url: str) -> str | None:
    """The version a vLLM server reports at ``/version`` (beside ``/v1``), or None."""
    root = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url
    try:
        with urllib.request.urlopen(f"{root}/version", timeout=5) as resp:
            data = json.loads(resp.read())
        return str(data["version"]) if isinstance(data, dict) and "version" in data else None
    except Exception:
        return None


def _short(e: BaseException | None) -> str:
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
