"""Running the contamination check: over JSONL files (``synthmath check-contamination``) and over a
build's output (the gate at the end of build-instruct and build-dpo).

Both stream their input and write ``contamination.jsonl`` (one row per checked text),
``contamination_report.json`` and ``contamination_report.md``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SeedError, opt, spoken
from ..install import install_hint
from ..progress import ProgressReporter
from .benchmarks import Benchmark, load_benchmarks
from .check import ContaminationChecker, Judge, Thresholds, report_markdown

__all__ = [
    "DEFAULT_FIELDS",
    "check_files",
    "default_cache_dir",
    "embedding_stage",
    "make_checker",
    "record_text",
]

log = logging.getLogger("synthmath")

DEFAULT_FIELDS = ("question", "prompt", "problem")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "synthmath" / "contamination"


def record_text(row: Mapping[str, Any], fields: Sequence[str]) -> str | None:
    """The text to check: the first of ``fields`` that holds a string, or a chat prompt's last user turn."""
    for name in fields:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, list):  # TRL's conversational form: a list of messages
            users = [m.get("content") for m in value if isinstance(m, dict) and m.get("role") == "user"]
            if users and isinstance(users[-1], str):
                return users[-1]
    return None


_warned: set[str] = set()


def embedding_stage(wanted: bool | None, *, warn: bool = True) -> bool:
    """Whether the check runs its embedding stage: as asked, or (None) when sentence-transformers is
    installed, saying once per process when it is not (unless ``warn`` is off: the caller says it
    later, once the check is sure to run)."""
    if wanted is not None:
        return wanted
    if importlib.util.find_spec("sentence_transformers") is not None:
        return True
    if warn and "embed" not in _warned:
        _warned.add("embed")
        log.warning(
            spoken(
                "contamination check without its embedding stage, which catches rephrased benchmark "
                f"items: {install_hint('embed')} (or {opt('embeddings', False)} to say you mean it)"
            )
        )
    return False


def make_checker(
    benchmarks: Sequence[str | Benchmark],
    *,
    embeddings: bool | None = None,
    judge: Judge | None = None,
    thresholds: Thresholds | None = None,
    cache_dir: Path | None = None,
) -> ContaminationChecker:
    """A checker over ``benchmarks`` (names, NAME=PATH, or loaded :class:`Benchmark` s).
    ``embeddings=None`` uses the embedding stage when sentence-transformers is installed
    (``synthmath[embed]``) and says so when it is not."""
    specs = [b for b in benchmarks if isinstance(b, str)]
    loaded = iter(load_benchmarks(specs))
    benches = [next(loaded) if isinstance(b, str) else b for b in benchmarks]
    embedder = None
    embeddings = embedding_stage(embeddings)
    if judge is not None and not embeddings:
        raise ConfigError(
            "the judge is asked about the embedding stage's candidates - install synthmath[embed] "
            "(and drop --no-embeddings), or drop --judge"
        )
    if embeddings:
        from .embeddings import load_model

        embedder = load_model()
    return ContaminationChecker(
        benches,
        embedder=embedder,
        judge=judge,
        thresholds=thresholds,
        cache_dir=cache_dir or default_cache_dir(),
    )


def check_inputs(paths: Sequence[Path], fields: Sequence[str] = DEFAULT_FIELDS) -> None:
    """Fail at once, before any model loads, when a file is missing or its first row has no id or text."""
    for path in paths:
        next(_rows([path], fields), None)


def _rows(paths: Sequence[Path], fields: Sequence[str]) -> Iterator[tuple[str, str]]:
    from ..seeds import read_rows

    for path in paths:
        if not path.is_file():
            raise SeedError(f"{path}: file not found")
        for row, where in read_rows(path):
            if row.get("id") in (None, ""):
                raise SeedError(f"{where}: no 'id' field - every row needs an id to report on")
            text = record_text(row, fields)
            if text is None:
                raise SeedError(f"{where}: no text in {', '.join(fields)} - name the text field with --field")
            yield str(row["id"]), text


def write_reports(
    out: Path, checker: ContaminationChecker, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    from ..summary import write_json_atomic

    report = {**checker.report(), **(extra or {})}
    write_json_atomic(out / "contamination_report.json", report)
    tmp = out / "contamination_report.md.partial"
    tmp.write_text("# Contamination report\n\n" + report_markdown(report), encoding="utf-8")
    os.replace(tmp, out / "contamination_report.md")
    return report


def check_files(
    paths: Sequence[Path],
    out: Path,
    checker: ContaminationChecker,
    *,
    fields: Sequence[str] = DEFAULT_FIELDS,
    progress: bool = False,
) -> dict[str, Any]:
    """Check every row of the JSONL/JSON/parquet ``paths``; write the results and reports to ``out``."""
    from ..output import prepare_dir

    prepare_dir(out)
    partial = out / "contamination.jsonl.partial"

    def line() -> str:
        rate = checker.checked / max(bar.elapsed, 1e-9)
        return f"{checker.contaminated} match benchmark items | {rate:.0f}/s"

    with (
        ProgressReporter(None, enabled=progress, interval=5.0, unit="texts checked") as bar,
        partial.open("w", encoding="utf-8") as f,
    ):
        for result in checker.check(_rows(paths, fields)):
            f.write(json.dumps(result.to_json_dict(), ensure_ascii=False) + "\n")
            bar.update(checker.checked, line)
        bar.update(checker.checked, line(), force=True)
    os.replace(partial, out / "contamination.jsonl")
    return write_reports(out, checker, {"inputs": [str(p) for p in paths], "fields": list(fields)})
