"""The exceptions synthmath raises.

Every message is one line that says what went wrong and what to do next; the CLI prints it and exits
non-zero. The tree::

    SynthmathError                    anything synthmath raises on purpose
    ├── ConfigError                   a bad option, config file or prompt file (a usage mistake)
    │   └── BenchmarkUnavailableError a benchmark that cannot be fetched from the Hub
    ├── SeedError                     a seed source that is missing, unreadable or malformed
    │   └── NoSeedsError              the source, after its filters, holds no seed at all
    ├── TextEncodingError             an input file that is not UTF-8 text (names the file, line, byte)
    ├── OutputError                   an output directory that cannot be written
    │   └── OutputLockedError         another run is writing that directory now
    ├── ContaminationError            on_contamination="fail", and records match benchmark items
    ├── HubError                      the Hugging Face Hub refused a request or kept failing
    │   └── HubUnreachableError       offline mode, or no route to the Hub
    └── ServerError                   the generation server failed in a way retries cannot fix
        ├── ServerUnreachableError    nothing answers at the base URL
        ├── ModelNotFoundError        the server does not serve the requested model
        └── BuildFailedError          too many requests failed: the build stopped rather than report success

Errors about one request (a 400 for an over-long prompt, say) are not exceptions: they become rejects
with their reason, and the run goes on.

Messages speak the language of the caller. A message names a setting through :func:`opt`, which marks
the setting inside the text: ``str(error)`` reads ``benchmarks=['math_test=PATH']`` (the config field, as
a Python caller writes it), and the CLI renders the same mark as ``--benchmark math_test=PATH`` (see
:meth:`SynthmathError.render`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BenchmarkUnavailableError",
    "BuildFailedError",
    "ConfigError",
    "ContaminationError",
    "HubError",
    "HubUnreachableError",
    "ModelNotFoundError",
    "NoSeedsError",
    "OptionRef",
    "OutputError",
    "OutputLockedError",
    "SeedError",
    "ServerError",
    "ServerUnreachableError",
    "SynthmathError",
    "TextEncodingError",
    "clip",
    "opt",
    "optional",
    "spelling",
    "spoken",
]

# Private-use code points: they never occur in real messages and are not whitespace, so a message
# survives " ".join(text.split()) with its marks intact.
_OPEN, _SEP, _CLOSE = "\ue000", "\ue001", "\ue002"
_MARK = re.compile(f"{_OPEN}([^{_SEP}]*){_SEP}([^{_CLOSE}]*){_CLOSE}")
_NO_VALUE = "\ue003"
# a speller's answer for a setting the running command has no flag for (the spelling follows it)
ELSEWHERE = "\ue004"
_ALT = re.compile("\ue005(.*?)\ue006")
_PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*(=[A-Z][A-Z0-9_]*)?$")


@dataclass(frozen=True)
class OptionRef:
    """A setting named in an error message: a config field and, optionally, the value to give it."""

    field: str
    value: Any = _NO_VALUE

    @property
    def has_value(self) -> bool:
        return self.value is not _NO_VALUE

    def library_text(self) -> str:
        """How a Python caller spells it: ``benchmarks=['math_test=PATH']``, ``contamination=False``."""
        if not self.has_value:
            return self.field
        return f"{self.field}={_py(self.value)}"


def _py(value: Any) -> str:
    if isinstance(value, str) and _PLACEHOLDER.match(value):
        return value  # a placeholder such as PATH or URL, not a literal string
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) if not isinstance(v, str) else repr(v) for v in value) + "]"
    return repr(value)


def clip(text: Any, limit: int = 120) -> str:
    """``text`` for a message: a long value (a 100 KB ``--model``, a pasted file) cut to its start, with
    its length, so the message stays one readable line."""
    s = str(text)
    if len(s) <= limit:
        return s
    return f"{s[: limit - 40]}... ({len(s)} characters)"


def opt(field: str, value: Any = _NO_VALUE) -> str:
    """Name the setting ``field`` (optionally with ``value``) inside an error message.

    ``opt("benchmarks", ["math_test=PATH"])`` reads ``benchmarks=['math_test=PATH']`` from Python and
    ``--benchmark math_test=PATH`` on the command line; ``opt("contamination", False)`` reads
    ``contamination=False`` and ``--no-contamination``; ``opt("model")`` reads ``model`` and ``--model``.
    """
    if isinstance(value, str):
        value = clip(value)
    encoded = _NO_VALUE if value is _NO_VALUE else json.dumps(value)
    return f"{_OPEN}{field}{_SEP}{encoded}{_CLOSE}"


def _refs(template: str) -> list[tuple[str, OptionRef]]:
    out = []
    for m in _MARK.finditer(template):
        raw = m.group(2)
        value = _NO_VALUE if raw == _NO_VALUE else json.loads(raw)
        out.append((m.group(0), OptionRef(m.group(1), value)))
    return out


def optional(text: str) -> str:
    """A clause of a message that offers another way out (``", or " + opt("contamination", False)``): it is
    left out where a setting it names does not exist (a command without that flag)."""
    return f"\ue005{text}\ue006"


def _render(template: str, spell: Callable[[OptionRef], str]) -> str:
    def clause(m: re.Match[str]) -> str:
        inner = m.group(1)
        spelled = [(mark, spell(ref)) for mark, ref in _refs(inner)]
        if any(s.startswith(ELSEWHERE) for _, s in spelled):
            return ""
        for mark, s in spelled:
            inner = inner.replace(mark, s)
        return inner

    template = _ALT.sub(clause, template)
    for mark, ref in _refs(template):
        template = template.replace(mark, spell(ref).removeprefix(ELSEWHERE))
    return template


class SynthmathError(Exception):
    """Base class: a failure with a one-line, actionable message.

    ``str(error)`` names settings as config fields; :meth:`render` names them however the caller
    wants (the CLI passes a function that spells each as its flag).
    """

    def __init__(self, message: str = "", *args: Any) -> None:
        message = str(message)
        self.template = message
        self.options: tuple[OptionRef, ...] = tuple(ref for _, ref in _refs(message))
        super().__init__(_render(message, OptionRef.library_text), *args)

    def render(self, spell: Callable[[OptionRef], str]) -> str:
        """The message with every setting spelled by ``spell``.

        Settings named by the errors this one was raised from (``raise ... from e``) are respelled too,
        since a message that quotes another (``f"benchmark x: {e}"``) holds them in library form.
        """
        text = _render(self.template, spell)
        seen: set[int] = set()
        cause: BaseException | None = self.__cause__ or self.__context__
        while cause is not None and id(cause) not in seen:
            seen.add(id(cause))
            if isinstance(cause, SynthmathError):
                for ref in cause.options:
                    text = text.replace(ref.library_text(), spell(ref).removeprefix(ELSEWHERE))
            cause = cause.__cause__ or cause.__context__
        return text


_SPELLER: contextvars.ContextVar[Callable[[OptionRef], str]] = contextvars.ContextVar(
    "synthmath_option_speller", default=OptionRef.library_text
)


@contextlib.contextmanager
def spelling(spell: Callable[[OptionRef], str]) -> Iterator[None]:
    """Within the block, :func:`spoken` names settings with ``spell`` (the CLI: as its flags)."""
    token = _SPELLER.set(spell)
    try:
        yield
    finally:
        _SPELLER.reset(token)


def spoken(e: BaseException | str) -> str:
    """An error's message, or a message holding :func:`opt` marks, for a warning or a report, in the
    caller's language: config fields from Python, flags under the CLI (:func:`spelling`)."""
    if isinstance(e, str):
        return _render(e, _SPELLER.get())
    return e.render(_SPELLER.get()) if isinstance(e, SynthmathError) else str(e)


