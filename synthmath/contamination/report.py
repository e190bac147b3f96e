"""One contamination report: the same model and the same Markdown for a build's gate (``summary.json``'s
``contamination``, ``contamination_report.json`` and ``.md`` of a build) and for ``check-contamination``
(its ``contamination_report.json`` and ``.md``); the dataset card shows that Markdown.

:class:`Tally` counts :class:`~synthmath.contamination.results.CheckResult` s into a report in the
process that resolves them; a build counts the rows of ``contamination.jsonl`` as its workers send them
(:meth:`ContaminationReport.count`). Shards of one run add up with ``+``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .results import LEVELS, CheckResult, Screening

__all__ = ["ContaminationReport", "Tally", "report_markdown"]

_EXAMPLES = 10


def _add_tables(a: dict[str, dict[str, int]], b: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {k: Counter(v) for k, v in a.items()}
    for key, counts in b.items():
        out.setdefault(key, Counter()).update(counts)
    return {k: dict(v) for k, v in sorted(out.items())}


class ContaminationReport(BaseModel):
    """What a contamination check found, and with what. ``found``: per benchmark and stage, the dropped
    texts that stage matched; ``levels``: per benchmark and level, every text with a match at that level.
    A build fills ``mode`` and the seed / question counts; ``check-contamination`` its ``inputs``."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["drop", "flag", "fail"] | None = None
    stages: list[str] = Field(default_factory=list)
    benchmarks: dict[str, int] = Field(default_factory=dict)  # name -> items
    thresholds: dict[str, Any] = Field(default_factory=dict)
    embedding_thresholds: dict[str, float] = Field(default_factory=dict)
    problem_thresholds: dict[str, float] = Field(default_factory=dict)
    checked: int = 0
    contaminated: int = 0
    seeds_checked: int = 0
    seeds_contaminated: int = 0
    questions_checked: int = 0
    questions_contaminated: int = 0
    found: dict[str, dict[str, int]] = Field(default_factory=dict)
    levels: dict[str, dict[str, int]] = Field(default_factory=dict)
    records_per_second: dict[str, float] = Field(default_factory=dict)
    index_seconds: dict[str, float] = Field(default_factory=dict)
    judge: dict[str, Any] | None = None
    examples: list[dict[str, Any]] = Field(default_factory=list)
    inputs: list[str] | None = None
    fields: list[str] | None = None
    executor: str | None = None

    def count(
        self, row: dict[str, Any], kind: str | None = None, text: str = "", item_text: str = ""
    ) -> None:
        """Count one row of ``contamination.jsonl`` (``kind``: ``seed`` or ``question`` in a build)."""
        contaminated = bool(row.get("contaminated"))
        self.checked += 1
        self.contaminated += contaminated
        if kind == "seed":
            self.seeds_checked += 1
            self.seeds_contaminated += contaminated
        elif kind is not None:
            self.questions_checked += 1
            self.questions_contaminated += contaminated
        matches = row.get("matches", [])
        for bench, level in {(m["benchmark"], m["level"]) for m in matches}:
            per_level = self.levels.setdefault(bench, dict.fromkeys(LEVELS, 0))
            per_level[level] = per_level.get(level, 0) + 1
        if not contaminated:
            return
        strongest = row.get("level") or "same_problem"
        for bench, method in {(m["benchmark"], m["method"]) for m in matches if m["level"] == strongest}:
            per_method = self.found.setdefault(bench, {})
            per_method[method] = per_method.get(method, 0) + 1
        if len(self.examples) < _EXAMPLES:
            best = next((m for m in matches if m["level"] == strongest), matches[0] if matches else None)
            example = {"id": row.get("id"), **({"kind": kind} if kind else {})}
            if best is not None:
                example |= {k: best[k] for k in ("benchmark", "benchmark_id", "method", "level", "score")}
            if text:
                example |= {"text": text[:500], "benchmark_text": item_text[:500]}
            self.examples.append(example)

    def __add__(self, o: ContaminationReport) -> ContaminationReport:
        """This report and another shard's of the same run."""
        sums = ("checked", "contaminated", "seeds_checked", "seeds_contaminated", "questions_checked",
                "questions_contaminated")  # fmt: skip
        return self.model_copy(
            update={k: getattr(self, k) + getattr(o, k) for k in sums}
            | {
                "found": _add_tables(self.found, o.found),
                "levels": _add_tables(self.levels, o.levels),
                "examples": (self.examples + o.examples)[:_EXAMPLES],
            }
        )

    def markdown(self) -> str:
        """The report as Markdown (a build's and check-contamination's report, and the card's section)."""
        stages = self.stages
        benches = ", ".join(f"{k} ({v} items)" for k, v in self.benchmarks.items())
        drop = self.thresholds.get("drop", ["same_problem"])
        lines = [f"Checked **{self.checked}** texts against {benches} with the stages {', '.join(stages)}: "
                 f"**{self.contaminated}** matched a benchmark item at a level that is dropped "
                 f"({', '.join(drop)})."]  # fmt: skip
        if self.mode is not None:
            lines += [
                "",
                f"- seeds: {self.seeds_contaminated} of {self.seeds_checked} match a benchmark item "
                "(no request was sent for them)",
                f"- rephrased questions: {self.questions_contaminated} of {self.questions_checked} match one",
                f"- on a match: {self.mode}",
            ]
        lines += [
            "",
            "| benchmark | " + " | ".join(stages) + " | same problem | same template |",
            "|---|" + "---:|" * (len(stages) + 2),
        ]
        for bench in self.benchmarks:
            counts, lv = self.found.get(bench, {}), self.levels.get(bench, {})
            cells = [str(counts.get(s, 0)) for s in stages] + [str(lv.get(x, 0)) for x in LEVELS]
            lines.append(f"| {bench} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "Stage columns count the dropped texts each stage found; the level columns count every text "
            "with a match at that level (same problem: the benchmark item's mathematics in other words; "
            "same template: its wording with other mathematics).",
        ]
        if self.thresholds:
            lines += ["", "Thresholds: " + "; ".join(self._rules()) + "."]
        if self.judge:
            j = self.judge
            said = ", ".join(f"{k} {v}" for k, v in j.get("verdicts", {}).items())
            lines += ["", f"Judge: {j.get('model')}, asked {j.get('asked', 0)} times "
                          f"({said}; {j.get('unclear', 0)} unclear)."]  # fmt: skip
        for k, ex in enumerate(self.examples[:5]):
            if k == 0:
                lines += ["", "Examples:", ""]
            who = f"{ex['kind']} " if ex.get("kind") else ""
            lines.append(f"- {who}`{ex['id']}` ~ {ex.get('benchmark')} `{ex.get('benchmark_id')}` "
                         f"({ex.get('level', 'same_problem')}, {ex.get('method')}, {ex.get('score')})"
                         + (":" if ex.get("text") else ""))  # fmt: skip
            if ex.get("text"):
                lines += [f"  - text: {ex['text'][:200]!r}", f"  - benchmark: {ex['benchmark_text'][:200]!r}"]
        return "\n".join(lines) + "\n"

    def _rules(self) -> list[str]:
        t = self.thresholds
        long_rule = "any shared" if not t.get("long_overlap") else f"share >= {t['long_overlap']}"
        rules = [
            f"{t.get('long_n')}-gram {long_rule}",
            f"{t.get('short_n')}-gram share >= {t.get('short_overlap')}",
        ]
        if "embedding" in self.stages:
            template = ", ".join(f"{b} {v}" for b, v in self.embedding_thresholds.items())
            problem = ", ".join(f"{b} {v}" for b, v in self.problem_thresholds.items())
            rule = (
                f"candidates: the {t.get('nearest_k')} nearest items and more; template score >= {template}"
            )
            if problem:
                rule += (f"; same problem: the same mathematics and a score >= {problem}, or the "
                         "best-scoring item by a clear margin with nothing of it replaced")  # fmt: skip
            rules.append(rule)
        if "judge" in self.stages:
            rules.append(f"judge asked about the top {t.get('top_k')} candidates above cosine "
                         f"{t.get('judge_min')} or with the text's math, both orders")  # fmt: skip
        return rules


