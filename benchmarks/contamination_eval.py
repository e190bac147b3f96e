"""How well does the contamination check catch rewordings of benchmark items, and keep what differs?

    python benchmarks/contamination_eval.py                    # every suite, held-out parts, no judge
    python benchmarks/contamination_eval.py --part tune        # the tuning parts (tune on these only)
    python benchmarks/contamination_eval.py --suite math       # one suite: gsm8k, math, real, math_train
    python benchmarks/contamination_eval.py --no-embed         # lexical and math stages only
    python benchmarks/contamination_eval.py --right-judge      # and the ceiling with a judge that is right

Every set is split into a tuning part and a held-out part in ``contamination/splits.json`` (made once,
before tuning, by ``contamination/make_splits.py``); ``--part`` picks one. Suites (data from
../shared/data and benchmarks/contamination/):

- ``gsm8k``: rewordings of GSM8K test items (sets A to E) against GSM8K test; negatives: GSM8K train.
- ``math``: rewordings and template siblings of MATH test items (the older sets, and the independent
  ``math_test_reworded3`` / ``math_test_siblings2``, never tuned on) against MATH test; negatives:
  MATH train (which holds real rewordings of MATH test items, so its shares are upper bounds of false
  positives).
- ``real``: real LLM rewordings of 1,000 MATH train problems against those problems as the
  benchmark; negatives: 1,000 other MATH train problems.
- ``math_train``: hand-written rewordings and template siblings of MATH train items against MATH
  train; negatives: MATH test.

For each set: the share of texts at each level (``same_problem`` is what is dropped by default), and
two baselines on the same texts: the n-gram baseline (any exact or n-gram match, whatever the math),
and the embedding baseline (nearest item's cosine, with the stage's static vectors, at or above the
99th percentile of benchmark items' nearest-other-item cosine).

``--right-judge`` adds a column: the share dropped when the judge (``--judge``) is asked what it would
be asked (a text's near misses, or its ``same_problem`` pairs to confirm) and answers right: "same
problem" for a rewording's own item, "different" for anything else. The column is what a capable
judge can bring: rewordings whose item it never sees are retrieval misses, siblings still dropped are
exact copies of an item. ``math`` and ``real`` suites only (their rewordings' items are known by id);
on negatives it is a lower bound (MATH train holds real rewordings of MATH test items, which this
judge calls "different").
"""

from __future__ import annotations

import argparse
import json
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


def rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run(
    checker: ContaminationChecker,
    texts: list[tuple[str, str]],
    cos_bar: float,
    judged: ContaminationChecker | None = None,
    gold: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Per text: the strongest level, whether any lexical stage matched, and the embedding baseline;
    with ``judged`` (a checker that lists judge candidates), what a right judge would drop too."""
    levels: Counter[str] = Counter()
    lexical = minilm = right = 0
    for start in range(0, len(texts), 256):
        batch = texts[start : start + 256]
        screenings = checker.screen(batch)
        for r in resolve(screenings, drop=checker.t.drop):
            levels[r.level or "none"] += 1
            lexical += any(m.method != "embedding" for m in r.matches)
        if checker.embeddings is not None:
            sims = checker.embeddings.encode([t for _, t in batch]) @ checker.embeddings.matrix.T
            minilm += int((sims.max(axis=1) >= cos_bar).sum())
        if judged is not None:
            screenings = judged.screen(batch)
            replies = [
                "same problem" if (gold or {}).get(s.id) == c.benchmark_id else "different"
                for s in screenings
                for c in s.judge
                for _ in range(2)  # asked both ways round
            ]
            right += sum(r.contaminated for r in resolve(screenings, replies, drop=judged.t.drop))
    return {"n": len(texts), "levels": levels, "lexical": lexical, "minilm": minilm, "right": right}


def gold_items() -> dict[str, str]:
    """Each rewording's own item: by ``source_id`` in the MATH sets, by problem id in the real set."""
    gold = {
        r["id"]: r["source_id"]
        for path in sorted((HERE / "contamination").glob("math_*.jsonl"))
        if "sibling" not in path.stem
        for r in rows(path)
        if "source_id" in r
    }
    for r in rows(DATA / "real" / "math_train_rephrased_dev.jsonl"):
        gold[f"{r['math_id']}#{r['variant']}"] = r["math_id"]
    return gold


def cosine_bar(checker: ContaminationChecker) -> float:
    """The embedding baseline's bar: the 99th percentile of each item's nearest other item's cosine."""
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


def part_of(ids: set[str], part: str) -> Any:
    """Whether an id is in ``part``: held-out ids are listed in splits.json, the rest is for tuning."""
    return (lambda i: i in ids) if part == "heldout" else (lambda i: i not in ids)


Suite = tuple[str, list[tuple[str, list[tuple[str, str]]]], list[tuple[str, str]]]


def suites(part: str) -> dict[str, Suite]:
    """Every suite's benchmark spec, labelled sets and negatives, restricted to ``part``."""
    sets = HERE / "contamination"
    split = {k: set(v) for k, v in json.loads((sets / "splits.json").read_text()).items()}
    gsm_in, train_in = part_of(split["gsm8k_train"], part), part_of(split["MATH_train"], part)
    test_in = part_of(split["MATH_test"], part)
    gsm_train = [(f"train/{i}", r["question"]) for i, r in enumerate(rows(DATA / "gsm8k" / "train.jsonl"))]
    math_train = [(r["id"], r["problem"]) for r in rows(DATA / "math" / "MATH_train.jsonl")]
    math_test = [(r["id"], r["problem"]) for r in rows(DATA / "math" / "MATH_test.jsonl")]

    def labelled(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
        keep = part_of(split[path.stem], part)
        data = [r for r in rows(path) if keep(r["id"])]
        out = [(f"{path.stem} (all)", [(r["id"], r["question"]) for r in data])]
        for style in sorted({r["style"] for r in data}):
            out.append(
                (f"{path.stem}: {style}", [(r["id"], r["question"]) for r in data if r["style"] == style])
            )
        return out

    return {
        "gsm8k": (
            f"gsm8k_test={DATA / 'gsm8k' / 'test.jsonl'}",
            [(lb, t) for p in sorted(sets.glob("gsm8k_test_*.jsonl")) for lb, t in labelled(p)[:1]],
            [x for x in gsm_train if gsm_in(x[0])],
        ),
        "math": (
            f"math_test={DATA / 'math' / 'MATH_test.jsonl'}",
            labelled(sets / "math_test_rephrased.jsonl")
            + labelled(sets / "math_test_reworded2.jsonl")
            + labelled(sets / "math_test_siblings.jsonl")
            + labelled(sets / "math_test_reworded3.jsonl")
            + labelled(sets / "math_test_siblings2.jsonl")
            + labelled(sets / "math_test_reworded4.jsonl")
            + labelled(sets / "math_test_siblings3.jsonl")
            + labelled(sets / "math_test_reworded5.jsonl")
            + labelled(sets / "math_test_siblings4.jsonl")
            + labelled(sets / "math_test_reworded6.jsonl")
            + labelled(sets / "math_test_siblings5.jsonl")
            + labelled(sets / "math_test_reworded7.jsonl")
            + labelled(sets / "math_test_siblings6.jsonl")
            + labelled(sets / "math_test_reworded8.jsonl")
            + labelled(sets / "math_test_siblings7.jsonl")
            + labelled(sets / "math_test_reworded9.jsonl")
            + labelled(sets / "math_test_siblings8.jsonl")
            + labelled(sets / "math_test_reworded10.jsonl")
            + labelled(sets / "math_test_siblings9.jsonl")
            + labelled(sets / "math_test_reworded11.jsonl")
            + labelled(sets / "math_test_siblings10.jsonl"),
            [x for x in math_train if train_in(x[0])],
        ),
        "real": real_suite(split, part, math_train),
        "math_train": (
            f"math_train={DATA / 'math' / 'MATH_train.jsonl'}",
            labelled(sets / "math_train_rewordings.jsonl") + labelled(sets / "math_train_siblings.jsonl"),
            [x for x in math_test if test_in(x[0])],
        ),
    }


def real_suite(split: dict[str, set[str]], part: str, math_train: list[tuple[str, str]]) -> Suite:
    """Real LLM rewordings of 1,000 MATH train problems, checked against those 1,000 problems as the
    benchmark (distinct rewordings of one problem counted once each); negatives: 1,000 other MATH
    train problems of the same part."""
    data = rows(DATA / "real" / "math_train_rephrased_dev.jsonl")
    originals = {r["math_id"]: r["original_problem"] for r in data}
    bench = CACHE / "real_originals.jsonl"
    CACHE.mkdir(parents=True, exist_ok=True)
    bench.write_text("".join(json.dumps({"id": k, "problem": v}) + "\n" for k, v in originals.items()))
    keep = part_of(split["real_math_train_problems"], part)
    seen: set[tuple[str, str]] = set()
    positives = []
    for r in data:
        key = (r["math_id"], r["rephrased_problem"])
        if keep(r["math_id"]) and key not in seen:
            seen.add(key)
            positives.append((f"{r['math_id']}#{r['variant']}", r["rephrased_problem"]))
    train_in = part_of(split["MATH_train"], part)
    negatives = [x for x in math_train if x[0] not in originals and train_in(x[0])][:1000]
    # the rewordings read by hand for the question checks (benchmarks/labels/): a share of the real
    # rewordings change or break their problem, so recall on all of them is a lower bound
    faithful = {
        f"{r['math_id']}#{r['variant']}"
        for path in sorted((HERE / "labels").glob("*.jsonl"))
        for r in rows(path)
        if r["label"] == "faithful"
    }
    labelled = [x for x in positives if x[0] in faithful]
    sets = [("real rewordings of MATH train", positives), ("real rewordings labelled faithful", labelled)]
    return f"real_originals={bench}", sets, negatives


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-embed", action="store_true", help="lexical and math stages only")
    ap.add_argument("--suite", choices=["gsm8k", "math", "real", "math_train", "all"], default="all")
    ap.add_argument(
        "--part", choices=["tune", "heldout"], default="heldout", help="which part of every set (splits.json)"
    )
    ap.add_argument("--negatives", type=int, default=0, help="limit negatives per suite (0: all)")
    ap.add_argument("--right-judge", action="store_true", help="and what a judge that is right adds")
    args = ap.parse_args()
    embedder = None
    if not args.no_embed:
        from synthmath.contamination.embeddings import load_model

        embedder = load_model()
    for name, (bench, positives, negatives) in suites(args.part).items():
        if args.suite not in ("all", name):
            continue
        negatives = negatives[: args.negatives] if args.negatives else negatives
        started = time.perf_counter()
        checker = ContaminationChecker(load_benchmarks([bench]), embedder=embedder, cache_dir=CACHE)
        built = time.perf_counter() - started
        bar = cosine_bar(checker)
        judged = gold = None
        if args.right_judge and name in ("math", "real"):
            judged = ContaminationChecker(
                load_benchmarks([bench]), embedder=embedder, cache_dir=CACHE, ask_judge=True
            )
            gold = gold_items()
        started = time.perf_counter()
        results = [(label, run(checker, texts, bar, judged, gold)) for label, texts in positives]
        results.append((f"negatives: {len(negatives)} texts", run(checker, negatives, bar, judged, gold)))
        seconds = time.perf_counter() - started
        print(f"\n## {name} ({args.part} part): checked against {bench.partition('=')[0]}\n")
        extra = " with a right judge |" if judged is not None else ""
        print(
            "| set | texts | same_problem (dropped) | same_template | n-gram baseline | embedding baseline |"
            + extra
        )
        print("|---|---:|---:|---:|---:|---:|" + ("---:|" if extra else ""))
        for label, r in results:
            n, lv = r["n"], r["levels"]
            print(
                f"| {label} | {n} | {lv['same_problem'] / n:.3f} | {lv['same_template'] / n:.3f} "
                f"| {r['lexical'] / n:.3f} | {r['minilm'] / n:.3f} |"
                + (f" {r['right'] / n:.3f} |" if extra else "")
            )
        info = checker.info()
        print(
            f"\nthresholds: template {info['embedding_thresholds']}, problem {info['problem_thresholds']}, "
            f"embedding baseline cosine {bar:.3f}; index built in {built:.1f} s ({info['index_seconds']}); "
            f"{sum(r['n'] for _, r in results)} texts screened in {seconds:.0f} s"
        )


if __name__ == "__main__":
    main()
