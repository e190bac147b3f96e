"""How one text's proposed benchmark items become its matches: each benchmark's pairs ranked by score
(:func:`~synthmath.contamination.scoring.best_scores`), the math compared where a level can depend on
it, each pair's level (:mod:`.decide`), the text's nearest item and the judge's candidates.
:class:`~synthmath.contamination.check.ContaminationChecker` is a :class:`PairDecisions`: it holds the
items, their profiles, the benchmarks' statistics and thresholds that this reads.
"""

from __future__ import annotations

import math
from typing import Any

from .benchmarks import BenchmarkItem
from .decide import RIVALS, nearest, pair_level
from .mathsig import REPLACED, MathAgreement, compare, surely_replaced
from .results import JudgeCandidate, Match, Screening
from .retrieval import CandidateIndex
from .scoring import BenchmarkStats, TextProfile, best_scores
from .settings import Thresholds

__all__ = ["PairDecisions"]

# the best-scoring pairs (besides lexical ones and those at a threshold) scored at once: the best and the
# places the nearest rule reads after it when the best is a sibling of the text's problem (see _decide)
_RANKED = RIVALS + 1
_WORDS_RANKED = 1  # the same in word-problem benchmarks: the best, for the text's nearest item


class PairDecisions:
    """The per-text decisions of a checker."""

    t: Thresholds
    items: list[BenchmarkItem]
    profiles: list[TextProfile]
    rows: dict[str, tuple[int, int]]
    stats: dict[str, BenchmarkStats]
    candidates: CandidateIndex
    problem_thresholds: dict[str, float]
    embed_thresholds: dict[str, float]
    ask_judge: bool

    def _add(self, s: Screening, j: int, method: str, score: float, level: Any) -> None:
        item = self.items[j]
        s.matches.append(Match(item.benchmark, item.id, method, score, level))
        s.item_texts.setdefault(f"{item.benchmark}/{item.id}", item.text)

    def _proposed(
        self, profile: TextProfile, lexical: dict[int, Any], sims: Any, k: int, near: dict[str, Any]
    ) -> dict[str, list[int]]:
        """The rows each benchmark proposes for text ``k`` of the batch: lexical matches, and with
        the embedding stage the candidates of :meth:`CandidateIndex.candidates` (``near``: the batch's
        nearest items, :meth:`CandidateIndex.nearest`)."""
        out = {}
        for b, (lo, hi) in self.rows.items():
            mine = [j for j in lexical if lo <= j < hi]
            if sims is not None:
                found = self.candidates.candidates(profile, sims[k], b, nearest=near[b][k])
                mine += [j for j in found if j not in lexical]
            out[b] = mine
        return out

    def _for_judge(self, profile: TextProfile, j: int, cos: float, agreement: MathAgreement | None) -> bool:
        """Item ``j`` is put to the judge (unless better ones fill its ``top_k``): near in words
        (``judge_min``), or, however far in words, with the text's mathematics (a story that renames
        everything, found by its numbers, formula or figure)."""
        if cos >= self.t.judge_min:
            return True
        return (agreement or compare(profile.math, self.profiles[j].math)).same_math

    def _decide(
        self,
        s: Screening,
        profile: TextProfile,
        lexical: dict[int, list[tuple[str, float]]],
        sims: Any,
        proposed: dict[str, list[int]],
        bounds: dict[str, list[float]],
    ) -> None:
        """One level for each (text, item) pair, whichever stages proposed the item: retrieval (n-grams,
        embeddings, numbers, rare expressions) only proposes (``proposed``: the rows, by benchmark;
        ``bounds``: with the embedding stage, a bound of each one's score, :mod:`.bounds`);
        :func:`.decide.pair_level` decides.

        Each benchmark's pairs, best first, are a :class:`.scoring.Ranking` (with ``least`` the
        lower of the benchmark's two thresholds); what it guarantees the decision rules:

        - every place a rule reads is the whole list's, with its exact score (rounded to 4 places):
          reading a place past the beginning known for certain scores every pair first;
        - scored at once: every lexical pair, every pair scoring at least ``least``, and of the
          others the ``_RANKED`` best in MATH-style benchmarks (the places :func:`.decide.nearest`
          reads on its usual paths), in word-problem ones the best when it can score over the
          nearest item of the benchmarks before (only :attr:`Screening.nearest` reads it there). With
          judge candidates to list, every pair (they are the best over ``judge_min`` cosine or with
          the text's mathematics, of any score: :meth:`_for_judge`);
        - the math compared (:func:`.mathsig.compare`, else None) for lexical pairs and pairs at
          ``least``, and for the places the nearest rule asks about (``agreement_at``);
        - the pairs never scored are not lexical, under ``least`` and never read: their level is
          None, and they are not the text's nearest item.

        A rule that often reads further down the list is faster with ``_RANKED`` raised with it."""
        t = self.t
        asks: list[tuple[float, int]] = []
        confirm: list[tuple[float, int]] = []  # the pairs found the same problem, exact copies aside
        for b in self.rows:
            stats = self.stats[b]
            rows = proposed[b]
            if not rows:
                continue
            least = min(self.problem_thresholds.get(b, 0.0), self.embed_thresholds.get(b, 0.0))
            words = bool(stats.skeleton_weight)  # a word-problem benchmark: the score decides alone
            ranking: Any  # a list, or a Ranking read as one
            if sims is None:  # of equal scores, the lower row first: the same order in any process
                pairs: list[tuple[int, float, float, Any]] = [(j, 0.0, 0.0, None) for j in sorted(rows)]
                ranking = pairs
            else:
                # who reads what of the list: see the docstring
                floor = s.nearest.score if words and s.nearest is not None else -math.inf
                ranking = best_scores(
                    profile, self.profiles, [(j, float(sims[j])) for j in rows], b, stats, keep=lexical,
                    least=least, best=None if self.ask_judge else _WORDS_RANKED if words else _RANKED,
                    floor=-math.inf if self.ask_judge else floor, bounds=bounds.get(b),
                )  # fmt: skip
                pairs = ranking.pairs  # the pairs scored (all of them once the rules read past the top)
            # the math comparison where it can change a level: lexical hits and items over a threshold
            # (below it every pair is unmatched anyway), and the items the nearest rule asks about
            for k, (j, cos, score, _) in enumerate(pairs):
                if j in lexical or score >= least:
                    pairs[k] = (j, cos, score, compare(profile.math, self.profiles[j].math))

            def agreement_at(k: int, ranking: Any = ranking) -> MathAgreement:
                j, cos, score, known = ranking[k]
                agreement: MathAgreement | None = known
                if agreement is not None:
                    return agreement
                item = self.profiles[j].math
                if surely_replaced(profile.math, item):
                    return REPLACED  # all the nearest rule asks of an item it passes over; not kept
                agreement = compare(profile.math, item)
                ranking[k] = (j, cos, score, agreement)
                return agreement

            bars = (self.problem_thresholds.get(b), self.embed_thresholds.get(b))
            alone = (
                nearest(ranking, profile, self.profiles, stats, t, agreement_at)
                if sims is not None and not stats.skeleton_weight
                else -1
            )
            if sims is not None:
                pairs = ranking.pairs
            for j, cos, score, agreement in pairs:
                level = pair_level(
                    profile, self.profiles[j], stats, bars, j in lexical, score, agreement, j == alone
                )
                for method, share in lexical.get(j, ()):
                    self._add(s, j, method, share, level or "same_template")
                if level == "same_problem" and all(m != "exact" for m, _ in lexical.get(j, ())):
                    confirm.append((score, j))
                if sims is None:
                    continue
                found = self.items[j]
                if s.nearest is None or score > s.nearest.score:
                    s.nearest = Match(found.benchmark, found.id, "embedding", score, level or "same_template")
                if level is not None and (j not in lexical or level == "same_problem"):
                    self._add(s, j, "embedding", score, level)
                if level != "same_problem" and self.ask_judge and self._for_judge(profile, j, cos, agreement):
                    asks.append((score, j))
        if not self.ask_judge:
            return
        # with a same_problem match the judge confirms it (or demotes a sibling the stages took for a
        # rewording); without one it is asked about the near misses
        same = any(m.level == "same_problem" for m in s.matches)
        for _, j in sorted(confirm if same else asks, reverse=True)[: t.top_k]:
            item = self.items[j]
            cos = round(float(sims[j]), 4) if sims is not None else 0.0
            s.judge.append(JudgeCandidate(item.benchmark, item.id, item.text, cos, confirm=same))
            s.item_texts.setdefault(f"{item.benchmark}/{item.id}", item.text)
