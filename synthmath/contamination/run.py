"""Running the contamination check: over JSONL files (``synthmath check-contamination``) and over a
build's output (the gate at the end of build-instruct and build-dpo).

Both stream their input and write ``contamination.jsonl`` (one row per checked text),
``contamination_report.json`` and ``contamination_report.md``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigError, SeedError
from .benchmarks import Benchmark, load_benchmarks
from .check import CheckResult, ContaminationChecker, Judge, Thresholds, report_markdown

__all__ = ["DEFAULT_FIELDS", "check_files", "default_cache_dir", "make_checker", "record_text"]

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
    if embeddings is None:
        try:
            import sentence_transformers  # noqa: F401
        except ImportError:
            log.warning(
                "contamination check without its embedding stage, which catches rephrased benchmark items: "
                "pip install 'synthmath[embed]'"
            )
            embeddings = False
        else:
            embeddings = True
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


class _Ticker:
    """A progress line on stderr every few seconds."""

    def __init__(self, label: str, enabled: bool, every: float = 5.0) -> None:
        self.label, self.enabled, self.every = label, enabled, every
        self.started = self.last = time.monotonic()

    def tick(self, checker: ContaminationChecker, force: bool = False) -> None:
        now = time.monotonic()
        if self.enabled and (force or now - self.last >= self.every):
            self.last = now
            rate = checker.checked / max(now - self.started, 1e-9)
            print(
                f"synthmath: {self.label}: checked {checker.checked} texts ({rate:.0f}/s), "
                f"{checker.contaminated} match benchmark items",
                file=sys.stderr,
                flush=True,
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
    from ..output import write_json_atomic

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
    ticker = _Ticker("contamination", progress)
    partial = out / "contamination.jsonl.partial"
    with partial.open("w", encoding="utf-8") as f:
        for result in checker.check(_rows(paths, fields)):
            f.write(json.dumps(result.to_json_dict(), ensure_ascii=False) + "\n")
            ticker.tick(checker)
    os.replace(partial, out / "contamination.jsonl")
    ticker.tick(checker, force=True)
    return write_reports(out, checker, {"inputs": [str(p) for p in paths], "fields": list(fields)})


def _write(f: IO[str], result: CheckResult, kind: str) -> None:
    f.write(json.dumps({**result.to_json_dict(), "kind": kind}, ensure_ascii=False) + "\n")


def check_seeds(checker: ContaminationChecker, seeds: Iterable[Any], f: IO[str]) -> dict[str, CheckResult]:
    """Check seed problems; write every result; return the contaminated ones by seed id."""
    hits: dict[str, CheckResult] = {}
    for result in checker.check((s.id, s.problem) for s in seeds):
        _write(f, result, "seed")
        if result.contaminated:
            hits[result.id] = result
    return hits


def _reason(result: CheckResult | None, seed: CheckResult | None) -> str:
    parts = []
    for label, r in (("question", result), ("seed", seed)):
        if r is not None and r.matches:
            m = r.matches[0]
            parts.append(f"{label} matches {m.benchmark} item {m.benchmark_id} ({m.method}, score {m.score})")
    return "; ".join(parts)


def gate_build(
    *,
    checker: ContaminationChecker,
    seeds: Iterable[Any],
    records: Path,
    rejects: Path,
    out: Path,
    mode: str,
    progress: bool = False,
) -> dict[str, Any]:
    """Check a finished build's seeds and generated questions; drop, flag or count what matches.

    ``records`` (a JSONL file) is rewritten in place: without contaminated records for ``drop`` (which
    appends them to ``rejects`` with their matches), with a ``contaminated`` column for ``flag``.
    Returns the counts; ``dropped`` lists (seed_id, subject, level) of each dropped record.
    """
    from ..records import Reject

    ticker = _Ticker("contamination check", progress)
    pending: deque[dict[str, Any]] = deque()
    counts: Counter[str] = Counter(dict.fromkeys(("records_checked", "records_contaminated"), 0))
    dropped: list[tuple[str, Any, Any]] = []
    contamination = out / "contamination.jsonl.partial"
    rewritten = records.with_name(records.name + ".gate")
    with contamination.open("w", encoding="utf-8") as cf:
        seed_hits = check_seeds(checker, seeds, cf)
        counts["seeds_checked"] = checker.checked
        counts["seeds_contaminated"] = len(seed_hits)

        def texts() -> Iterator[tuple[str, str]]:
            with records.open(encoding="utf-8") as src:
                for line in src:
                    row = json.loads(line)
                    pending.append(row)
                    yield str(row["id"]), record_text(row, DEFAULT_FIELDS) or ""

        with rewritten.open("w", encoding="utf-8") as dst, rejects.open("a", encoding="utf-8") as rej:
            for result in checker.check(texts()):
                row = pending.popleft()
                seed = seed_hits.get(str(row.get("seed_id")))
                bad = result.contaminated or seed is not None
                result.contaminated = bad
                cf.write(
                    json.dumps(
                        {**result.to_json_dict(), "kind": "record", "seed_contaminated": seed is not None}
                    )
                    + "\n"
                )
                counts["records_checked"] += 1
                counts["records_contaminated"] += bad
                if mode == "flag":
                    row["contaminated"] = bad
                if bad and mode == "drop":
                    reject = Reject(
                        seed_id=str(row.get("seed_id")),
                        stage="contamination",
                        reason="benchmark_match",
                        detail=_reason(result, seed),
                        question=record_text(row, DEFAULT_FIELDS),
                        extra={"record": row, "matches": result.to_json_dict()["matches"]},
                    )
                    rej.write(json.dumps(reject.to_json_dict(), ensure_ascii=False) + "\n")
                    dropped.append((str(row.get("seed_id")), row.get("subject"), row.get("level")))
                else:
                    dst.write(json.dumps(row, ensure_ascii=False) + "\n")
                ticker.tick(checker)
    os.replace(rewritten, records)
    os.replace(contamination, out / "contamination.jsonl")
    ticker.tick(checker, force=True)
    report = write_reports(out, checker, {"mode": mode, **counts})
    if mode == "fail" and (counts["records_contaminated"] or counts["seeds_contaminated"]):
        from ..errors import ContaminationError

        raise ContaminationError(
            f"{counts['records_contaminated']} records and {counts['seeds_contaminated']} seeds match "
            f"benchmark items - see {out / 'contamination_report.md'}; rerun with --on-contamination drop"
        )
    return {
        "mode": mode,
        **counts,
        "records_dropped": len(dropped),
        "stages": report["stages"],
        "benchmarks": report["benchmarks"],
        "thresholds": report["thresholds"],
        "records_per_second": report["records_per_second"],
        "dropped": dropped,
    }


def check_config_benchmarks(specs: Sequence[str]) -> None:
    """Fail early (before hours of generation) on a benchmark spec that cannot be loaded."""
    for spec in specs:
        name, sep, path = spec.partition("=")
        if sep and not Path(path.strip()).expanduser().is_file():
            raise ConfigError(f"benchmark {name}: {path} not found - check --benchmark {name}=PATH")
