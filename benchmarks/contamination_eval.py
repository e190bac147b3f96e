"""How well does the contamination check catch rephrased benchmark items? Recall and false positives.

    python benchmarks/contamination_eval.py               # GSM8K and MATH, all stages but the judge
    python benchmarks/contamination_eval.py --no-embed    # lexical stages only
    python benchmarks/contamination_eval.py --suite gsm8k \
        --positives benchmarks/contamination/gsm8k_test_heldout3.jsonl   # one set of positives

Positives: every set of hand-written rephrasings of GSM8K test and MATH test items in
benchmarks/contamination/ (one recall column each), checked against their test sets. Negatives:
GSM8K train questions against GSM8K test, and MATH train problems against MATH test. (MATH train
holds some true rewordings of MATH test items, so its "false-positive" rate is an upper bound.)
Reports recall and false-positive rate per stage (a text counts for a stage when that stage alone
flags it) and for the whole check, the embedding stage's recall at other score thresholds, and
records/s per stage on this machine.
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


def run_stages(checker: ContaminationChecker, texts: list[tuple[str, str]]) -> dict[str, Any]:
    """What each stage flagged among ``texts``, the whole check's count, and each text's best
    embedding score (for the threshold curve)."""
    per_stage = dict.fromkeys(checker.stages, 0)
    any_hit = 0
    nearest: list[float] = []
    for r in checker.check(texts):
        for s in {m.method for m in r.matches}:
            per_stage[s] += 1
        any_hit += r.contaminated
        nearest.append(r.nearest.score if r.nearest else 0.0)
    return {"n": len(texts), "any": any_hit, "per_stage": per_stage, "nearest": nearest}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-embed", action="store_true", help="lexical stages only")
    ap.add_argument("--suite", choices=["gsm8k", "math", "all"], default="all")
    ap.add_argument(
        "--positives", type=Path, nargs="+", help="positives files for the chosen suite (default: all of its)"
    )
    ap.add_argument("--negatives", type=int, default=0, help="limit negatives per suite (0: all)")
    args = ap.parse_args()

    embedder = None
    if not args.no_embed:
        from synthmath.contamination.embeddings import load_model

        embedder = load_model()
    cache = Path(tempfile.gettempdir()) / "synthmath-eval-cache"
    sets = HERE / "contamination"
    suites = {
        "gsm8k": (
            f"gsm8k_test={DATA / 'gsm8k' / 'test.jsonl'}",
            sorted(sets.glob("gsm8k_test_*.jsonl")),
            [(f"train/{i}", r["question"]) for i, r in enumerate(rows(DATA / "gsm8k" / "train.jsonl"))],
        ),
        "math": (
            f"math_test={DATA / 'math' / 'MATH_test.jsonl'}",
            sorted(sets.glob("math_test_*.jsonl")),
            [(r["id"], r["problem"]) for r in rows(DATA / "math" / "MATH_train.jsonl")],
        ),
    }
    for name, (bench, pos_files, neg) in suites.items():
        if args.suite not in ("all", name):
            continue
        pos_files = args.positives or pos_files
        if args.negatives:
            neg = neg[: args.negatives]
        checker = ContaminationChecker(load_benchmarks([bench]), embedder=embedder, cache_dir=cache)
        started = time.perf_counter()
        results = {
            f.name: run_stages(checker, [(r["id"], r["question"]) for r in rows(f)]) for f in pos_files
        }
        negatives = run_stages(checker, neg)
        seconds = time.perf_counter() - started
        print(f"\n## {name}: checked against {bench.partition('=')[0]}; negatives: {len(neg)} train items\n")
        print(
            "| stage | "
            + " | ".join(f"recall, {f} ({r['n']})" for f, r in results.items())
            + " | false-positive rate |"
        )
        print("|---|" + "---:|" * (len(results) + 1))
        for s in [*checker.stages, "all"]:
            label = "**all stages**" if s == "all" else f"{s} alone"

            def rate(r: dict[str, Any], digits: int, s: str = s) -> str:
                hits = r["any"] if s == "all" else r["per_stage"][s]
                return f"{hits / r['n']:.{digits}f}"

            print(
                f"| {label} | "
                + " | ".join(rate(r, 3) for r in results.values())
                + f" | {rate(negatives, 4)} |"
            )
        speeds = checker.report()["records_per_second"]
        print(
            f"\n{checker.checked} texts in {seconds:.0f} s; records/s per stage (this machine): "
            + ", ".join(f"{k} {v:.0f}" for k, v in speeds.items())
        )
        if checker.embeddings is not None:
            calibrated = checker.embed_thresholds[bench.partition("=")[0]]
            print(f"\nembedding threshold (calibrated: {calibrated}) | recall per file | false-positive rate")
            for th in [round(calibrated + d, 3) for d in (-0.15, -0.1, -0.05, 0, 0.05, 0.1)]:
                recalls = [sum(x >= th for x in r["nearest"]) / r["n"] for r in results.values()]
                fpr = sum(x >= th for x in negatives["nearest"]) / negatives["n"]
                print(f"{th:.2f} | " + " | ".join(f"{x:.3f}" for x in recalls) + f" | {fpr:.4f}")


if __name__ == "__main__":
    main()
