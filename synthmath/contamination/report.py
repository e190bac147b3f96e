"""Counting checked texts for the report, and the report as Markdown (also the card's section).

:class:`Tally` needs nothing but plain data, so a pipeline that screens in worker processes and
resolves in its main process keeps one there: ``Tally(checker_info)``, then :meth:`Tally.add` for
each result.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from .results import LEVELS, CheckResult, Screening

__all__ = ["Tally", "report_markdown"]


class Tally:
    """Counts per benchmark, stage and level, examples, and seconds per stage.

    ``info``: the checker's :meth:`~synthmath.contamination.check.ContaminationChecker.info` (its
    stages, benchmarks, thresholds and index build times), copied into the report.
    """

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.checked = 0
        self.contaminated = 0
        self.found: Counter[tuple[str, str]] = Counter()  # (benchmark, method) -> texts dropped
        self.levels: Counter[tuple[str, str]] = Counter()  # (benchmark, level) -> texts
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.examples: list[dict[str, Any]] = []

    def add(self, screening: Screening, result: CheckResult) -> None:
        """Count one result (``screening``: the one it was resolved from, for the examples' texts)."""
        self.checked += 1
        for key in {(m.benchmark, m.level) for m in result.matches}:
            self.levels[key] += 1
        if not result.contaminated:
            return
        self.contaminated += 1
        for found in {(m.benchmark, m.method) for m in result.matches if m.level == result.level}:
            self.found[found] += 1
        if len(self.examples) < 10:
            best = next(m for m in result.matches if m.level == result.level)
            self.examples.append(
                {
                    "id": result.id,
                    "text": screening.text[:500],
                    "benchmark": best.benchmark,
                    "benchmark_id": best.benchmark_id,
                    "method": best.method,
                    "level": best.level,
                    "score": best.score,
                    "benchmark_text": screening.item_texts.get(f"{best.benchmark}/{best.benchmark_id}", "")[
                        :500
                    ],
                }
            )

    def add_all(self, screenings: Sequence[Screening], results: Sequence[CheckResult]) -> None:
        for s, r in zip(screenings, results, strict=True):
            self.add(s, r)

    def report(self) -> dict[str, Any]:
        """Counts per benchmark and stage (texts dropped), per benchmark and level (texts with a match
        at that level), thresholds, speeds and examples."""
        stages = self.info["stages"]
        per_benchmark = {name: dict.fromkeys(stages, 0) for name in self.info["benchmarks"]}
        for (bench, method), n in self.found.items():
            per_benchmark.setdefault(bench, {})[method] = n
        levels: dict[str, dict[str, int]] = {
            name: dict.fromkeys(LEVELS, 0) for name in self.info["benchmarks"]
        }
        for (bench, level), n in self.levels.items():
            levels.setdefault(bench, {})[level] = n
        speeds = {
            s: round(self.checked / secs, 1) for s, secs in self.seconds.items() if secs > 0 and self.checked
        }
        return {
            "checked": self.checked,
            "contaminated": self.contaminated,
            **{k: v for k, v in self.info.items() if k != "index_seconds"},
            "found": per_benchmark,
            "levels": levels,
            "records_per_second": speeds,
            "index_seconds": self.info.get("index_seconds", {}),
            "examples": self.examples,
        }


def report_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown (also the contamination section of a dataset card)."""
    stages = report["stages"]
    benches = ", ".join(f"{k} ({v} items)" for k, v in report["benchmarks"].items())
    drop = report["thresholds"].get("drop", ["same_problem"])
    lines = [
        f"Checked **{report['checked']}** texts against {benches} with the stages {', '.join(stages)}: "
        f"**{report['contaminated']}** matched a benchmark item at a level that is dropped "
        f"({', '.join(drop)}).",
        "",
        "| benchmark | " + " | ".join(stages) + " | same problem | same template |",
        "|---|" + "---:|" * (len(stages) + 2),
    ]
    for bench, counts in report["found"].items():
        lv = report.get("levels", {}).get(bench, {})
        cells = [str(counts.get(s, 0)) for s in stages] + [str(lv.get(x, 0)) for x in LEVELS]
        lines.append(f"| {bench} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Stage columns count the dropped texts each stage found; the level columns count every text "
        "with a match at that level (same problem: the benchmark item's mathematics in other words; "
        "same template: its wording with other mathematics).",
    ]
    t = report["thresholds"]
    long_rule = "any shared" if not t["long_overlap"] else f"share >= {t['long_overlap']}"
    rules = [f"{t['long_n']}-gram {long_rule}", f"{t['short_n']}-gram share >= {t['short_overlap']}"]
    if "embedding" in stages:
        template = ", ".join(f"{b} {v}" for b, v in report.get("embedding_thresholds", {}).items())
        problem = ", ".join(f"{b} {v}" for b, v in report.get("problem_thresholds", {}).items())
        rule = f"embedding match score (top {t['top_k']}) >= {template}"
        if problem:
            rule += f" (same template), >= {problem} or the nearest item by a clear margin with the same math"
            rule += " (same problem)"
        rules.append(rule)
    if "judge" in stages:
        rules.append(f"judge asked above cosine {t['judge_min']}, both orders")
    lines += ["", "Thresholds: " + "; ".join(rules) + "."]
    if report.get("judge"):
        j = report["judge"]
        said = ", ".join(f"{k} {v}" for k, v in j.get("verdicts", {}).items())
        lines += [
            "",
            f"Judge: {j.get('model')}, asked {j.get('asked', 0)} times "
            f"({said}; {j.get('unclear', 0)} unclear).",
        ]
    for ex in report["examples"][:5]:
        if ex is report["examples"][0]:
            lines += ["", "Examples:", ""]
        lines += [
            f"- `{ex['id']}` ~ {ex['benchmark']} `{ex['benchmark_id']}` "
            f"({ex.get('level', 'same_problem')}, {ex['method']}, {ex['score']}):",
            f"  - text: {ex['text'][:200]!r}",
            f"  - benchmark: {ex['benchmark_text'][:200]!r}",
        ]
    return "\n".join(lines) + "\n"
