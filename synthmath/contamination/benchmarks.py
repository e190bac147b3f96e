"""Benchmark test sets to check against: loaded from the Hub by name, or from local files.

``--benchmark NAME=PATH`` reads a local file; the shapes of the usual releases are recognised without
extra flags: MATH ``problem``, GSM8K ``question``, SVAMP ``Body`` + ``Question``, TheoremQA
``Question``, OlympiadBench ``question``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BenchmarkUnavailableError, ConfigError, SeedError, opt, optional
from ..hub_access import hub_offline_reason, offline_mode
from ..seeds import read_rows

__all__ = [
    "DEFAULT_BENCHMARKS",
    "HUB_BENCHMARKS",
    "Benchmark",
    "BenchmarkItem",
    "check_benchmark_specs",
    "load_benchmarks",
    "parse_benchmark_spec",
]


@dataclass(frozen=True)
class BenchmarkItem:
    benchmark: str
    id: str
    text: str


@dataclass(frozen=True)
class HubSpec:
    repo: str
    split: str
    configs: tuple[str, ...] | None = None  # None: every config of the repo


HUB_BENCHMARKS: dict[str, HubSpec] = {
    "math_test": HubSpec("EleutherAI/hendrycks_math", "test"),
    "math500": HubSpec("HuggingFaceH4/MATH-500", "test"),
    "gsm8k_test": HubSpec("openai/gsm8k", "test", ("main",)),
    "svamp": HubSpec("ChilleD/SVAMP", "test"),
    "theoremqa": HubSpec("TIGER-Lab/TheoremQA", "test"),
    "olympiadbench": HubSpec("Hothan/OlympiadBench", "train", ("OE_TO_maths_en_COMP",)),
}
DEFAULT_BENCHMARKS = ("math_test", "math500", "gsm8k_test")

_ID_KEYS = ("id", "unique_id", "ID", "idx", "question_id")


def item_text(row: Mapping[str, Any]) -> str | None:
    """The question text of a benchmark row, whatever the release's field names."""
    if row.get("Body") and row.get("Question"):  # SVAMP splits the problem in two
        return f"{str(row['Body']).strip()} {str(row['Question']).strip()}"
    for key in ("problem", "question", "Question", "Problem", "prompt", "text"):
        value = row.get(key)
        if value:
            return str(value)
    return None


def _item_id(row: Mapping[str, Any], index: int) -> str:
    for key in _ID_KEYS:
        if row.get(key) not in (None, ""):
            return str(row[key]).removesuffix(".json")
    return str(index)


@dataclass
class Benchmark:
    """One benchmark's items, and a hash of their content (the key of every cached index)."""

    name: str
    items: list[BenchmarkItem]

    @functools.cached_property
    def content_hash(self) -> str:
        """Read once: every index of the checker asks for it, and hashing MATH test takes 16 ms."""
        h = hashlib.sha256(self.name.encode())
        for item in self.items:
            h.update(b"\x00" + item.id.encode() + b"\x01" + item.text.encode())
        return h.hexdigest()[:16]


def _from_file(name: str, path: Path) -> Benchmark:
    items = []
    try:
        for i, (row, where) in enumerate(read_rows(path)):
            text = item_text(row)
            if text is None:
                raise ConfigError(
                    f"{where}: no question text (looked for problem, question, Question, Body+Question) - "
                    "is this a benchmark file?"
                )
            items.append(BenchmarkItem(name, _item_id(row, i), text))
    except SeedError as e:
        raise ConfigError(f"benchmark {name}: {e}") from e
    if not items:
        raise ConfigError(f"benchmark {name}: {path} holds no items")
    return Benchmark(name, items)


def _from_hub(name: str) -> Benchmark:
    spec = HUB_BENCHMARKS[name]
    instead = f"pass {opt('benchmarks', [f'{name}=PATH'])} to a local copy" + optional(
        f", or {opt('contamination', False)}"
    )
    # offline mode may still find a cached copy; with the network gone, say so now, not after retries
    reason = None if offline_mode() else hub_offline_reason()
    if reason is not None:
        raise BenchmarkUnavailableError(
            f"cannot load benchmark {name} ({spec.repo}): the Hugging Face Hub is unreachable ({reason}) - "
            + instead
        )
    try:
        import datasets

        configs = spec.configs or tuple(datasets.get_dataset_config_names(spec.repo))
        items = []
        for config in configs:
            ds = datasets.load_dataset(spec.repo, config, split=spec.split)
            prefix = f"{config}/" if len(configs) > 1 else ""
            for i, row in enumerate(ds):
                text = item_text(row)
                if text is not None:
                    items.append(BenchmarkItem(name, prefix + _item_id(row, i), text))
    except Exception as e:
        raise BenchmarkUnavailableError(
            f"cannot load benchmark {name} ({spec.repo}) from the Hugging Face Hub ({type(e).__name__}) - "
            + instead
        ) from e
    return Benchmark(name, items)


def parse_benchmark_spec(spec: str) -> tuple[str, Path | None]:
    """``"math500"`` -> ``("math500", None)``; ``"mine=data/b.jsonl"`` -> ``("mine", Path(...))``.

    Raises ConfigError for an empty name (``"=path"``), an empty path (``"name="``) or an unknown name
    without a path. Only the syntax is checked: whether the file exists is the loader's business."""
    name, sep, path = str(spec).partition("=")
    name, path = name.strip(), path.strip()
    known = ", ".join(HUB_BENCHMARKS)
    if not name:
        raise ConfigError(
            f"benchmark {spec!r} has no name - write NAME=PATH, e.g. {opt('benchmarks', ['math_test=PATH'])}"
        )
    if sep and not path:
        raise ConfigError(f"benchmark {name!r} has an empty path - write {name}=PATH, or just one of {known}")
    if not sep and name not in HUB_BENCHMARKS:
        raise ConfigError(f"unknown benchmark {name!r} - use one of {known}, or NAME=PATH for a local file")
    return name, Path(path).expanduser() if sep else None


def check_benchmark_specs(specs: Sequence[str]) -> list[tuple[str, Path | None]]:
    """Every spec parsed (see :func:`parse_benchmark_spec`), and no name given twice."""
    parsed = [parse_benchmark_spec(spec) for spec in specs]
    names = [name for name, _ in parsed]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"benchmark {name} given twice - give each benchmark once")
    return parsed


def load_benchmarks(specs: Sequence[str]) -> list[Benchmark]:
    """Benchmarks by spec: ``"math_test"`` loads from the Hub, ``"gsm8k_test=PATH"`` from a local file."""
    parsed = check_benchmark_specs(specs)
    return [_from_hub(name) if path is None else _from_file(name, path) for name, path in parsed]


def iter_items(benchmarks: Sequence[Benchmark]) -> Iterator[BenchmarkItem]:
    for b in benchmarks:
        yield from b.items
