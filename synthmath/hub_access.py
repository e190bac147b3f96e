"""Can the Hugging Face Hub be reached? Asked once, quickly, before anything waits on the Hub.

``datasets`` and ``huggingface_hub`` retry a dead network for half a minute and more; asking first turns
that into one line in under two seconds: offline mode (``HF_HUB_OFFLINE=1``) is read from the
environment, and otherwise one TCP connection to the Hub's host must open within ``timeout`` seconds.
"""

from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlsplit

from .errors import HubUnreachableError

__all__ = ["hub_endpoint", "hub_offline_reason", "offline_mode", "require_hub"]

_TRUE = {"1", "on", "yes", "true"}
_cache: dict[tuple[str, int], str | None] = {}


def hub_endpoint() -> str:
    """The Hub's base URL (``HF_ENDPOINT``, or https://huggingface.co)."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def offline_mode() -> str | None:
    """``"HF_HUB_OFFLINE=1 is set"`` (or its siblings) when the user asked for offline mode, else None."""
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return f"{name}=1 is set"
    return None


def _probe(host: str, port: int, timeout: float) -> str | None:
    """None when a TCP connection to host:port opens within ``timeout`` s, else why it did not."""
    result: list[str | None] = []

    def connect() -> None:
        try:  # getaddrinfo has no timeout of its own, hence the thread
            with socket.create_connection((host, port), timeout=timeout):
                result.append(None)
        except socket.gaierror:
            result.append(f"cannot resolve {host}")
        except OSError as e:
            result.append(f"no route to {host} ({e.strerror or e})")

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0] if result else f"no answer from {host} within {timeout:g}s"


def hub_offline_reason(timeout: float = 1.5) -> str | None:
    """Why the Hub cannot be reached (offline mode set, no DNS, no route), or None when it can.

    A successful probe is remembered for the process; a failed one is asked again next time.
    """
    env = offline_mode()
    if env is not None:
        return env
    url = urlsplit(hub_endpoint())
    host = url.hostname or "huggingface.co"
    port = url.port or (80 if url.scheme == "http" else 443)
    if _cache.get((host, port), "unknown") is None:
        return None
    reason = _probe(host, port, timeout)
    if reason is None:
        _cache[(host, port)] = None
    return reason


def require_hub(what: str, instead: str, *, timeout: float = 1.5) -> None:
    """Raise :class:`HubUnreachableError` ("cannot WHAT: the Hub is offline (...) - INSTEAD") when the
    Hub cannot be reached. ``what`` says what needed the Hub; ``instead`` says what to do without it."""
    reason = hub_offline_reason(timeout)
    if reason is not None:
        raise HubUnreachableError(
            f"cannot {what}: the Hugging Face Hub is unreachable ({reason}) - {instead}"
        )