class Tally:
    """Counts results into a :class:`ContaminationReport`, with seconds per stage.

    ``info``: the checker's :meth:`~synthmath.contamination.check.ContaminationChecker.info` (its
    stages, benchmarks, thresholds and index build times), copied into the report.
    """

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.model = ContaminationReport(
            **info,
            found={b: dict.fromkeys(info.get("stages", []), 0) for b in info.get("benchmarks", {})},
            levels={b: dict.fromkeys(LEVELS, 0) for b in info.get("benchmarks", {})},
        )
        self.seconds: defaultdict[str, float] = defaultdict(float)

    @property
    def checked(self) -> int:
        return self.model.checked

    @property
    def contaminated(self) -> int:
        return self.model.contaminated

    def add(self, screening: Screening, result: CheckResult) -> None:
        """Count one result (``screening``: the one it was resolved from, for the examples' texts)."""
        row = result.to_json_dict()
        best = next((m for m in result.matches if m.level == result.level), None)
        item = screening.item_texts.get(f"{best.benchmark}/{best.benchmark_id}", "") if best else ""
        self.model.count(row, None, screening.text, item)

    def add_all(self, screenings: Sequence[Screening], results: Sequence[CheckResult]) -> None:
        for s, r in zip(screenings, results, strict=True):
            self.add(s, r)

    def report(self) -> ContaminationReport:
        """The report so far, with records/s per stage."""
        n = self.model.checked
        speeds = {s: round(n / secs, 1) for s, secs in self.seconds.items() if secs > 0 and n}
        return self.model.model_copy(update={"records_per_second": speeds}, deep=True)


def report_markdown(report: dict[str, Any] | ContaminationReport) -> str:
    """The report as Markdown (also the contamination section of a dataset card)."""
    model = report if isinstance(report, ContaminationReport) else ContaminationReport.model_validate(report)
    return model.markdown()
