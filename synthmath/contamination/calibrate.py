"""Each benchmark calibrates the embedding stage's two thresholds on its own items, with no labels.

For every item, its best match score against the *other* items of the same benchmark (distinct
problems in the same style) is computed when the index is built:

- the template threshold is the ``calibration`` quantile of the best score over all other items
  (never below ``embed_score``);
- the problem threshold is the ``problem_calibration`` quantile over the other items with the same mathematics
  (:func:`~synthmath.contamination.mathsig.compare`; never below ``problem_score``). Distinct problems
  rarely keep all of one another's numbers and ask the same thing, so this bar sits lower: a rewording
  that keeps the math is caught from a weaker wording signal.

Where a benchmark's problems resemble one another, the bars rise, and the share of its distinct
problems matched stays near ``1 - calibration``. In MATH-style benchmarks (no skeleton term), an
item's lexical near-copies (templated twins, which the n-gram stages match anyway) are left out of
its calibration score, or the bar would sit at twins, above most rewordings.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .benchmarks import Benchmark
from .cache import build_once, load_json, save_json
from .mathsig import compare
from .scoring import match_score

__all__ = ["calibrate", "calibrated"]

_VERSION = 17  # bump when the match score or the math comparison changes: cached thresholds go stale
log = logging.getLogger("synthmath")


def calibrated(
    checker: Any, b: Benchmark, tokens: Sequence[Sequence[str]], cache_dir: Path | None
) -> tuple[float, float]:
    """The benchmark's (template, problem) thresholds, from the cache when they were calibrated for
    the same content, embeddings and settings (calibrating MATH test takes seconds)."""
    from .embeddings import _VERSION as EMBEDDINGS_VERSION

    t = checker.t
    settings = (t.calibration, t.problem_calibration, t.embed_score, t.problem_score, t.function_df,
                t.top_k, t.nearest_k, _VERSION, EMBEDDINGS_VERSION)  # fmt: skip
    key = hashlib.sha256(f"{b.content_hash}{settings}".encode()).hexdigest()[:20]
    path = cache_dir / f"calibration-{key}.json" if cache_dir is not None else None
    if path is not None and not path.is_file():
        log.warning(f"contamination index: calibrating the thresholds of {b.name} (once; cached)")
    template, problem = build_once(path, load_json, lambda: calibrate(checker, b.name, tokens), save_json)
    return float(template), float(problem)


def calibrate(
    checker: Any,
    benchmark: str,
    tokens: Sequence[Sequence[str]],  # checker: the ContaminationChecker being built
) -> tuple[float, float]:
    """(template threshold, problem threshold) of ``benchmark`` (``tokens``: every item's tokens)."""
    import numpy as np

    t = checker.t
    assert checker.embeddings is not None
    lo, hi = checker.rows[benchmark]
    if hi - lo < 20:
        return t.embed_score, t.problem_score
    stats = checker.stats[benchmark]
    copies = _lexical_copies(checker, lo, tokens[lo:hi]) if not stats.skeleton_weight else {}
    best, best_same = [], []
    matrix = checker.embeddings.matrix
    for start in range(lo, hi, 1024):
        chunk = range(start, min(start + 1024, hi))
        sims = matrix[chunk.start : chunk.stop] @ matrix.T
        nearest = checker.candidates.nearest(sims, benchmark)
        for row, near, i in zip(sims, nearest, chunk, strict=True):
            me = checker.profiles[i]
            top = same = 0.0
            for j in checker.candidates.candidates(me, row, benchmark, exclude=i, nearest=near):
                if j in copies.get(i, ()):
                    continue
                score = match_score(me, checker.profiles[j], float(row[j]), benchmark, stats)
                top = max(top, score)
                if score > same and compare(me.math, checker.profiles[j].math).same_math:
                    same = score
            best.append(top)
            best_same.append(same)
    template = max(t.embed_score, float(np.quantile(best, t.calibration)))
    if stats.skeleton_weight:  # word problems: one threshold (the checker does not use the other)
        return round(template, 4), round(template, 4)
    problem = max(t.problem_score, float(np.quantile(best_same, t.problem_calibration)))
    return round(template, 4), round(problem, 4)


def _lexical_copies(
    checker: Any,
    lo: int,
    tokens: Sequence[Sequence[str]],  # the checker: typed Any, check.py imports this module
) -> dict[int, set[int]]:
    """For the items from ``lo`` on (``tokens``: theirs), the other items that the n-gram stages match
    (near-copies inside a benchmark, such as MATH's "smallest" / "largest" twins)."""
    t = checker.t
    ids = [checker.ngrams.ids(tok) for tok in tokens]
    copies: defaultdict[int, set[int]] = defaultdict(set)
    for n, least in ((t.long_n, t.long_overlap), (t.short_n, t.short_overlap)):
        for k, hits in enumerate(checker.ngrams.overlaps(ids, n, top=50)):
            copies[lo + k].update(j for j, share in hits if share >= least and j != lo + k)
    return copies
