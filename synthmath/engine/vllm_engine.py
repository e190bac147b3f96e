"""In-process generation with ``vllm.LLM``, for GPU nodes without a server (``--backend vllm``).

Requests from all steps queue up; a batcher hands everything pending to one ``LLM.chat`` call (run in a
worker thread so the event loop keeps collecting the next batch), then resolves each request with its
outputs. The records are the same as through a server: the steps only see ``ChatResult``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError, ServerError, opt
from ..install import install_hint
from .base import ChatRequest, ChatResult, Choice, EngineStats

__all__ = ["VLLMEngine"]

log = logging.getLogger(__name__)


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as e:
        raise ConfigError(
            f"{opt('backend', 'vllm')} needs vLLM in this environment ({e}) - {install_hint('vllm')}"
        ) from e
    return vllm


class VLLMEngine:
    """Batches pending requests into ``LLM.chat`` calls on a local vLLM engine."""

    def __init__(
        self,
        model: str | None,
        *,
        engine_args: dict[str, Any] | None = None,
        max_batch: int = 1024,
        llm: Any = None,
        sampling_params: Callable[..., Any] | None = None,
        name: str | None = None,
    ) -> None:
        if not model and llm is None:
            raise ConfigError(
                f"{opt('backend', 'vllm')} needs {opt('model', 'HF_ID_OR_PATH')} (the model to load)"
            )
        self._load = model or "local"
        self.model = name or self._load  # the name records carry (a folder's path is not a good one)
        self.engine_args = engine_args or {}
        self.max_batch = max_batch
        self.stats = EngineStats()
        self._llm = llm
        self._sampling_params = sampling_params
        self._queue: asyncio.Queue[tuple[ChatRequest, asyncio.Future[ChatResult]]] | None = None
        self._batcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._llm is None or self._sampling_params is None:
            vllm = _import_vllm()
            self._sampling_params = self._sampling_params or vllm.SamplingParams
            if self._llm is None:
                log.warning("loading %s into vLLM in this process", self.model)
                try:
                    self._llm = await asyncio.to_thread(vllm.LLM, model=self._load, **self.engine_args)
                except Exception as e:
                    raise ServerError(
                        f"vLLM could not load {self.model!r}: {e} - "
                        f"check {opt('model')} and {opt('vllm_args')}"
                    ) from e
        self._queue = asyncio.Queue()
        self._batcher = asyncio.create_task(self._run_batches())

    async def complete(self, request: ChatRequest) -> ChatResult:
        assert self._queue is not None, "call start() first"
        fut: asyncio.Future[ChatResult] = asyncio.get_running_loop().create_future()
        await self._queue.put((request, fut))
        return await fut

    def _params(self, r: ChatRequest) -> Any:
        assert self._sampling_params is not None
        return self._sampling_params(
            n=r.n,
            temperature=r.temperature,
            top_p=r.top_p,
            max_tokens=r.max_tokens,
            seed=r.seed,
            **r.extra_body,
        )

    async def _run_batches(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(0)  # let the steps that are ready enqueue their requests too
            while not self._queue.empty() and len(batch) < self.max_batch:
                batch.append(self._queue.get_nowait())
            try:
                outputs = await asyncio.to_thread(
                    self._llm.chat,
                    [r.messages for r, _ in batch],
                    sampling_params=[self._params(r) for r, _ in batch],
                    use_tqdm=False,
                )
                results = [self._result(out) for out in outputs]
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} outputs for {len(batch)} prompts")
            except Exception as e:  # the batch failed: each request becomes a reject with the reason
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(ChatResult(choices=[], error=f"vLLM: {e}"))
                self.stats.failed_requests += len(batch)
                continue
            for (_, fut), result in zip(batch, results, strict=True):
                self.stats.requests += 1
                self.stats.per_server["in-process vllm"] += 1
                self.stats.prompt_tokens += result.prompt_tokens
                self.stats.completion_tokens += result.completion_tokens
                if not fut.done():
                    fut.set_result(result)

    @staticmethod
    def _result(out: Any) -> ChatResult:
        choices = [Choice(o.text, o.finish_reason) for o in out.outputs]
        completion_tokens = sum(len(o.token_ids) for o in out.outputs)
        return ChatResult(choices, len(out.prompt_token_ids or []), completion_tokens)

    def info(self) -> dict[str, Any]:
        """The model and the vLLM version that runs it in this process."""
        from .servers import package_version

        return {
            "model": self.model,
            "servers": {"in-process": {"model": self.model, "version": package_version("vllm")}},
            "managed_server": None,
        }

    async def close(self) -> None:
        if self._batcher is not None:
            self._batcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._batcher
