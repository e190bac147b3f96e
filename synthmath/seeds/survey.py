"""What a seed source holds, before any GPU time goes into it: usable seeds by subject and level, the
skipped rows by reason, and the first few seeds (``synthmath seeds SOURCE``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..records import Reject, SeedProblem
from .select import load_seeds
from .sources import SeedSource

__all__ = ["SeedSurvey", "survey_seeds"]


@dataclass
class SeedSurvey:
    """Counts over a seed selection; ``first``: its first seeds, in order."""

    usable: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    by_subject_level: Counter[tuple[str, str]] = field(default_factory=Counter)
    first: list[SeedProblem] = field(default_factory=list)

    @property
    def subjects(self) -> list[str]:
        return sorted({s for s, _ in self.by_subject_level})

    @property
    def levels(self) -> list[str]:
        return sorted({lv for _, lv in self.by_subject_level}, key=lambda lv: (not lv.isdigit(), lv))

    def count(self, subject: str | None = None, level: str | None = None) -> int:
        return sum(
            n for (s, lv), n in self.by_subject_level.items() if subject in (None, s) and level in (None, lv)
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "usable": self.usable,
            "skipped": dict(self.skipped),
            "by_subject": {s: self.count(subject=s) for s in self.subjects},
            "by_level": {lv: self.count(level=lv) for lv in self.levels},
            "seeds": [s.to_json_dict() for s in self.first],
        }


def survey_seeds(
    source: SeedSource,
    *,
    split: str = "train",
    subjects: list[str] | None = None,
    levels: list[int] | None = None,
    limit: int | None = None,
    show: int = 0,
) -> SeedSurvey:
    """Read the selection once and count it; keep its first ``show`` seeds. A seed without a subject or
    level counts under ``?``."""
    out = SeedSurvey()

    def on_skip(r: Reject) -> None:
        out.skipped[r.reason] += 1

    for seed in load_seeds(
        source, split=split, subjects=subjects, levels=levels, limit=limit, on_skip=on_skip
    ):
        if out.usable < show:
            out.first.append(seed)
        out.usable += 1
        level = str(seed.level) if seed.level is not None else "?"
        out.by_subject_level[(seed.subject or "?", level)] += 1
    return out
