"""The exceptions synthmath raises.

Every message is one line that says what went wrong and what to do next; the CLI prints it and exits
non-zero. The tree::

    SynthmathError                    anything synthmath raises on purpose
    ├── ConfigError                   a bad option, config file or prompt file (a usage mistake)
    │   └── BenchmarkUnavailableError a benchmark that cannot be fetched from the Hub
    ├── SeedError                     a seed source that is missing, unreadable or malformed
    ├── OutputError                   an output directory that cannot be written
    ├── ContaminationError            --on-contamination fail, and records match benchmark items
    └── ServerError                   the generation server failed in a way retries cannot fix
        ├── ServerUnreachableError    nothing answers at the base URL
        ├── ModelNotFoundError        the server does not serve the requested model
        └── BuildFailedError          too many requests failed: the build stopped rather than report success

Errors about one request (a 400 for an over-long prompt, say) are not exceptions: they become rejects
with their reason, and the run goes on.
"""

from __future__ import annotations

__all__ = [
    "BenchmarkUnavailableError",
    "BuildFailedError",
    "ConfigError",
    "ContaminationError",
    "ModelNotFoundError",
    "OutputError",
    "SeedError",
    "ServerError",
    "ServerUnreachableError",
    "SynthmathError",
]


class SynthmathError(Exception):
    """Base class: a failure with a one-line, actionable message."""


class ConfigError(SynthmathError):
    """An invalid option, config file or prompt template."""


class BenchmarkUnavailableError(ConfigError):
    """A benchmark could not be fetched from the Hugging Face Hub (offline, or the Hub failed)."""


class SeedError(SynthmathError):
    """A seed source that cannot be read: missing file, bad line, missing fields."""


class OutputError(SynthmathError):
    """The output directory cannot be created or written."""


class ContaminationError(SynthmathError):
    """Records or seeds match benchmark items and the run was told to fail on that."""


class ServerError(SynthmathError):
    """The generation server failed for good (after retries)."""


class ServerUnreachableError(ServerError):
    """No OpenAI-compatible server answers at the configured URL."""

    def __init__(self, base_url: str, detail: str = "") -> None:
        self.base_url = base_url
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"no server at {base_url}{extra} - start one with `vllm serve MODEL` "
            "or pass --base-url URL of a running OpenAI-compatible server"
        )


class ModelNotFoundError(ServerError):
    """The requested model is not among the ones the server lists."""

    def __init__(self, model: str, served: list[str], base_url: str) -> None:
        self.model = model
        self.served = served
        listed = ", ".join(served) if served else "none"
        super().__init__(
            f"model {model!r} is not served at {base_url} (served: {listed}) - pass --model with one of these"
        )


class BuildFailedError(ServerError):
    """Requests failed beyond the configured limits (``max_failed_seeds``, ``max_failed_fraction``): the
    build stops with the server's last error, leaves the earlier output as it was and exits non-zero."""
