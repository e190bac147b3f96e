"""Reading what becomes a config: config files, ``KEY=VALUE`` flags, shell-like argument strings, and
the one-line message of a validation error."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ConfigError, clip, opt
from ..textio import read_text

__all__ = [
    "check_combinations",
    "first_error",
    "key_values",
    "known_thresholds",
    "read_config_file",
    "shard_spec",
    "shell_words",
    "split_commas",
]


def key_values(v: Any, example: str) -> Any:
    """``["a=1", "b=x"]`` (repeated flags) as ``{"a": 1, "b": "x"}``, values read as YAML; else ``v``."""
    if not isinstance(v, (list, tuple)):
        return v
    out: dict[str, Any] = {}
    for item in v:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{item!r} is not KEY=VALUE, e.g. {example}")
        out[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return out


def split_commas(v: Any) -> Any:
    """``"a, b"`` (one flag) as ``["a", "b"]``, a lone number as a list of one; else ``v``."""
    if isinstance(v, str):
        return [s.strip() for s in v.split(",") if s.strip()]
    return [v] if isinstance(v, int) else v


def check_combinations(self: Any) -> None:
    """Options that do not go together (a BuildConfig's after-validator): one line saying what to drop."""
    managed = "--local" if self.local else "--serve" if self.serve else None
    if self.local and self.serve:
        raise ValueError("--local and --serve both start a server - pick one")
    if managed and self.backend == "vllm":
        raise ValueError(f"{managed} starts a server, --backend vllm loads the model in-process - pick one")
    if managed and "base_url" in self.model_fields_set:
        raise ValueError(f"{managed} starts its own server - drop --base-url (or drop {managed})")
    if self.serve and self.model is not None:
        raise ValueError("--serve MODEL names the model - drop --model")
    if (self.serve_args or self.serve_timeout is not None) and not managed:
        raise ValueError("--serve-arg and --serve-timeout need --local or --serve")
    if "local_backend" in self.model_fields_set and not self.local:
        raise ValueError("--local-backend needs --local")
    if self.local and self.local_backend != "llama.cpp" and (self.serve_args or self.serve_timeout):
        raise ValueError(
            "--serve-arg and --serve-timeout go to a server: use them with --local-backend llama.cpp"
        )
    if self.min_correct is not None and self.min_correct > self.max_tries:
        raise ValueError(
            f"{opt('min_correct')} ({self.min_correct}) is more than {opt('max_tries')} ({self.max_tries}) - "
            "no question could reach it"
        )
    if self.min_correct is not None and self.answer_samples > self.max_tries:
        raise ValueError(
            f"{opt('answer_samples')} ({self.answer_samples}) is more than {opt('max_tries')} "
            f"({self.max_tries}) - lower {opt('answer_samples')} (answers asked per round) or raise "
            f"{opt('max_tries')}"
        )
    if self.solve_check_min_agree > self.solve_check_samples:
        raise ValueError(
            f"solve_check_min_agree ({self.solve_check_min_agree}) is more than solve_check_samples "
            f"({self.solve_check_samples}) - no rephrasing could pass"
        )


def known_thresholds(v: Any) -> Any:
    """``v`` when every key of it names one of the contamination checker's thresholds."""
    if isinstance(v, dict):
        from ..contamination.settings import Thresholds

        known = sorted(f for f in Thresholds.__dataclass_fields__ if f != "drop")
        for key in v:
            if key not in known:
                raise ValueError(f"unknown threshold {key!r} - one of {', '.join(known)}")
    return v


def shard_spec(v: str) -> str:
    """``"I/N"`` checked and normalised (``" 0 / 4"`` -> ``"0/4"``)."""
    parts = v.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"{v!r} is not I/N, e.g. 0/4 for the first of four shards")
    i, n = (int(p) for p in parts)
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"shard {v!r}: need 0 <= I < N")
    return f"{i}/{n}"


def shell_words(v: Any) -> Any:
    """Each string split like a shell line: ``["--a 1", "--b"]`` -> ``["--a", "1", "--b"]``; else ``v``."""
    if isinstance(v, str):
        v = [v]
    if isinstance(v, (list, tuple)):
        try:
            return [word for item in v for word in shlex.split(str(item))]
        except ValueError as e:
            raise ValueError(f"cannot split {v!r} into arguments ({e})") from e
    return v


_BOUNDS = {"greater_than_equal": "of at least", "greater_than": "over", "less_than_equal": "of at most",
           "less_than": "under"}  # fmt: skip
_STEPS = ("question_sampling", "answer_sampling")


def first_error(e: ValidationError) -> str:
    """The first problem of a config, in one line: the setting as the caller names it (``--limit -1``
    under the CLI, ``limit=-1`` from Python; long values cut), what is wrong, and what to give instead."""
    errors = e.errors()
    err = errors[0]
    more = f" ({len(errors) - 1} more)" if len(errors) > 1 else ""
    msg = err["msg"].removeprefix("Value error, ")
    loc = [str(p) for p in err["loc"]]
    if not loc:
        return f"invalid config: {msg}{more}"
    field = ".".join(loc[:2]) if loc[0] in _STEPS and len(loc) > 1 else loc[0]
    value = err.get("input")
    named = opt(field, value) if isinstance(value, (str, int, float)) else opt(field)
    if err["type"] in _BOUNDS:
        bound = next(iter((err.get("ctx") or {}).values()), "?")
        return f"{named} is out of range{more} - give {opt(field)} a value {_BOUNDS[err['type']]} {bound}"
    if err["type"] == "value_error":  # a validator's own words, which say what to give
        return f"{opt(field)}: {clip(msg, 300)}{more}"
    return f"{named}: {clip(msg, 300)}{more} - change {opt(field)}"


def read_config_file(path: Path) -> dict[str, Any]:
    """A config file's keys, with dashes mapped to underscores (``max-tokens`` -> ``max_tokens``)."""
    try:
        text = read_text(path)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config file ({e.strerror}) - check --config") from e
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'} ({e})") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must be a mapping of option names to values")
    return {str(k).replace("-", "_"): v for k, v in data.items()}
