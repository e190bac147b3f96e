"""The contamination checker: exact, n-gram, embedding and math stages on the CPU, the judge optional.

Each text is compared with the benchmark items its stages retrieve, and each match gets a level
(:mod:`synthmath.contamination.results`): ``same_problem`` when the text keeps the item's mathematics
(:func:`synthmath.contamination.mathsig.compare`: its numbers, its expressions and what it asks) and
``same_template`` when it shares the item's wording and not its mathematics. A text is contaminated
when its strongest level is in ``Thresholds.drop`` (``same_problem`` by default). The rules that decide
a pair's level are in :mod:`synthmath.contamination.decide`.

- ``exact``: identical after normalisation;
- ``ngram13`` / ``ngram8``: at least ``long_overlap`` / ``short_overlap`` of the text's distinct
  13- / 8-grams occur in one item. A lexical match is ``same_problem`` with the same mathematics and
  the same LaTeX, else ``same_template``: the lexical stages alone never drop a text whose math
  differs from the matched item's ("x^8 - 98x^4" and "x^8 + 98x^4" normalise to the same words);
- ``embedding``: for the candidates of :mod:`~synthmath.contamination.retrieval`, the match score of
  :mod:`~synthmath.contamination.scoring`. In MATH-style benchmarks, ``same_problem`` when the math is
  the same and the score reaches the benchmark's *problem threshold*, or the item is the text's
  nearest (cosine >= ``nearest_cosine``) by a gap of ``nearest_gap`` over the next; ``same_template``
  when the math differs and the score reaches its *template threshold*. In word-problem benchmarks
  (GSM8K), ``same_problem`` when the score reaches the template threshold: their rewordings spell
  numbers in too many ways for the number comparison to decide. Both thresholds calibrate themselves
  on the benchmark (:mod:`~synthmath.contamination.calibrate`);
- ``judge``: an LLM says same problem / same template / different, asked in both orders, about the
  candidates above ``judge_min`` cosine (or with the text's mathematics, however far in words) that did
  not reach ``same_problem``; and it confirms the ``same_problem`` pairs.

Two phases, for pipelines that run the CPU part in worker processes and the judge on their engine
(building the checker from a warm index cache takes seconds; see docs/contamination.md):

    checker = ContaminationChecker.from_spec(spec)          # once per worker (CheckerSpec pickles)
    screenings = checker.screen(batch)                      # CPU: list[Screening], picklable
    requests = judge_requests(screenings)                   # (judge.py) two per candidate
    results = resolve(screenings, replies, drop=spec.thresholds.drop)   # replies: the texts, in order
    tally.add_all(screenings, results)                      # Tally(checker.info()) in the main process

:meth:`ContaminationChecker.check` does all of it in one process.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .benchmarks import Benchmark, load_benchmarks
from .bounds import ScoreBounds, item_arrays
from .cache import build_once, load_pickle, no_collections, save_pickle
from .calibrate import calibrated
from .judge import judge_requests, resolve
from .ngrams import NGramIndex, normalize_tokens
from .report import Tally, report_markdown
from .results import CheckResult, Match, Screening
from .retrieval import CandidateIndex
from .scoring import BenchmarkStats, TextProfile
from .screening import PairDecisions
from .settings import CheckerSpec, Thresholds

__all__ = [
    "CheckResult",
    "CheckerSpec",
    "ContaminationChecker",
    "Judge",
    "Match",
    "Thresholds",
    "report_markdown",
]


log = logging.getLogger("synthmath")
_PROFILE_VERSION = 21  # bump when TextProfile, BenchmarkStats, the math profile or the bounds' arrays change

Judge = Any
"""Called with chat requests (:func:`~synthmath.contamination.judge.judge_requests`), returns the
texts of the replies in order (None for a failed one): :class:`~synthmath.contamination.judge.LLMJudge`."""


class ContaminationChecker(PairDecisions):
    """Checks texts against benchmarks; counts what it found, for the report.

    ``embedder``: a sentence-transformers model (see :func:`synthmath.contamination.embeddings.load_model`)
    for the embedding stage, or None to skip it. ``judge``: see :data:`Judge`. ``cache_dir`` keeps the
    benchmark indexes between runs, keyed by benchmark content.
    """

    # (the indexes are a million objects, read or built at once: a full collection while they are, and
    # each one walks all that is there, costs a quarter of a second; a worker then freezes them)
    @no_collections()
    def __init__(
        self,
        benchmarks: Sequence[Benchmark],
        *,
        embedder: Any = None,
        judge: Judge | None = None,
        thresholds: Thresholds | None = None,
        cache_dir: Path | None = None,
        ask_judge: bool | None = None,
    ) -> None:
        self.benchmarks = list(benchmarks)
        # whether screenings list judge candidates (by default: when there is a judge to ask)
        self.ask_judge = judge is not None if ask_judge is None else ask_judge
        self.t = t = thresholds or Thresholds()
        started = time.perf_counter()
        self.ngrams = NGramIndex.cached(self.benchmarks, (t.long_n, t.short_n), cache_dir)
        self.items = self.ngrams.items
        mine = {
            b.name: [i for i, it in enumerate(self.items) if it.benchmark == b.name] for b in self.benchmarks
        }
        self.rows = {name: (rows[0], rows[-1] + 1) if rows else (0, 0) for name, rows in mine.items()}
        key = "".join(b.content_hash for b in self.benchmarks) + f"{t.function_df}-{_PROFILE_VERSION}"
        path = (
            cache_dir / f"profiles-{hashlib.sha256(key.encode()).hexdigest()[:20]}.pkl" if cache_dir else None
        )
        self.stats, self.profiles, arrays = build_once(
            path, load_pickle, lambda: self._profiles(mine), save_pickle
        )
        self.function_words = {name: s.function_words for name, s in self.stats.items() if s.skeleton_weight}
        self.index_seconds = {"ngram": time.perf_counter() - started}
        self.embeddings = None
        self.candidates = CandidateIndex(self.profiles, self.rows, self.stats, t.top_k, t.nearest_k)
        self.bounds = ScoreBounds(self.rows, self.stats, arrays)
        self.embed_thresholds: dict[str, float] = {}
        self.problem_thresholds: dict[str, float] = {}
        if embedder is not None:
            from .embeddings import EmbeddingIndex

            started = time.perf_counter()
            self.embeddings = EmbeddingIndex(self.benchmarks, embedder, cache_dir=cache_dir)
            self.index_seconds["embedding"] = time.perf_counter() - started
            started = time.perf_counter()
            for b in self.benchmarks:
                self.embed_thresholds[b.name], self.problem_thresholds[b.name] = calibrated(
                    self, b, [p.tokens for p in self.profiles], cache_dir
                )
            self.index_seconds["calibration"] = time.perf_counter() - started
        self.judge = judge
        self.tally = Tally(self.info())

    def _profiles(
        self, mine: dict[str, list[int]]
    ) -> tuple[dict[str, BenchmarkStats], list[TextProfile], dict[str, Any]]:
        """Each benchmark's scoring statistics, every item's profile (numbers, words, math), and the
        items as arrays for the score bounds (:func:`.bounds.item_arrays`)."""
        tokens = [normalize_tokens(it.text) for it in self.items]
        stats = {
            b.name: BenchmarkStats.of(b, [tokens[i] for i in mine[b.name]], self.t.function_df)
            for b in self.benchmarks
        }
        words = {name: s.function_words for name, s in stats.items() if s.skeleton_weight}
        profiles = [
            TextProfile(it.text, tok, {it.benchmark: words.get(it.benchmark, frozenset())})
            for it, tok in zip(self.items, tokens, strict=True)
        ]
        return stats, profiles, item_arrays(profiles, self.rows, stats)

    @classmethod
    def from_spec(cls, spec: CheckerSpec, judge: Judge | None = None) -> ContaminationChecker:
        """The checker ``spec`` describes (loads the benchmarks and the embedding model)."""
        specs = [b for b in spec.benchmarks if isinstance(b, str)]
        loaded = iter(load_benchmarks(specs))
        benches = [next(loaded) if isinstance(b, str) else b for b in spec.benchmarks]
        embedder = None
        if spec.embeddings:
            from .embeddings import load_model

            embedder = load_model(spec.model)
        return cls(
            benches, embedder=embedder, judge=judge, thresholds=spec.thresholds, cache_dir=spec.cache_dir,
            ask_judge=spec.judge or judge is not None,
        )  # fmt: skip

    @property
    def stages(self) -> list[str]:
        s = ["exact", f"ngram{self.t.long_n}", f"ngram{self.t.short_n}"]
        if self.embeddings is not None:
            s.append("embedding")
        if self.ask_judge:
            s.append("judge")
        return s

    @property
    def checked(self) -> int:
        return self.tally.checked

    @property
    def contaminated(self) -> int:
        return self.tally.contaminated

    def info(self) -> dict[str, Any]:
        """What the report says about the checker itself (plain data: it pickles)."""
        return {
            "stages": self.stages,
            "benchmarks": {b.name: len(b.items) for b in self.benchmarks},
            "thresholds": asdict(self.t),
            "embedding_thresholds": dict(self.embed_thresholds),
            "problem_thresholds": dict(self.problem_thresholds),
            "index_seconds": {k: round(v, 2) for k, v in self.index_seconds.items()},
        }

    def profile(self, text: str, tokens: Sequence[str] | None = None) -> TextProfile:
        return TextProfile(text, normalize_tokens(text) if tokens is None else tokens, self.function_words)

    def screen(self, texts: Sequence[tuple[str, str]]) -> list[Screening]:
        """The CPU part of the check for ``(id, text)`` pairs: lexical, math and embedding stages."""
        t = self.t
        started = time.perf_counter()
        tokens = [normalize_tokens(text) for _, text in texts]
        ids = [self.ngrams.ids(tok) for tok in tokens]
        profiles = [self.profile(text, tok) for (_, text), tok in zip(texts, tokens, strict=True)]
        lexical: list[dict[int, list[tuple[str, float]]]] = [defaultdict(list) for _ in texts]
        for k, seq in enumerate(ids):
            for j in self.ngrams.exact_rows(seq):
                lexical[k][j].append(("exact", 1.0))
        for n, least in ((t.long_n, t.long_overlap), (t.short_n, t.short_overlap)):
            for k, hits in enumerate(self.ngrams.overlaps(ids, n)):
                for j, share in hits:
                    if share >= least:
                        lexical[k][j].append((f"ngram{n}", round(share, 4)))
        out = [Screening(rid, text) for rid, text in texts]
        sims = None
        near: dict[str, Any] = {}
        if self.embeddings is not None:
            self.tally.seconds["ngram"] += time.perf_counter() - started
            started = time.perf_counter()
            sims = self.embeddings.encode([text for _, text in texts]) @ self.embeddings.matrix.T
            near = {b: self.candidates.nearest(sims, b) for b in self.rows}  # the batch's at once
        proposed = [self._proposed(p, lexical[k], sims, k, near) for k, p in enumerate(profiles)]
        bounds: list[dict[str, list[float]]] = [{} for _ in texts]
        if sims is not None and not self.ask_judge:  # the batch's score bounds, benchmark by benchmark
            for b in self.rows:
                ks: list[int] = []
                rows: list[int] = []
                for k, mine in enumerate(proposed):
                    ks += [k] * len(mine[b])
                    rows += mine[b]
                got = self.bounds.bounds(profiles, b, ks, rows, sims)
                at = 0
                for k, mine in enumerate(proposed):
                    bounds[k][b] = got[at : at + len(mine[b])]
                    at += len(mine[b])
        for k, (s, profile) in enumerate(zip(out, profiles, strict=True)):
            self._decide(s, profile, lexical[k], None if sims is None else sims[k], proposed[k], bounds[k])
        self.tally.seconds["embedding" if sims is not None else "ngram"] += time.perf_counter() - started
        return out

    def check(self, texts: Iterable[tuple[str, str]], batch_size: int = 256) -> Iterator[CheckResult]:
        """Results for ``(id, text)`` pairs, in order; texts are processed ``batch_size`` at a time."""
        batch: list[tuple[str, str]] = []
        for pair in texts:
            batch.append(pair)
            if len(batch) >= batch_size:
                yield from self._check_batch(batch)
                batch = []
        if batch:
            yield from self._check_batch(batch)

    def _check_batch(self, batch: list[tuple[str, str]]) -> list[CheckResult]:
        screenings = self.screen(batch)
        replies: list[str | None] = []
        if self.judge is not None and any(s.needs_judge for s in screenings):
            started = time.perf_counter()
            requests = (
                self.judge.requests(screenings)
                if hasattr(self.judge, "requests")
                else judge_requests(screenings)
            )
            replies = self.judge(requests)
            self.tally.seconds["judge"] += time.perf_counter() - started
        results = resolve(screenings, replies, self.t.drop)
        self.tally.add_all(screenings, results)
        return results

    def report(self) -> dict[str, Any]:
        """Counts per benchmark, stage and level, thresholds, speeds and examples: a
        :class:`~synthmath.contamination.report.ContaminationReport` as plain data."""
        report = self.tally.report()
        if self.judge is not None and hasattr(self.judge, "info"):
            report.judge = self.judge.info()
        return report.model_dump(mode="json")
