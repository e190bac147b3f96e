"""How well does the contamination check catch rewordings of benchmark items, and keep what differs?

    python benchmarks/contamination_eval.py                    # every suite, no judge
    python benchmarks/contamination_eval.py --suite math       # one suite: gsm8k, math, math_train
    python benchmarks/contamination_eval.py --no-embed         # lexical and math stages only

Suites (data from ../shared/data and benchmarks/contamination/):

- ``gsm8k``: rewordings of GSM8K test items (sets A to E) against GSM8K test; negatives: GSM8K train.
- ``math``: rewordings of MATH test items against MATH test; negatives: all of MATH train (which
  holds real rewordings of MATH test items, so its shares are upper bounds of false positives).
- ``math_train``: the gate checks MATH train here, so that the sets built from it are never the
  benchmark the gate checks in a build: hand-written rewordings of MATH train items (light, heavy,
  math put into words) and template siblings (same wording with other numbers, or another ask);
  negatives: all of MATH test.

For each set: the share of texts at each level (``same_problem`` is what is dropped by default), and
two baselines on the same texts: the n-gram baseline (any exact or n-gram match, whatever the math),
and the plain MiniLM baseline (nearest item's cosine at or above the 99th percentile of benchmark items'
nearest-other-item cosine). Embeddings of the texts are cached in the temp directory between runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from synthmath.contamination.benchmarks import load_benchmarks  # noqa: E402
from synthmath.contamination.check import ContaminationChecker  # noqa: E402
from synthmath.contamination.judge import resolve  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "synthmath-eval-cache"


class CachedEmbedder:
    """A sentence-transformers model whose vectors are kept on disk by text (reruns embed nothing new)."""

    def __init__(self, model: Any, path: Path) -> None:
        self.model, self.path = model, path
        self.max_seq_length = model.max_seq_length
        self.store: dict[str, Any] = pickle.loads(path.read_bytes()) if path.is_file() else {}
        self.dirty = False

    def encode(self, texts: list[str], **kw: Any) -> Any:
        import numpy as np

        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self.store}.items())
        if todo:
            vectors = self.model.encode([t for _, t in todo], **kw)
            self.store.update({k: v for (k, _), v in zip(todo, vectors, strict=True)})
            self.dirty = True
        return np.stack([self.store[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)

    def save(self) -> None:
        if self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(pickle.dumps(self.store))


def rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run(checker: ContaminationChecker, texts: list[tuple[str, str]], cos_bar: float) -> dict[str, Any]:
    """Per text: the strongest level, whether any lexical stage matched, and the MiniLM baseline."""
    levels: Counter[str] = Counter()
    lexical = minilm = 0
    for start in range(0, len(texts), 256):
        batch = texts[start : start + 256]
        screenings = checker.screen(batch)
        for r in resolve(screenings, drop=checker.t.drop):
            levels[r.level or "none"] += 1
            lexical += any(m.method != "embedding" for m in r.matches)
        if checker.embeddings is not None:
            sims = checker.embeddings.encode([t for _, t in batch]) @ checker.embeddings.matrix.T
            minilm += int((sims.max(axis=1) >= cos_bar).sum())
    return {"n": len(texts), "levels": levels, "lexical": lexical, "minilm": minilm}


def cosine_bar(checker: ContaminationChecker) -> float:
    """The plain MiniLM baseline's bar: the 99th percentile of each item's nearest other item's cosine."""
    import numpy as np

    if checker.embeddings is None:
        return 2.0
    m = checker.embeddings.matrix
    best = []
    for start in range(0, len(m), 1024):
        sims = m[start : start + 1024] @ m.T
        for k in range(len(sims)):
            sims[k, start + k] = -1
        best.extend(sims.max(axis=1).tolist())
    return float(np.quantile(best, 0.99))


def suites() -> dict[str, tuple[str, list[tuple[str, list[tuple[str, str]]]], list[tuple[str, str]]]]:
    sets = HERE / "contamination"
    gsm_train = [(f"train/{i}", r["question"]) for i, r in enumerate(rows(DATA / "gsm8k" / "train.jsonl"))]
    math_train = [(r["id"], r["problem"]) for r in rows(DATA / "math" / "MATH_train.jsonl")]
    math_test = [(r["id"], r["problem"]) for r in rows(DATA / "math" / "MATH_test.jsonl")]

    def by_style(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
        data = rows(path)
        out = [(f"{path.stem} (all)", [(r["id"], r["question"]) for r in data])]
        for style in sorted({r["style"] for r in data}):
            out.append(
                (f"{path.stem}: {style}", [(r["id"], r["question"]) for r in data if r["style"] == style])
            )
        return out

    return {
        "gsm8k": (
            f"gsm8k_test={DATA / 'gsm8k' / 'test.jsonl'}",
            [
                (p.stem, [(r["id"], r["question"]) for r in rows(p)])
                for p in sorted(sets.glob("gsm8k_test_*.jsonl"))
            ],
            gsm_train,
        ),
        "math": (
            f"math_test={DATA / 'math' / 'MATH_test.jsonl'}",
            by_style(sets / "math_test_rephrased.jsonl"),
            math_train,
        ),
        "math_train": (
            f"math_train={DATA / 'math' / 'MATH_train.jsonl'}",
            by_style(sets / "math_train_rewordings.jsonl") + by_style(sets / "math_train_siblings.jsonl"),
            math_test,
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-embed", action="store_true", help="lexical and math stages only")
    ap.add_argument("--suite", choices=["gsm8k", "math", "math_train", "all"], default="all")
    ap.add_argument("--negatives", type=int, default=0, help="limit negatives per suite (0: all)")
    args = ap.parse_args()
    embedder = None
    if not args.no_embed:
        from synthmath.contamination.embeddings import load_model

        embedder = CachedEmbedder(load_model(), CACHE / "eval-text-embeddings.pkl")
    for name, (bench, positives, negatives) in suites().items():
        if args.suite not in ("all", name):
            continue
        negatives = negatives[: args.negatives] if args.negatives else negatives
        started = time.perf_counter()
        checker = ContaminationChecker(load_benchmarks([bench]), embedder=embedder, cache_dir=CACHE)
        built = time.perf_counter() - started
        bar = cosine_bar(checker)
        started = time.perf_counter()
        results = [(label, run(checker, texts, bar)) for label, texts in positives]
        results.append((f"negatives: {len(negatives)} texts", run(checker, negatives, bar)))
        seconds = time.perf_counter() - started
        print(f"\n## {name}: checked against {bench.partition('=')[0]}\n")
        print("| set | texts | same_problem (dropped) | same_template | n-gram baseline | MiniLM baseline |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, r in results:
            n, lv = r["n"], r["levels"]
            print(
                f"| {label} | {n} | {lv['same_problem'] / n:.3f} | {lv['same_template'] / n:.3f} "
                f"| {r['lexical'] / n:.3f} | {r['minilm'] / n:.3f} |"
            )
        info = checker.info()
        print(
            f"\nthresholds: template {info['embedding_thresholds']}, problem {info['problem_thresholds']}, "
            f"MiniLM baseline cosine {bar:.3f}; index built in {built:.1f} s ({info['index_seconds']}); "
            f"{sum(r['n'] for _, r in results)} texts screened in {seconds:.0f} s"
        )
        if embedder is not None:
            embedder.save()


if __name__ == "__main__":
    main()
