"""How well does the contamination check catch rephrased benchmark items? Recall and false positives.

    python benchmarks/contamination_eval.py               # GSM8K and MATH, all stages but the judge
    python benchmarks/contamination_eval.py --no-embed    # lexical stages only
    python benchmarks/contamination_eval.py --suite gsm8k \
        --positives benchmarks/contamination/gsm8k_test_heldout.jsonl

Positives: hand-written rephrasings of GSM8K test and MATH test items (benchmarks/contamination/),
checked against their test sets. Negatives: GSM8K train questions against GSM8K test, and MATH train
problems against MATH test. (MATH train holds some true rewordings of MATH test items, so its
"false-positive" rate is an upper bound.) Reports recall and false-positive rate per stage (a text
counts for a stage when that stage alone flags it) and for the whole check, the embedding stage's
recall at other score thresholds, and records/s per stage on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from synthmath.contamination.benchmarks import load_benchmarks  # noqa: E402
from synthmath.contamination.check import ContaminationChecker  # noqa: E402


def rows(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate(
    checker: ContaminationChecker, positives: list[tuple[str, str]], negatives: list[tuple[str, str]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, texts in (("positives", positives), ("negatives", negatives)):
        per_stage = dict.fromkeys(checker.stages, 0)
        any_hit = 0
        nearest: list[float] = []
        started = time.perf_counter()
        for r in checker.check(texts):
            for s in {m.method for m in r.matches}:
                per_stage[s] += 1
            any_hit += r.contaminated
            nearest.append(r.nearest.score if r.nearest else 0.0)
        out[label] = {
            "n": len(texts),
            "any": any_hit,
            "per_stage": per_stage,
            "seconds": time.perf_counter() - started,
            "nearest": nearest,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-embed", action="store_true", help="lexical stages only")
    ap.add_argument("--suite", choices=["gsm8k", "math", "all"], default="all")
    ap.add_argument("--positives", type=Path, help="another positives file for the chosen suite")
    ap.add_argument("--negatives", type=int, default=0, help="limit negatives per suite (0: all)")
    args = ap.parse_args()

    embedder = None
    if not args.no_embed:
        from synthmath.contamination.embeddings import load_model

        embedder = load_model()
    cache = Path(tempfile.gettempdir()) / "synthmath-eval-cache"
    suites = {
        "gsm8k": (
            f"gsm8k_test={DATA / 'gsm8k' / 'test.jsonl'}",
            HERE / "contamination" / "gsm8k_test_rephrased.jsonl",
            [(f"train/{i}", r["question"]) for i, r in enumerate(rows(DATA / "gsm8k" / "train.jsonl"))],
        ),
        "math": (
            f"math_test={DATA / 'math' / 'MATH_test.jsonl'}",
            HERE / "contamination" / "math_test_rephrased.jsonl",
            [(r["id"], r["problem"]) for r in rows(DATA / "math" / "MATH_train.jsonl")],
        ),
    }
    for name, (bench, pos_file, neg) in suites.items():
        if args.suite not in ("all", name):
            continue
        pos_file = args.positives or pos_file
        pos = [(r["id"], r["question"]) for r in rows(pos_file)]
        if args.negatives:
            neg = neg[: args.negatives]
        checker = ContaminationChecker(load_benchmarks([bench]), embedder=embedder, cache_dir=cache)
        res = evaluate(checker, pos, neg)
        p, n = res["positives"], res["negatives"]
        print(f"\n## {name}: {p['n']} rephrased test items ({pos_file.name}), {n['n']} train items\n")
        print("| stage | recall | false-positive rate |")
        print("|---|---:|---:|")
        for s in checker.stages:
            print(f"| {s} alone | {p['per_stage'][s] / p['n']:.3f} | {n['per_stage'][s] / n['n']:.4f} |")
        print(f"| **all stages** | **{p['any'] / p['n']:.3f}** | **{n['any'] / n['n']:.4f}** |")
        speeds = checker.report()["records_per_second"]
        print("\nrecords/s per stage (this machine): " + ", ".join(f"{k} {v:.0f}" for k, v in speeds.items()))
        if checker.embeddings is not None:
            ps, ns = p["nearest"], n["nearest"]
            calibrated = checker.embed_thresholds[bench.partition("=")[0]]
            print(
                f"\nembedding match score threshold (calibrated: {calibrated}) | recall | false-positive rate"
            )
            for th in [round(calibrated + d, 3) for d in (-0.15, -0.1, -0.05, 0, 0.05, 0.1)]:
                r = sum(s >= th for s in ps) / len(ps)
                f = sum(s >= th for s in ns) / len(ns)
                print(f"{th:.2f} | {r:.3f} | {f:.4f}")


if __name__ == "__main__":
    main()
