"""``--local``: a model on this machine's CPU, through one of three backends, behind the Engine protocol.

    async with open_local_engine("transformers") as engine:     # SmolLM2-135M, in this process
        await engine.start()                                     # as Pipeline does
        result = await engine.complete(request)

- ``transformers`` (default, ``synthmath[local]``): the model in this process, batched; no compile step.
- ``llama.cpp`` (``synthmath[local-llamacpp]``): llama.cpp's OpenAI-compatible server as a child process
  (compiled from source at install time); the fastest at one request at a time.
- ``vllm`` (``synthmath[vllm]``): vLLM in this process, loading the dequantised checkpoint that the
  transformers backend writes (so it needs ``synthmath[local]`` too for the default model).

Every backend uses local files only: the bundled GGUF file, another ``.gguf`` file, or a checkpoint folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, get_args

from ..errors import ConfigError
from ..install import install_hint
from .base import Engine, LocalBackend

__all__ = ["LOCAL_BACKENDS", "LocalBackend", "check_local_backend", "open_local_engine"]

LOCAL_BACKENDS: tuple[str, ...] = get_args(LocalBackend)

_NEEDS = {
    "transformers": (("torch", "transformers", "gguf", "accelerate"), "synthmath[local]"),
    "llama.cpp": (("llama_cpp",), "synthmath[local-llamacpp]"),
    "vllm": (("vllm",), "synthmath[vllm]"),
}


def _missing(modules: Sequence[str]) -> list[str]:
    out = []
    for m in modules:
        try:
            found = importlib.util.find_spec(m) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(m)
    return out


def check_local_backend(backend: str, model: str | None = None) -> None:
    """Raise a one-line :class:`ConfigError` unless ``backend`` can run ``model`` here.

    Cheap (no import of torch or llama.cpp): call it before anything slow, such as loading seeds from
    the Hub. Checks the backend's packages and that the model file or folder exists.
    """
    if backend not in _NEEDS:
        raise ConfigError(f"unknown local backend {backend!r} - use one of {', '.join(LOCAL_BACKENDS)}")
    modules, extra = _NEEDS[backend]
    missing = _missing(modules)
    if missing:
        hint = install_hint(extra.removeprefix("synthmath[").removesuffix("]"))
        if "torch" in missing:
            hint = f"pip install torch --index-url https://download.pytorch.org/whl/cpu, then {hint}"
        raise ConfigError(f"--local-backend {backend} needs {', '.join(missing)} - {hint}")
    if model is None:
        from .servers import local_model_path

        local_model_path()  # the bundled model is installed
        if backend == "vllm" and _missing(["transformers", "gguf"]):
            raise ConfigError(
                "--local-backend vllm reads the bundled GGUF model through transformers - "
                + install_hint("local")
            )
    elif not Path(model).expanduser().exists():
        raise ConfigError(f"--local --model {model}: no such file or folder - --local uses local files only")


@contextlib.asynccontextmanager
async def open_local_engine(
    backend: str = "transformers",
    model: str | None = None,
    *,
    max_batch: int = 16,
    threads: int | None = None,
    cache_dir: Path | None = None,
    server_args: Sequence[str] = (),
    server_timeout: float | None = None,
    log_path: str | Path | None = None,
    vllm_args: dict[str, Any] | None = None,
) -> AsyncIterator[Engine]:
    """The local engine for the block, ready for ``start()``; closed (and its server stopped) afterwards.

    The caller starts it (``Pipeline`` does; it may also close it, which is safe to repeat): loading the
    model belongs to the engine's ``start``. The llama.cpp server, though, is up when the block begins.

    ``model``: None for the bundled SmolLM2-135M-Instruct, a ``.gguf`` file, or (transformers, vllm) a
    checkpoint folder. ``max_batch``: sequences generated together (transformers, vllm). ``threads``:
    CPU threads for transformers. ``server_args``, ``server_timeout`` and ``log_path`` go to the
    llama.cpp server; ``vllm_args`` to ``vllm.LLM``. The engine's ``model`` is the name records carry:
    the GGUF file's name without ``.gguf`` (e.g. ``SmolLM2-135M-Instruct.Q4_1``) or the folder's name.
    """
    check_local_backend(backend, model)
    engine: Any
    async with contextlib.AsyncExitStack() as stack:
        if backend == "transformers":
            from .transformers_engine import TransformersEngine

            engine = TransformersEngine(model, max_batch=max_batch, threads=threads, cache_dir=cache_dir)
        elif backend == "llama.cpp":
            from .managed import ManagedServer

            server = ManagedServer("local", model, server_args, timeout=server_timeout, log_path=log_path)
            await stack.enter_async_context(server)
            # llama.cpp's server answers one request at a time: more in flight only queue (docs/local.md)
            from .remote import server_engine

            engine = server_engine([server.url], concurrency=2)
        else:
            import asyncio

            from .local_model import resolve_local_checkpoint
            from .vllm_engine import VLLMEngine

            name, folder = await asyncio.to_thread(resolve_local_checkpoint, model, cache_dir)
            args = {"max_model_len": 8192, **(vllm_args or {})}
            engine = VLLMEngine(str(folder), engine_args=args, max_batch=max_batch, name=name)
        try:
            yield engine
        finally:
            await engine.close()
