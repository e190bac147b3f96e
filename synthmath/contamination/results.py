"""What the contamination check says about a text: matches, levels, screenings and results.

Levels, strongest first:

- ``same_problem``: the text keeps a benchmark item's mathematics (numbers, expressions, the thing
  asked) in any words. Dropped by default.
- ``same_template``: the text shares an item's wording, but its mathematics differs (other numbers,
  another ask). Reported, kept by default; ``drop`` can list it too.

All of these are plain dataclasses: a :class:`Screening` made in a worker process pickles back to the
process that asks the judge and resolves it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

__all__ = ["LEVELS", "CheckResult", "JudgeCandidate", "Level", "Match", "Screening", "strongest"]

Level = Literal["same_problem", "same_template"]
LEVELS: tuple[Level, ...] = ("same_problem", "same_template")


@dataclass(frozen=True)
class Match:
    """One stage's finding: the text matches ``benchmark_id`` of ``benchmark`` at ``level``. ``score``:
    1 for ``exact``, the share of the text's n-grams in the item for ``ngram*``, the match score for
    ``embedding``, the cosine for ``judge``."""

    benchmark: str
    benchmark_id: str
    method: str
    score: float
    level: Level = "same_problem"


def strongest(matches: Sequence[Match]) -> Level | None:
    """The strongest level among ``matches`` (None without any)."""
    levels = {m.level for m in matches}
    return next((lv for lv in LEVELS if lv in levels), None)


@dataclass
class CheckResult:
    """What the stages found for one text. ``level``: the strongest level of its matches;
    ``contaminated``: that level is one the checker drops. ``nearest``: the embedding stage's
    best-scoring item, matched or not (for auditing near misses); None without the embedding stage."""

    id: str
    contaminated: bool
    matches: list[Match] = field(default_factory=list)
    nearest: Match | None = None
    level: Level | None = None

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "contaminated": self.contaminated,
            "level": self.level,
            "matches": [asdict(m) for m in self.matches],
        }
        if self.nearest is not None:
            out["nearest"] = asdict(self.nearest)
        return out


@dataclass(frozen=True)
class JudgeCandidate:
    """A benchmark item to ask the judge about: a near miss the checker could not settle alone, or
    (``confirm``) a pair the stages call the same problem, which the judge confirms or demotes (a
    sibling in the item's words, found by its wording)."""

    benchmark: str
    benchmark_id: str
    item_text: str
    cosine: float
    confirm: bool = False


@dataclass
class Screening:
    """The CPU part of the check for one text: what the lexical, math and embedding stages found,
    and the items to ask the judge about (empty when the judge is not needed). ``item_texts``: the
    text of every matched item, by ``benchmark/benchmark_id``, for the report's examples."""

    id: str
    text: str
    matches: list[Match] = field(default_factory=list)
    nearest: Match | None = None
    judge: list[JudgeCandidate] = field(default_factory=list)
    item_texts: dict[str, str] = field(default_factory=dict)

    @property
    def needs_judge(self) -> bool:
        return bool(self.judge)

    def result(
        self, drop: Sequence[str], judged: Sequence[Match] = (), demoted: Collection[tuple[str, str]] = ()
    ) -> CheckResult:
        """The result, with the judge's matches added and the stages' ``same_problem`` matches of the
        ``demoted`` items, (benchmark, id), made ``same_template``; contaminated when its level is in
        ``drop``."""
        matches = [
            replace(m, level="same_template")
            if m.level == "same_problem" and (m.benchmark, m.benchmark_id) in demoted
            else m
            for m in self.matches
        ]
        matches += judged
        level = strongest(matches)
        return CheckResult(self.id, level in drop, matches, self.nearest, level)
