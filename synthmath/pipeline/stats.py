"""Counts per stage, updated as the run goes, and turned into the typed summary's parts."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..records import SeedProblem
from ..summary import GateSummary, SeedCounts, StageCounts

__all__ = ["BuildStats", "count_gate"]


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


@dataclass
class BuildStats:
    """Counts per stage. ``seeds_finished`` counts seeds whose records and rejects have been handed to
    the writer, in order: the honest progress figure."""

    seeds: int = 0  # seeds that entered the stages
    seeds_finished: int = 0
    seeds_skipped: Counter[str] = field(default_factory=Counter)
    seeds_contaminated: int = 0
    seeds_with_records: int = 0
    seeds_all_failed_in_row: int = 0  # consecutive finished seeds whose every request failed
    question_candidates: int = 0
    questions_kept: int = 0
    question_rejects: Counter[str] = field(default_factory=Counter)
    answer_candidates: int = 0
    records: int = 0
    answer_rejects: Counter[str] = field(default_factory=Counter)
    rejects: int = 0
    solve_check_tokens: Counter[str] = field(default_factory=Counter)  # prompt / completion, counted apart
    by_subject: dict[str, Counter[str]] = field(default_factory=dict)
    by_level: dict[str, Counter[str]] = field(default_factory=dict)
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)  # augment kind -> counts
    rounds: dict[str, Counter[str]] = field(default_factory=dict)  # sampling round -> counts (min_correct)
    gold_vote: Counter[str] = field(default_factory=Counter)  # gold="majority"
    started: float = field(default_factory=time.monotonic)

    def count_seed(self, seed: SeedProblem, records: int, first_round: int | None = None) -> None:
        """Per-subject and per-level counts: seeds, seeds with records, records; with sampling rounds
        (``first_round``: the seed's records after round 1), the level table's counts after round 1 too."""
        subject = seed.subject or "unknown"
        level = str(seed.level) if seed.level is not None else "unknown"
        for table, key in ((self.by_subject, subject), (self.by_level, level)):
            c = table.setdefault(key, Counter())
            c["seeds"] += 1
            c["with_records"] += records > 0
            c["records"] += records
            if first_round is not None and table is self.by_level:
                c["with_records_round1"] += first_round > 0
                c["records_round1"] += first_round
        self.records += records
        self.seeds_with_records += records > 0

    def count_kind(self, kind: str, q: Any, answers: Any, records: int) -> None:
        """One seed's counts for one kind of data (``q``: its QuestionOutcome, ``answers``: AnswerOutcome)."""
        c = self.by_kind.setdefault(kind, Counter())
        c["seeds"] += 1
        c["question_candidates"] += q.candidates
        c["questions_kept"] += len(q.questions)
        c["answer_candidates"] += answers.candidates if answers is not None else 0
        c["records"] += records
        c["seeds_with_records"] += records > 0

    def count_round(self, number: int, questions: int, candidates: int, records: int) -> None:
        """One sampling round of one seed's kind: questions still short of min_correct, answers, records."""
        c = self.rounds.setdefault(str(number), Counter())
        c["questions"] += questions
        c["answer_candidates"] += candidates
        c["records"] += records

    def count_vote(self, vote: Any) -> None:
        """One seed's gold vote (a VoteOutcome)."""
        self.gold_vote["seeds"] += 1
        self.gold_vote["with_gold"] += vote.gold is not None
        self.gold_vote["solutions"] += vote.samples
        self.gold_vote["agreeing"] += vote.agree if vote.gold is not None else 0

    def seed_counts(self) -> SeedCounts:
        return SeedCounts(
            processed=self.seeds,
            skipped=sum(self.seeds_skipped.values()),
            skipped_by_reason=dict(self.seeds_skipped),
            contaminated=self.seeds_contaminated,
            with_records=self.seeds_with_records,
            yield_rate=_rate(self.seeds_with_records, self.seeds),
        )

    def question_counts(self) -> StageCounts:
        return StageCounts(
            candidates=self.question_candidates,
            kept=self.questions_kept,
            rejected_by_reason=dict(self.question_rejects),
            acceptance_rate=_rate(self.questions_kept, self.question_candidates),
        )

    def answer_counts(self) -> StageCounts:
        return StageCounts(
            candidates=self.answer_candidates,
            kept=self.records,
            rejected_by_reason=dict(self.answer_rejects),
            acceptance_rate=_rate(self.records, self.answer_candidates),
        )

    def tables(self) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        return (
            {k: dict(v) for k, v in sorted(self.by_subject.items())},
            {k: dict(v) for k, v in sorted(self.by_level.items())},
        )

    @property
    def wall_time(self) -> float:
        return time.monotonic() - self.started


def count_gate(g: GateSummary, examples: list[dict[str, Any]], row: dict[str, Any], kind: str) -> None:
    """Count one gate row (a seed's or a rephrased question's) into the gate's report (its examples too;
    ``examples`` is left as it is)."""
    g.count(row, kind)
