"""The contamination checker: exact, n-gram, embedding and (optionally) LLM-judge stages, streaming.

Each text is checked against every benchmark item; a text is contaminated when any stage matches.

- ``exact``: identical after math-aware normalisation;
- ``ngram13``: at least ``long_overlap`` of its distinct 13-grams occur in one item;
- ``ngram8``: at least ``short_overlap`` of its distinct 8-grams occur in one item;
- ``embedding``: for the candidate items of each benchmark (its ``top_k`` nearest by cosine, its
  ``top_k`` that share the most (IDF-weighted) numbers with the text, and those whose distinct numbers
  are exactly the text's), a match score

      cosine + 0.3 * numbers_recall + 0.2 * numbers_precision + 0.2 * numbers_in_order
             + 0.5 * words_precision + 0.03 * numbers_information * numbers_recall * numbers_precision
             + skeleton_weight * skeleton

  at or above the benchmark's threshold. Rephrasing keeps a problem's numbers (often in the same
  order), its rare words and the shape of its sentences while it changes everything else, which is
  what defeats n-gram checks and what the score looks for. ``numbers_recall`` is the share of the
  item's distinct numbers found in the text, ``numbers_precision`` the share of the text's numbers
  found in the item, ``numbers_in_order`` the longest common subsequence of the two number sequences
  over the item's count, ``words_precision`` the IDF-weighted share of the text's content words that
  the item uses, ``numbers_information`` the summed IDF of the shared numbers (sharing 220 and 4500
  says more than sharing 2 and 3), and ``skeleton`` the longest common subsequence of the two
  sentence skeletons over the longer one. A skeleton keeps the function words (found in at least
  ``function_df`` of the benchmark's items: "each", "more", "than", "total") and the numbers, in
  order, with one slot for each run of other words: a rewording that renames every person, object
  and activity keeps it. ``skeleton_weight`` is 1 for benchmarks of word problems and 0 where most
  items hold LaTeX (see :meth:`ContaminationChecker._skeleton_weight`). Each benchmark is scored
  with its own statistics (IDF, function words), so its matches do not depend on what else is
  loaded. The weights were chosen on labelled GSM8K data (see docs/contamination.md).
  Each benchmark's threshold calibrates itself: it is the ``calibration`` quantile of the best score
  of each of its items against the *other* items of the same benchmark (distinct problems of the same
  style), and never below ``embed_score``. Where a benchmark's problems resemble one another, the bar
  rises, and the false-positive rate stays near ``1 - calibration``. In MATH-style benchmarks, an
  item's lexical near-copies (templated twins, which the n-gram stages match anyway) are left out of
  its calibration score, or the bar would sit at twins, above most rewordings;
- ``judge``: an LLM says that (text, item) are the same problem, asked in both orders; only for the
  top-k embedding candidates above ``judge_min`` cosine that no other stage flagged.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .benchmarks import Benchmark, BenchmarkItem
from .ngrams import NGramIndex, normalize_tokens

__all__ = ["CheckResult", "ContaminationChecker", "Judge", "Match", "Thresholds", "report_markdown"]


@dataclass(frozen=True)
class Thresholds:
    long_n: int = 13
    short_n: int = 8
    long_overlap: float = 0.2
    short_overlap: float = 0.5
    top_k: int = 5
    embed_score: float = 1.9
    calibration: float = 0.99
    function_df: float = 0.03
    judge_min: float = 0.6


@dataclass(frozen=True)
class Match:
    benchmark: str
    benchmark_id: str
    method: str
    score: float


@dataclass
class CheckResult:
    """What the stages found for one text. ``nearest``: the embedding stage's best-scoring item, matched
    or not (for auditing near misses); None without the embedding stage."""

    id: str
    contaminated: bool
    matches: list[Match] = field(default_factory=list)
    nearest: Match | None = None

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "contaminated": self.contaminated,
            "matches": [asdict(m) for m in self.matches],
        }
        if self.nearest is not None:
            out["nearest"] = asdict(self.nearest)
        return out


Judge = Callable[[list[tuple[str, str]]], list[bool]]
"""Takes (text, benchmark item text) pairs; says for each whether they are the same problem."""

_STOP_WORDS = """a an the of to and in on at for is are was were be been it its this that these those with as
by from or how many much what which who if each per he she they his her their them has have had do does
did will would can could then than there so but not all some more less one into after before when"""
_STOP = frozenset(_STOP_WORDS.split())


class _Profile:
    """What the match score compares: distinct numbers, number sequence, content words, and per
    benchmark the sentence skeleton (its function words and the numbers in order, each run of other
    words as one slot)."""

    __slots__ = ("numbers", "sequence", "skeletons", "words")

    def __init__(self, tokens: Sequence[str], function_words: dict[str, frozenset[str]]) -> None:
        self.sequence = [t for t in tokens if t[0].isdigit()]
        self.numbers = set(self.sequence)
        self.words = {t for t in tokens if t not in _STOP}
        self.skeletons = {name: _skeleton(tokens, words) for name, words in function_words.items()}


def _skeleton(tokens: Sequence[str], function_words: frozenset[str]) -> list[str]:
    skeleton: list[str] = []
    for t in tokens:
        if t in function_words or t[0].isdigit():
            skeleton.append(t)
        elif not skeleton or skeleton[-1]:
            skeleton.append("")  # one slot for a run of content words
    return skeleton


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of ``a`` and ``b`` (bit-parallel, one pass over ``b``)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, x in enumerate(a):
        masks[x] = masks.get(x, 0) | 1 << i
    full = (1 << len(a)) - 1
    v = full
    for y in b:
        u = v & masks.get(y, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


class ContaminationChecker:
    """Checks texts against benchmarks; counts what each stage found, for the report.

    ``embedder``: a sentence-transformers model (see :func:`synthmath.contamination.embeddings.load_model`)
    for the embedding stage, or None to skip it. ``judge``: see :data:`Judge`. ``cache_dir`` keeps the
    benchmark indexes between runs, keyed by benchmark content.
    """

    def __init__(
        self,
        benchmarks: Sequence[Benchmark],
        *,
        embedder: Any = None,
        judge: Judge | None = None,
        thresholds: Thresholds | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.benchmarks = list(benchmarks)
        self.t = thresholds or Thresholds()
        started = time.perf_counter()
        self.ngrams = NGramIndex.cached(self.benchmarks, (self.t.long_n, self.t.short_n), cache_dir)
        self.items: list[BenchmarkItem] = self.ngrams.items
        self.index_seconds = {"ngram": time.perf_counter() - started}
        self.embeddings = None
        self.profiles: list[_Profile] = []
        if embedder is not None:
            from .embeddings import EmbeddingIndex

            started = time.perf_counter()
            self.embeddings = EmbeddingIndex(self.benchmarks, embedder, cache_dir=cache_dir)
            tokens = [normalize_tokens(it.text) for it in self.items]
            # each benchmark scores with its own statistics, whatever else is loaded beside it
            mine = {
                b.name: [i for i, it in enumerate(self.items) if it.benchmark == b.name]
                for b in self.benchmarks
            }
            self.skeleton_weights = {b.name: self._skeleton_weight(b) for b in self.benchmarks}
            self.function_words = {
                name: self._function_words([tokens[i] for i in rows])
                for name, rows in mine.items()
                if self.skeleton_weights[name]
            }
            self.profiles = [
                _Profile(
                    tok,
                    {it.benchmark: self.function_words[it.benchmark]}
                    if it.benchmark in self.function_words
                    else {},
                )
                for tok, it in zip(tokens, self.items, strict=True)
            ]
            self.benchmark_idf = {name: self._idf(rows) for name, rows in mine.items()}
            # per benchmark: its items by number, and by their set of distinct numbers
            self._rows = {name: (rows[0], rows[-1] + 1) if rows else (0, 0) for name, rows in mine.items()}
            assert all(hi - lo == len(mine[name]) for name, (lo, hi) in self._rows.items())  # contiguous
            self._by_number: dict[str, defaultdict[str, list[int]]] = {}
            self._by_numbers: dict[str, defaultdict[frozenset[str], list[int]]] = {}
            for name, rows in mine.items():
                by_number: defaultdict[str, list[int]] = defaultdict(list)
                by_numbers: defaultdict[frozenset[str], list[int]] = defaultdict(list)
                self._by_number[name], self._by_numbers[name] = by_number, by_numbers
                for i in rows:
                    p = self.profiles[i]
                    for number in p.numbers:
                        by_number[number].append(i)
                    if len(p.numbers) >= 2:
                        by_numbers[frozenset(p.numbers)].append(i)
            self.embed_thresholds = {b.name: self._calibrate(b.name, tokens) for b in self.benchmarks}
            self.index_seconds["embedding"] = time.perf_counter() - started
        self.judge = judge
        self.checked = 0
        self.contaminated = 0
        self.found: Counter[tuple[str, str]] = Counter()  # (benchmark, method) -> texts
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.examples: list[dict[str, Any]] = []

    @property
    def stages(self) -> list[str]:
        s = ["exact", f"ngram{self.t.long_n}", f"ngram{self.t.short_n}"]
        if self.embeddings is not None:
            s.append("embedding")
        if self.judge is not None:
            s.append("judge")
        return s

    def _function_words(self, tokens: Sequence[Sequence[str]]) -> frozenset[str]:
        """Words in at least ``function_df`` of a benchmark's items: the words every problem of its style
        uses ("each", "more", "than", "total"), which a rewording keeps around its numbers."""
        df: Counter[str] = Counter()
        for tok in tokens:
            df.update(set(tok))
        least = self.t.function_df * len(tokens)
        return frozenset(w for w, c in df.items() if c >= least and not w[0].isdigit())

    def _idf(self, rows: Iterable[int]) -> dict[str, float]:
        """IDF of the content words and numbers of the items ``rows``; unknown ones get ``""``'s."""
        df: Counter[str] = Counter()
        n = 0
        for i in rows:
            df.update(self.profiles[i].words)
            n += 1
        idf = {w: math.log((n + 1) / (c + 1)) + 1 for w, c in df.items()}
        idf[""] = math.log(n + 1) + 1
        return idf

    @staticmethod
    def _skeleton_weight(benchmark: Benchmark) -> float:
        """1 for a benchmark of word problems, 0 where most items hold LaTeX math. In MATH-style
        benchmarks many items have a twin with the same setup and another ask ("the smallest" /
        "the largest" value of one expression), which shares the whole skeleton: there the term raises
        the calibrated threshold more than it raises rewordings, and costs recall (docs/contamination.md)."""
        math_items = sum("$" in it.text or "\\(" in it.text for it in benchmark.items)
        return 0.0 if math_items * 2 > len(benchmark.items) else 1.0

    def _number_neighbours(self, profile: _Profile, benchmark: str, k: int, exclude: int = -1) -> list[int]:
        """The k items of ``benchmark`` sharing the most information in numbers with ``profile`` (summed
        IDF of the shared numbers). Rewordings that change the setting keep the numbers, and the
        embedding model may not place them near the item at all. Numbers in many items (2, 10, ...)
        are not looked up."""
        by_number, idf = self._by_number[benchmark], self.benchmark_idf[benchmark]
        lo, hi = self._rows[benchmark]
        common = max(50, (hi - lo) // 50)
        weights: defaultdict[int, float] = defaultdict(float)
        for number in profile.numbers:
            holders = by_number.get(number, ())
            if len(holders) <= common:
                w = idf.get(number, idf[""])
                for j in holders:
                    weights[j] += w
        weights.pop(exclude, None)
        return heapq.nlargest(k, weights, key=weights.__getitem__)

    def _candidates(self, profile: _Profile, sims: Any, benchmark: str, exclude: int = -1) -> list[int]:
        """Indexes of the items of ``benchmark`` to score: its top_k by cosine (``sims``: one row of
        cosines over all items), its top_k by shared numbers, and its items with exactly the text's
        numbers (unless more than top_k have them)."""
        import numpy as np

        lo, hi = self._rows[benchmark]
        k = min(self.t.top_k, hi - lo - 1)
        if k < 1:
            return [j for j in range(lo, hi) if j != exclude]
        nearest = np.argpartition(-sims[lo:hi], k)[: k + 1] + lo
        top = [int(j) for j in nearest if j != exclude][: self.t.top_k]
        top += [j for j in self._number_neighbours(profile, benchmark, self.t.top_k, exclude) if j not in top]
        same = (
            self._by_numbers[benchmark].get(frozenset(profile.numbers), ())
            if len(profile.numbers) >= 2
            else ()
        )
        if len(same) <= self.t.top_k:
            top += [j for j in same if j != exclude and j not in top]
        return top

    def _calibrate(self, benchmark: str, tokens: Sequence[Sequence[str]]) -> float:
        """The ``calibration`` quantile of each item's best score against the other items of its benchmark
        (``tokens``: every item's normalised tokens)."""
        import numpy as np

        assert self.embeddings is not None
        lo, hi = self._rows[benchmark]
        if hi - lo < 20:
            return self.t.embed_score
        # MATH-style benchmarks hold templated twins (the same setup, another ask) that the n-gram stages
        # match anyway; calibrating on them would set the bar at twins, above most rewordings
        copies = self._lexical_copies(lo, tokens[lo:hi]) if not self.skeleton_weights[benchmark] else {}
        best = []
        for start in range(lo, hi, 1024):
            chunk = range(start, min(start + 1024, hi))
            sims = self.embeddings.matrix[chunk.start : chunk.stop] @ self.embeddings.matrix.T
            for row, i in zip(sims, chunk, strict=True):
                me = self.profiles[i]
                scores = [
                    self.match_score(me, self.profiles[j], float(row[j]), benchmark)
                    for j in self._candidates(me, row, benchmark, exclude=i)
                    if j not in copies.get(i, ())
                ]
                best.append(max(scores, default=0.0))
        return round(max(self.t.embed_score, float(np.quantile(best, self.t.calibration))), 4)

    def _lexical_copies(self, lo: int, tokens: Sequence[Sequence[str]]) -> dict[int, set[int]]:
        """For the items from ``lo`` on (``tokens``: theirs), the other items that the n-gram stages match
        (near-copies inside a benchmark, such as MATH's "smallest" / "largest" twins)."""
        ids = [self.ngrams.ids(tok) for tok in tokens]
        copies: defaultdict[int, set[int]] = defaultdict(set)
        for n, least in ((self.t.long_n, self.t.long_overlap), (self.t.short_n, self.t.short_overlap)):
            for k, hits in enumerate(self.ngrams.overlaps(ids, n, top=50)):
                copies[lo + k].update(j for j, share in hits if share >= least and j != lo + k)
        return copies

    def match_score(self, text: _Profile, item: _Profile, cosine: float, benchmark: str) -> float:
        """The embedding stage's score of one (text, item of ``benchmark``) pair; see the module docstring."""
        need, have = item.numbers, text.numbers
        shared = len(need & have)
        recall = shared / len(need) if need else 0.0
        precision = shared / len(have) if have else 0.0
        in_order = (
            _lcs(item.sequence, text.sequence) / len(item.sequence) if item.sequence and shared else 0.0
        )
        idf = self.benchmark_idf[benchmark]
        unknown = idf[""]
        total = sum(idf.get(w, unknown) for w in text.words)
        common = sum(idf[w] for w in text.words & item.words)
        words = common / total if total else 0.0
        information = sum(idf.get(n, unknown) for n in need & have) if shared else 0.0
        weight = self.skeleton_weights[benchmark]
        skeleton = 0.0
        if weight:
            mine, theirs = text.skeletons[benchmark], item.skeletons[benchmark]
            skeleton = _lcs(theirs, mine) / max(len(theirs), len(mine), 1)
        return (
            cosine + 0.3 * recall + 0.2 * precision + 0.2 * in_order + 0.5 * words
            + 0.03 * information * recall * precision + weight * skeleton
        )  # fmt: skip

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
        t = self.t
        started = time.perf_counter()
        tokens = [normalize_tokens(text) for _, text in batch]
        ids = [self.ngrams.ids(tok) for tok in tokens]
        results = [CheckResult(rid, False) for rid, _ in batch]
        for r, seq in zip(results, ids, strict=True):
            r.matches.extend(
                Match(it.benchmark, it.id, "exact", 1.0) for it in self.ngrams.exact_matches(seq)
            )
        for n, least in ((t.long_n, t.long_overlap), (t.short_n, t.short_overlap)):
            for r, hits in zip(results, self.ngrams.overlaps(ids, n), strict=True):
                for idx, share in hits:
                    if share >= least:
                        it = self.items[idx]
                        r.matches.append(Match(it.benchmark, it.id, f"ngram{n}", round(share, 4)))
        self.seconds["ngram"] += time.perf_counter() - started

        judge_pairs: list[tuple[int, BenchmarkItem, float]] = []
        if self.embeddings is not None:
            started = time.perf_counter()
            all_sims = self.embeddings.encode([text for _, text in batch]) @ self.embeddings.matrix.T
            for i, sims in enumerate(all_sims):
                profile = _Profile(tokens[i], self.function_words)
                for j in (j for b in self._rows for j in self._candidates(profile, sims, b)):
                    item, cos = self.items[j], float(sims[j])
                    score = self.match_score(profile, self.profiles[j], cos, item.benchmark)
                    best = results[i].nearest
                    if best is None or score > best.score:
                        results[i].nearest = Match(item.benchmark, item.id, "embedding", round(score, 4))
                    if score >= self.embed_thresholds[item.benchmark]:
                        results[i].matches.append(
                            Match(item.benchmark, item.id, "embedding", round(score, 4))
                        )
                    elif cos >= t.judge_min:
                        judge_pairs.append((i, item, cos))
            self.seconds["embedding"] += time.perf_counter() - started

        if self.judge is not None and judge_pairs:
            started = time.perf_counter()
            pending = [(i, it, cos) for i, it, cos in judge_pairs if not results[i].matches]
            verdicts = self.judge([(batch[i][1], it.text) for i, it, _ in pending]) if pending else []
            for (i, item, cos), same in zip(pending, verdicts, strict=True):
                if same:
                    results[i].matches.append(Match(item.benchmark, item.id, "judge", round(cos, 4)))
            self.seconds["judge"] += time.perf_counter() - started

        for (_, text), r in zip(batch, results, strict=True):
            self._count(r, text)
        return results

    def _count(self, r: CheckResult, text: str) -> None:
        r.contaminated = bool(r.matches)
        self.checked += 1
        if not r.contaminated:
            return
        self.contaminated += 1
        for key in {(m.benchmark, m.method) for m in r.matches}:
            self.found[key] += 1
        if len(self.examples) < 10:
            best = r.matches[0]
            item = next(
                it for it in self.items if (it.benchmark, it.id) == (best.benchmark, best.benchmark_id)
            )
            self.examples.append(
                {
                    "id": r.id,
                    "text": text[:500],
                    "benchmark": best.benchmark,
                    "benchmark_id": best.benchmark_id,
                    "method": best.method,
                    "score": best.score,
                    "benchmark_text": item.text[:500],
                }
            )

    def report(self) -> dict[str, Any]:
        """Counts per benchmark and stage, thresholds, speeds and examples."""
        per_benchmark = {b.name: dict.fromkeys(self.stages, 0) for b in self.benchmarks}
        for (bench, method), n in self.found.items():
            per_benchmark.setdefault(bench, {})[method] = n
        speeds = {
            s: round(self.checked / secs, 1) for s, secs in self.seconds.items() if secs > 0 and self.checked
        }
        return {
            "checked": self.checked,
            "contaminated": self.contaminated,
            "stages": self.stages,
            "benchmarks": {b.name: len(b.items) for b in self.benchmarks},
            "found": per_benchmark,
            "thresholds": asdict(self.t),
            "embedding_thresholds": getattr(self, "embed_thresholds", {}),
            "records_per_second": speeds,
            "index_seconds": {k: round(v, 2) for k, v in self.index_seconds.items()},
            "examples": self.examples,
        }


def report_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown (also the contamination section of a dataset card)."""
    stages = report["stages"]
    benches = ", ".join(f"{k} ({v} items)" for k, v in report["benchmarks"].items())
    lines = [
        f"Checked **{report['checked']}** texts against {benches} with the stages {', '.join(stages)}: "
        f"**{report['contaminated']}** matched at least one benchmark item.",
        "",
        "| benchmark | " + " | ".join(stages) + " |",
        "|---|" + "---:|" * len(stages),
    ]
    for bench, counts in report["found"].items():
        lines.append(f"| {bench} | " + " | ".join(str(counts.get(s, 0)) for s in stages) + " |")
    t = report["thresholds"]
    long_rule = "any shared" if not t["long_overlap"] else f"share >= {t['long_overlap']}"
    rules = [f"{t['long_n']}-gram {long_rule}", f"{t['short_n']}-gram share >= {t['short_overlap']}"]
    if "embedding" in stages:
        rules.append(
            "embedding match score (top "
            + str(t["top_k"])
            + ") >= "
            + ", ".join(f"{b} {v}" for b, v in report.get("embedding_thresholds", {}).items())
        )
    if "judge" in stages:
        rules.append(f"judge asked above cosine {t['judge_min']}, both orders")
    lines += ["", "Thresholds: " + "; ".join(rules) + "."]
    for ex in report["examples"][:5]:
        if ex is report["examples"][0]:
            lines += ["", "Examples:", ""]
        lines += [
            f"- `{ex['id']}` ~ {ex['benchmark']} `{ex['benchmark_id']}` ({ex['method']}, {ex['score']}):",
            f"  - text: {ex['text'][:200]!r}",
            f"  - benchmark: {ex['benchmark_text'][:200]!r}",
        ]
    return "\n".join(lines) + "\n"
