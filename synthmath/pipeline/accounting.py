"""A seed's finished work, counted and turned into output lines: the build's statistics, the gate's
summary, the request tally, and the checks that stop a build (a benchmark match under ``fail``, too many
failed requests). :class:`~synthmath.pipeline.pipeline.Pipeline` is a :class:`SeedAccounts`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import BuildFailedError, ContaminationError
from ..records import Reject, SeedProblem
from .health import RequestTally, failure
from .jobs import GateOutcome, GateSpec, contaminated_seed
from .stats import BuildStats, count_gate
from .work import SeedWork, Track

if TYPE_CHECKING:
    from ..config import BuildConfig
    from ..engine.base import ChatResult
    from ..summary import GateSummary

__all__ = ["Emitted", "SeedAccounts"]


@dataclass(frozen=True)
class Emitted:
    """One line of output: a record, a reject, or a contamination check row, as JSON."""

    kind: Literal["record", "reject", "check"]
    line: str


class SeedAccounts:
    """What a build counts, and how a seed's work becomes its output lines."""

    config: BuildConfig
    gate: GateSpec | None
    stats: BuildStats
    requests: RequestTally
    gate_summary: GateSummary | None
    gate_examples: list[dict[str, Any]]

    def finished(self, items: list[Emitted]) -> None:
        """Count a seed whose output lines go to the writer now (in seed order)."""
        self.stats.seeds_finished += 1
        self.stats.rejects += sum(item.kind == "reject" for item in items)

    def account(self, work: SeedWork) -> list[Emitted]:
        """Count a seed's finished work and turn it into output lines; raises what stops the build
        (a CPU job's error, a benchmark match under ``fail``, too many failed requests)."""
        if work.error is not None:
            raise work.error
        seed = work.seed
        out: list[Emitted] = []
        if self.gate is not None and work.gate is not None:
            gate = work.gate
            out.append(Emitted("check", json.dumps(gate.check, ensure_ascii=False)))
            self._count_gate(gate.check, "seed")
            if gate.contaminated:
                self._on_contaminated(seed, gate)
                if self.gate.mode == "drop":
                    self.stats.count_seed(seed, 0)
                    out.append(self._reject(contaminated_seed(seed, gate)))
                    return out
        all_failed = self._account_vote(work, out)
        if work.vote is not None and work.seed.gold_answer == "":
            self.stats.count_seed(seed, 0)
        else:
            records = first = 0
            failed = []
            for track in work.tracks:
                failed.append(self._account_track(work, track, out))
                records += len(track.answers.records) if track.answers is not None else 0
                first += track.first_round_records
            all_failed = all(failed) if failed else all_failed
            self.stats.count_seed(work.seed, records, first if self.config.min_correct else None)
        self.stats.seeds_all_failed_in_row = self.stats.seeds_all_failed_in_row + 1 if all_failed else 0
        self._check_failures()
        return out

    def _account_vote(self, work: SeedWork, out: list[Emitted]) -> bool:
        """Count a seed's gold vote (gold="majority"); True when its request failed for good."""
        if work.vote_result is None:
            return False
        failed = self._count_request(work.vote_result)
        vote = work.vote
        assert vote is not None
        self.stats.count_vote(vote)
        out += [self._reject(r) for r in vote.rejects]
        return failed

    def _account_track(self, work: SeedWork, track: Track, out: list[Emitted]) -> bool:
        """Count one kind's questions and answers and add their lines; True when the requests it
        depended on all failed for good."""
        seed = work.seed
        for r in track.made:
            self._count_request(r)
        for r in track.solve_results:  # the solve check's requests: counted, and their tokens apart
            self._count_request(r)
            self.stats.solve_check_tokens.update(prompt=r.prompt_tokens, completion=r.completion_tokens)
        q = track.questions
        if q is None:
            return track.all_failed()
        out += [Emitted("check", json.dumps(c, ensure_ascii=False)) for c in q.checks]
        for c in q.checks:
            self._count_gate(c, "question")
            if c.get("contaminated") and self.gate is not None and self.gate.mode == "fail":
                raise ContaminationError(
                    f"a {_what(track.kind)} of seed {seed.id} matches a benchmark item ({_first_match(c)}) - "
                    "see contamination.jsonl, or set on_contamination to drop"
                )
        if track.kind != "ansaug":  # ansaug's question is the seed problem: no candidate to count
            self.stats.question_candidates += q.candidates
            self.stats.questions_kept += len(q.questions)
            self.stats.question_rejects.update(q.reasons)
        out += [Emitted("reject", line) for line in q.rejects]
        records = 0
        if q.questions:
            for r in track.answer_results:
                self._count_request(r)
            a = track.answers
            assert a is not None
            self.stats.answer_candidates += a.candidates
            self.stats.answer_rejects.update(a.reasons)
            out += [Emitted("record", line) for line in a.records]
            out += [Emitted("reject", line) for line in a.rejects]
            records = len(a.records)
        self.stats.count_kind(track.kind, q, track.answers, records)
        return track.all_failed()

    @staticmethod
    def _reject(r: Reject) -> Emitted:
        return Emitted("reject", _json(r))

    def _on_contaminated(self, seed: SeedProblem, gate: GateOutcome) -> None:
        self.stats.seeds_contaminated += 1
        if self.gate is not None and self.gate.mode == "fail":
            raise ContaminationError(
                f"seed {seed.id} {gate.detail} - remove it from the seeds, or set on_contamination to drop"
            )

    def _count_gate(self, row: dict[str, Any], kind: str) -> None:
        if self.gate_summary is not None and row:
            count_gate(self.gate_summary, self.gate_examples, row, kind)

    def _count_request(self, result: ChatResult) -> bool:
        """Count a request; True when the server failed it through every retry."""
        return self.requests.count(result)

    def _check_failures(self, final: bool = False) -> None:
        """Stop a build that would only report success on nothing (see :mod:`.health`)."""
        why = failure(self.stats, self.requests, self.config, final=final)
        if why is not None:
            raise BuildFailedError(why)


def _json(r: Reject) -> str:
    return json.dumps(r.to_json_dict(), ensure_ascii=False)


def _what(kind: str) -> str:
    return {"rephrase": "rephrasing", "fobar": "FOBAR question", "sv": "SV question"}.get(kind, kind)


def _first_match(row: dict[str, Any]) -> str:
    ms = row.get("matches") or [{}]
    m = ms[0]
    return f"{m.get('benchmark')} item {m.get('benchmark_id')}, {m.get('method')}"
