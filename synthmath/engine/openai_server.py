"""Generation over OpenAI-compatible servers (``vllm serve``), async with bounded concurrency.

Each request goes to the server with the fewest requests outstanding. 429s, 5xx, dropped connections,
timeouts and 200 replies that hold nothing usable (a body that is not JSON, ``"choices": []``, only
``"content": null``) are retried with exponential backoff and full jitter; other HTTP errors (a 400 for an
over-long prompt, say) come back as ``ChatResult.error`` and become rejects, as do the failures that
outlast the retries. A run whose servers all stop accepting connections ends with
:class:`ServerUnreachableError` rather than retrying for hours; a server that accepts them and then
drops them is up, and is reported as such.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import replace
from typing import Any

import httpx2  # the openai client's HTTP library
import openai

from ..errors import ModelNotFoundError, ServerError, ServerUnreachableError, opt
from .base import ChatRequest, ChatResult, Choice, EngineStats
from .routing import Server, cause, excerpt, pick, refused, server_version, short

__all__ = ["OpenAIServerEngine"]

log = logging.getLogger(__name__)

_JSON: Any = {"headers": {"Content-Type": "application/json"}}
_PROBE_TIMEOUT = 10.0  # seconds /v1/models may take: a server that is up answers it at once


class _BadReply(ValueError):
    """A 200 reply with nothing usable in it; ``reason`` is the reject reason if it stays that way."""

    def __init__(self, reason: str, text: str) -> None:
        self.reason = reason
        super().__init__(text)


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
        probe_timeout: float = _PROBE_TIMEOUT,
    ) -> None:
        if not base_urls:
            raise ServerError(f"no server URL given - pass {opt('base_url', ['URL'])}")
        self.servers = [Server(u, api_key, timeout) for u in base_urls]
        self._all_servers = list(self.servers)
        self.model = model or ""
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.stats = EngineStats()
        self._concurrency = concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self.managed = managed  # the server this run started (local / serve), for provenance
        self.timeout = timeout
        self.probe_timeout = min(probe_timeout, timeout)

    async def start(self) -> None:
        """Check every server answers and serves the model; pick the model when none was given."""
        self._semaphore = asyncio.Semaphore(self._concurrency)
        unreachable: list[tuple[Server, openai.APIConnectionError]] = []
        hanging: list[Server] = []
        for server in self.servers:
            try:
                page = await server.client.models.list(timeout=self.probe_timeout)
                server.models = [m.id for m in page.data]
                for m in page.data:  # vLLM says each model's context length
                    length = (m.model_extra or {}).get("max_model_len")
                    if isinstance(length, int) and length > 0:
                        server.max_model_len[m.id] = length
            except openai.APITimeoutError:
                hanging.append(server)
            except openai.APIConnectionError as e:
                unreachable.append((server, e))
            except openai.APIStatusError as e:
                raise ServerError(
                    f"{server.base_url}/models answered HTTP {e.status_code} ({short(e)}) - "
                    f"is this an OpenAI-compatible server? check {opt('base_url')} and {opt('api_key')}"
                ) from e
            except (openai.APIResponseValidationError, ValueError, TypeError, AttributeError) as e:
                raise ServerError(
                    f"{server.base_url}/models answered with something that is not a model list "
                    f"({short(e)}) - is this an OpenAI-compatible server? check {opt('base_url')}"
                ) from e
        for server in self.servers:
            if server.models:
                server.version = await asyncio.to_thread(server_version, server.base_url)
        if len(unreachable) + len(hanging) == len(self.servers):
            if hanging:
                urls = ", ".join(f"{s.base_url}/models" for s in hanging)
                raise ServerError(
                    f"{urls} did not answer within {self.probe_timeout:g} s: the server accepts connections "
                    "but sends no reply - check that it has finished loading and is not stuck (its log), "
                    f"or pass {opt('base_url', ['URL'])} of a server that answers"
                )
            urls = ", ".join(s.base_url for s in self.servers)
            raise ServerUnreachableError(urls, cause(unreachable[0][1]))
        for server in hanging:
            log.warning(
                "%s/models did not answer within %gs: going on without it",
                server.base_url,
                self.probe_timeout,
            )
        for server, err in unreachable:
            log.warning("%s does not answer (%s): going on without it", server.base_url, short(err))
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
            # a server may return fewer choices than asked for (some ignore n, some send a null content):
            # ask again for the rest; what still lacks is said in ``shortfall`` and becomes rejects
            why = result.shortfall
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
                    why = more.error or why
                    break
                why = more.shortfall or why
                result = ChatResult(
                    choices=result.choices + more.choices,
                    prompt_tokens=result.prompt_tokens + more.prompt_tokens,
                    completion_tokens=result.completion_tokens + more.completion_tokens,
                )
            got = len(result.choices)
            if result.error is None and got < request.n:
                result = replace(
                    result,
                    reason="empty_reply",
                    shortfall=f"the server returned {got} of the {request.n} replies asked for, also when "
                    f"asked again for the rest ({why or 'it ignores n'})",
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
            server = await pick(self.servers)
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
                    return ChatResult(choices=[], error=f"HTTP {e.status_code}: {short(e)}")
            else:
                server.answered()
                try:
                    return self._result(server, resp, request.n)
                except _BadReply as e:  # a 200 with nothing usable: the server may do better next time
                    last = e
            finally:
                server.outstanding -= 1
            if attempt < self.max_retries:
                self.stats.retries += 1
                delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
                log.debug("retrying after %s (attempt %d, %.2fs)", short(last), attempt + 1, delay)
                await asyncio.sleep(delay)
        self.stats.failed_requests += 1
        if last is not None and refused(last):  # the server stopped accepting connections: it is gone
            urls = ", ".join(s.base_url for s in self.servers)
            raise ServerUnreachableError(urls, f"gave up after {self.max_retries} retries: {cause(last)}")
        return ChatResult(
            choices=[],
            error=f"failed after {self.max_retries} retries: {self._what(last)}",
            server_failure=True,
            reason=last.reason if isinstance(last, _BadReply) else "request_error",
        )

    def _what(self, e: BaseException | None) -> str:
        """What went wrong with a request, in words (the client's own messages say little)."""
        if isinstance(e, openai.APITimeoutError):
            return f"no reply within the {self.timeout:g} s timeout"
        if isinstance(e, openai.APIConnectionError):  # connected, then dropped (refusals raise above)
            return f"the server closed the connection before its reply was complete ({cause(e)})"
        return short(e)

    def _result(self, server: Server, resp: httpx2.Response, n: int) -> ChatResult:
        try:
            data = json.loads(resp.content)
        except ValueError:
            raise _BadReply(
                "bad_reply", f"a 200 reply whose body is not JSON: {excerpt(resp.content)}"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise _BadReply(
                "bad_reply", f"a 200 reply that is not a chat completion: {excerpt(resp.content)}"
            )
        choices = []
        for c in sorted(
            (c for c in data["choices"] if isinstance(c, dict)), key=lambda c: c.get("index") or 0
        ):
            message = c.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            reason = c.get("finish_reason")
            if isinstance(content, str):
                choices.append(Choice(content, reason))
            elif reason == "length":  # cut off before any content (a reasoning model still thinking)
                choices.append(Choice("", reason))
        if not choices:
            listed = len(data["choices"])
            what = f"{listed} choice(s), none with content (null)" if listed else "no choices"
            raise _BadReply("empty_reply", f"a 200 reply with {what}")
        usage: dict[str, Any] = data["usage"] if isinstance(data.get("usage"), dict) else {}
        prompt_tokens, completion_tokens = (
            usage.get("prompt_tokens") or 0,
            usage.get("completion_tokens") or 0,
        )
        self.stats.requests += 1
        self.stats.per_server[server.base_url] += 1
        self.stats.prompt_tokens += prompt_tokens
        self.stats.completion_tokens += completion_tokens
        nulls = len(data["choices"]) - len(choices)
        return ChatResult(
            choices=choices,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            shortfall=f"{nulls} choice(s) came back with no content (null)"
            if nulls and len(choices) < n
            else None,
        )

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