class ConfigError(SynthmathError):
    """An invalid option, config file or prompt template."""


class BenchmarkUnavailableError(ConfigError):
    """A benchmark could not be fetched from the Hugging Face Hub (offline, or the Hub failed)."""


class SeedError(SynthmathError):
    """A seed source that cannot be read: missing file, bad line, missing fields."""


class NoSeedsError(SeedError):
    """The seed source, after ``subjects``/``levels``/``limit``/``shard`` and the other filters, is empty."""

    def __init__(self, message: str, *args: Any, filter_field: str | None = None) -> None:
        self.filter_field = filter_field
        super().__init__(message, *args)


class TextEncodingError(SynthmathError):
    """An input file is not UTF-8 text (UTF-16, latin-1, binary...)."""


class OutputError(SynthmathError):
    """The output directory cannot be created or written."""


class OutputLockedError(OutputError):
    """Another run (a build, a merge) holds the output directory: one run writes a folder at a time."""


class ContaminationError(SynthmathError):
    """Records or seeds match benchmark items and the run was told to fail on that."""


class HubError(SynthmathError):
    """The Hugging Face Hub refused a request (bad token, no write access) or kept failing."""


class HubUnreachableError(HubError):
    """The Hub cannot be reached: offline mode (``HF_HUB_OFFLINE=1``), no DNS, or no route."""


class ServerError(SynthmathError):
    """The generation server failed for good (after retries)."""


class ServerUnreachableError(ServerError):
    """No OpenAI-compatible server answers at the configured URL."""

    def __init__(self, base_url: str, detail: str = "") -> None:
        self.base_url = base_url
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"no server at {clip(base_url, 300)}{extra} - start one with `vllm serve MODEL` "
            f"or pass {opt('base_url', ['URL'])} of a running OpenAI-compatible server"
        )


class ModelNotFoundError(ServerError):
    """The requested model is not among the ones the server lists."""

    def __init__(self, model: str, served: list[str], base_url: str) -> None:
        self.model = model
        self.served = served
        listed = clip(", ".join(served), 400) if served else "none"
        super().__init__(
            f"model {clip(repr(model))} is not served at {clip(base_url, 300)} (served: {listed}) - "
            f"set {opt('model')} to one of these"
        )


class BuildFailedError(ServerError):
    """Requests failed beyond the configured limits (``max_failed_seeds``, ``max_failed_fraction``): the
    build stops with the server's last error, leaves the earlier output as it was and exits non-zero."""
