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
import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, cast

from ..errors import ServerError
from ..install import install_hint
from . import _process
from .servers import (
    GRACE,
    LOCAL_N_CTX,
    NAMES,
    STARTUP_TIMEOUT,
    ServerKind,
    local_model_path,
    package_version,
    server_command,
)

if TYPE_CHECKING:
    from ..config import BuildConfig

__all__ = ["LOCAL_N_CTX", "ManagedServer", "ServerKind", "local_model_path", "managed_server"]


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
        return NAMES[self.kind]

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
        argv = self.argv
        if argv is None:
            argv = server_command(cast(ServerKind, self.kind), self.model, self.extra_args)
        self.port = _process.free_port()
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
                preexec_fn=_process.parent_death_signal(),
            )
        except OSError as e:
            raise ServerError(f"cannot start the {self.name} ({self.command[0]}: {e.strerror})") from e
        _process.register(self)

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
                hint = f" - install the [local-llamacpp] extra: {install_hint('local-llamacpp')}"
            elif "No module named" in last and self.kind == "vllm":
                hint = f" - install vLLM: {install_hint('vllm')}"
            raise ServerError(
                f"the {self.name} exited with status {code} before it answered"
                + (f" (last log line: {last})" if last else "")
                + (hint or f" - see its log {self.log_path}")
            )
        if _process.answers(self.url):
            return True
        if time.monotonic() > self._deadline:
            raise ServerError(
                f"the {self.name} did not answer at {self.url}/models within {self.timeout:.0f}s - see its "
                f"log {self.log_path}; allow longer with --serve-timeout SECONDS"
            )
        return False

    def _failed(self, e: BaseException, attempt: int) -> bool:
        """Stop the process after a failed start; True when it is worth another try on a new port."""
        self.stop(keep_log=True)
        # another process may take the port between our probe and the server's bind
        if isinstance(e, ServerError) and attempt < 2 and "address already in use" in str(e).lower():
            self._stopped = False
            return True
        return False

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
            except BaseException as e:  # Ctrl-C too: __exit__ will not run for a failed __enter__
                if not self._failed(e, attempt):
                    raise
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
                if not self._failed(e, attempt):
                    raise
        raise AssertionError("unreachable")

    def stop(self, *, keep_log: bool = False) -> None:
        """Stop the server's whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
        proc = self.process
        if proc is not None and not self._stopped:
            self._stopped = True
            pgid = proc.pid  # start_new_session: the group's id is the leader's pid
            deadline = time.monotonic() + self.grace
            _process.killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=self.grace)
            while _process.group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            _process.killpg(pgid, signal.SIGKILL)
            proc.wait()
            deadline = time.monotonic() + 5.0  # SIGKILL is not instant: wait until the group is gone
            while _process.group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.02)
            _process.unregister(self)
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
            "program": package_version(self.kind),
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
        kind: ServerKind
        if config.local and config.local_backend == "llama.cpp":  # the other backends run in process
            model, kind = config.model, "local"
        elif config.serve:
            model, kind = config.serve, "vllm"
        else:
            return None
        return cls(kind, model, config.serve_args, timeout=config.serve_timeout, log_path=log_path)

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
