"""A finished build at a glance (``synthmath show OUT``): its counts, why candidates were rejected with
one example of each reason, a few records beside the seeds they came from, and the plots.

Reading a few records next to their seeds is the check that counts cannot replace: a rewording that
changed the problem can still pass every check (docs/verification.md).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .summary import Summary, read_summary

__all__ = ["BuildOverview", "RejectReason", "overview"]


@dataclass
class RejectReason:
    """One reject reason of a stage: how many, and the first reject that gave it."""

    stage: str
    reason: str
    count: int
    example: dict[str, Any]


@dataclass
class BuildOverview:
    """What :func:`overview` found in a build directory."""

    out: Path
    summary: Summary
    reasons: list[RejectReason] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    seeds: dict[str, dict[str, Any]] = field(default_factory=dict)  # seed id -> seed, for ``records``
    seeds_unavailable: str | None = None  # why the records' seeds are not shown
    plots: list[Path] = field(default_factory=list)
    plots_unavailable: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "summary": self.summary.model_dump(mode="json", exclude={"prompts", "config"}),
            "reject_reasons": [r.__dict__ for r in self.reasons],
            "records": [{"record": r, "seed": self.seeds.get(r.get("seed_id", ""))} for r in self.records],
            "seeds_unavailable": self.seeds_unavailable,
            "plots": [str(p) for p in self.plots],
            "plots_unavailable": self.plots_unavailable,
        }


def overview(out: Path | str, *, examples: int = 3, plots: bool = True) -> BuildOverview:
    """Read the build in ``out``: its summary, every reject reason with its first example, the first
    ``examples`` records with their seeds (read again from the build's seed source), and, with
    ``plots`` and matplotlib installed, the figures of ``synthmath push`` written to ``OUT/plots``."""
    out = Path(out)
    summary = read_summary(out)
    view = BuildOverview(out=out, summary=summary, reasons=_reasons(out / "rejects.jsonl"))
    view.records = _first(out / summary.files.get("records", f"{summary.kind}.jsonl"), examples)
    if view.records:
        view.seeds, view.seeds_unavailable = _seeds(summary, {r.get("seed_id", "") for r in view.records})
    if plots:
        view.plots, view.plots_unavailable = _plots(out, summary)
    return view


def _rows(path: Path) -> Any:
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _first(path: Path, n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for row in _rows(path):
        if len(rows) >= n:
            break
        rows.append(row)
    return rows


def _reasons(path: Path) -> list[RejectReason]:
    counts: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for row in _rows(path):
        key = (str(row.get("stage", "")), str(row.get("reason", "")))
        counts[key] += 1
        first.setdefault(key, row)
    return [
        RejectReason(stage, reason, n, first[(stage, reason)]) for (stage, reason), n in counts.most_common()
    ]


def _seeds(summary: Summary, wanted: set[str]) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The seeds behind ``wanted`` ids, read again from the build's source (stops once all are found)."""
    source = summary.config.get("seeds")
    if not source:
        return {}, "the build was given seed objects, not a source to read them again from"
    from .errors import SynthmathError
    from .records import SeedProblem
    from .seeds import iter_seed_stream

    found: dict[str, dict[str, Any]] = {}
    try:
        for item in iter_seed_stream(source, split=summary.config.get("split") or "train"):
            if isinstance(item, SeedProblem) and item.id in wanted:
                found[item.id] = item.to_json_dict()
                if len(found) == len(wanted):
                    break
    except (SynthmathError, OSError) as e:
        return found, f"cannot read the seeds again from {source}: {e}"
    return found, None


def _plots(out: Path, summary: Summary) -> tuple[list[Path], str | None]:
    from .publish.plots import make_plots, plots_unavailable

    why = plots_unavailable()
    if why is not None:
        return [], why
    dest = out / "plots"
    names = make_plots(out, summary.model_dump(mode="json"), dest)
    return [dest / n for n in names], None
