"""The Ray session of a run, quiet by default.

``ray_session(address)`` joins the cluster at ``address`` (default ``$RAY_ADDRESS``) or starts a local
Ray for the run and shuts it down after. Ray's own log lines stay out of the terminal unless the run is
verbose (``-v``): synthmath reports progress and per-stage throughput itself.

A cluster that asks for a token (Ray's token authentication) and gets none is reported as such, not as
a missing cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

from ..errors import ConfigError
from ..install import install_hint

__all__ = ["cluster_resources", "import_ray", "ray_session"]

log = logging.getLogger(__name__)

_NOISY_LOGGERS = ("ray", "ray.data", "ray.serve", "ray.train", "ray.tune")


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error naming the extra to install."""
    try:
        import ray
        import ray.data
    except ImportError as e:
        raise ConfigError(
            f"--executor ray needs Ray in this environment ({e}) - {install_hint('ray')}"
        ) from e
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, *, verbose: bool = False) -> Iterator[Any]:
    """Ray, initialised for the run: joins ``address`` (or ``$RAY_ADDRESS``), else starts a local Ray
    that is shut down when the block ends. An already initialised Ray (a notebook, a test) is reused."""
    ray = import_ray()
    level = logging.INFO if verbose else logging.ERROR  # Ray warns of much the user cannot act on
    quieted = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(level)
    started = False
    restore = None
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or _machine_cluster(ray)
        if address and address != "auto" and ":" in address and not _answers(address):
            # Ray itself retries a dead address for minutes before it gives up
            raise ConfigError(
                f"no Ray cluster at {address} (nothing answers there) - start one with `ray start --head`, "
                "or drop --ray-address to run a local Ray"
            )
        if not verbose:
            os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # the C++ core's warnings
        restore = None if verbose else _errors_in_one_line(ray)
        try:
            with _quiet_stderr(not verbose):  # what Ray's core prints while it starts
                ray.init(
                    address=address,
                    log_to_driver=verbose,
                    logging_level=level,
                    include_dashboard=False,
                    configure_logging=True,
                )
        except Exception as e:
            if restore is not None:
                restore()
            raise _connect_error(address, e) from e
        started = True
    ctx = ray.data.DataContext.get_current()
    saved = (ctx.execution_options.preserve_order, ctx.enable_progress_bars, ctx.print_on_execution_start)
    # records come out in seed order, as with the local executor: the same files, line for line
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = verbose
    ctx.print_on_execution_start = verbose
    try:
        yield ray
    finally:
        (ctx.execution_options.preserve_order, ctx.enable_progress_bars, ctx.print_on_execution_start) = saved
        if started:
            ray.shutdown()
            if restore is not None:
                restore()
        for name, old in quieted.items():
            logging.getLogger(name).setLevel(old)


@contextlib.contextmanager
def _quiet_stderr(quiet: bool) -> Iterator[None]:
    """File descriptor 2 to /dev/null for the block: Ray's C++ core writes there, past Python."""
    if not quiet:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _errors_in_one_line(ray: Any) -> Any:
    """Ray's driver prints the cluster's error messages (a task retried because its node died, ...)
    as paragraphs on stdout. In a quiet run each becomes at most one line of synthmath's own: a lost
    node is said once, with what happens next; the rest goes to the debug log. Returns the undo."""
    worker = ray._private.worker
    original = worker.print_to_stdstream
    said: set[str] = set()

    def one_line(data: dict[str, Any], ignore_prefix: bool) -> None:
        if data.get("pid") != "raylet":
            original(data, ignore_prefix)
            return
        text = " ".join(" ".join(data.get("lines") or []).split())
        if "node" in text and ("dead" in text or "unavailable" in text):
            node = next((w for w in text.replace(",", " ").split() if len(w) >= 40), "?")[:12]
            if node not in said:
                said.add(node)
                log.warning("a Ray node (%s) was lost: its tasks run again on the other nodes", node)
        else:
            log.debug("ray: %s", text[:500])

    worker.print_to_stdstream = one_line

    def undo() -> None:
        worker.print_to_stdstream = original

    return undo


def cluster_resources() -> dict[str, float]:
    """The cluster's total CPUs and GPUs."""
    import ray

    total: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return {"CPU": float(total.get("CPU", 0.0)), "GPU": float(total.get("GPU", 0.0))}


def _machine_cluster(ray: Any) -> str:
    """What a run without an address joins: the Ray started on this machine with ``ray start``, when it
    answers; else ``"local"``, a Ray of the run's own (Ray would try a crashed cluster's stale address
    for minutes)."""
    try:
        current = str(ray._private.utils.read_ray_address() or "")
    except Exception:
        current = ""
    return current if current and _answers(current) else "local"


def _connect_error(address: str | None, e: Exception) -> ConfigError:
    """Why joining (or starting) Ray failed, with the fix: a token the cluster wants, or no cluster.

    Ray reports a refused token only in its core's log and raises a bare ConnectionError, so a cluster
    whose address answers but that would not let us in is taken to want a token."""
    text = " ".join(str(e).split())[:300]
    lowered = text.lower()
    auth = "token" in lowered or "unauthenticated" in lowered
    if not auth and isinstance(e, ConnectionError) and address and _answers(address):
        auth = True
    if auth:
        return ConfigError(
            f"the Ray cluster at {address} answers but did not let this client in ({text}): it uses "
            "token authentication - set RAY_AUTH_MODE=token and give the cluster's token (RAY_AUTH_TOKEN, "
            "RAY_AUTH_TOKEN_PATH, or ~/.ray/auth_token as on its head node)"
        )
    if isinstance(e, ConnectionError) or "connect" in lowered or "timed out" in lowered:
        return ConfigError(
            f"no Ray cluster at {address or 'RAY_ADDRESS'} ({text}) - start one with `ray start --head`, "
            "or drop --ray-address to run a local Ray"
        )
    return ConfigError(f"cannot start or join Ray at {address or 'a local Ray'} ({text}) - rerun with -v")


def _answers(address: str) -> bool:
    """True when something accepts TCP connections at ``address`` (host:port, or ray://host:port)."""
    import socket

    hostport = address.split("://", 1)[-1].rsplit("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        return False
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False
