"""Does a faster checker still decide the same? Screens the same texts with this checkout and another
one and compares every screening: matches (benchmark, item, method, score, level), the nearest item
and the judge's candidates.

    python benchmarks/contamination_same.py --baseline /path/to/a/checkout/before
    python benchmarks/contamination_same.py --baseline ../main --math-train 2000 --batch 64

The texts: MATH train problems (``--math-train``), GSM8K train problems, MATH test and GSM8K test
items themselves (exact and n-gram matches), every rewording and sibling under
``benchmarks/contamination/`` (the levels that matter) and the rewordings the benchmarks' fake server
writes (what a build gates). Benchmarks MATH test + GSM8K test, embeddings on, screened in batches of
``--batch``; twice in each checkout: as a build screens (no judge) and listing the judge's candidates.
Each checkout runs in its own process with its own ``PYTHONPATH``; both read and write the index
cache in ``--cache-dir`` (a fresh temporary one by default). Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"

# run in each checkout: only the checker's public interface, which both sides have
CHILD = r"""
import json, sys, time
from dataclasses import asdict
from pathlib import Path
from synthmath.contamination.benchmarks import load_benchmarks
from synthmath.contamination.check import ContaminationChecker
from synthmath.contamination.embeddings import load_model

texts_path, cache, batch, specs, out = sys.argv[1:6]
cache, batch = Path(cache), int(batch)
texts = [tuple(t) for t in json.load(open(texts_path))]
benches = load_benchmarks(specs.split(","))
rows = {}
seconds = {}
for judge in (False, True):
    checker = ContaminationChecker(benches, embedder=load_model(), cache_dir=cache, ask_judge=judge)
    started = time.process_time()
    got = [s for i in range(0, len(texts), batch) for s in checker.screen(texts[i : i + batch])]
    seconds[str(judge)] = time.process_time() - started
    rows[str(judge)] = [
        {"matches": [asdict(m) for m in s.matches], "nearest": s.nearest and asdict(s.nearest),
         "judge": [[j.benchmark, j.benchmark_id, j.cosine] for j in s.judge], "items": sorted(s.item_texts)}
        for s in got
    ]
json.dump({"rows": rows, "seconds": seconds}, open(out, "w"))
"""


def texts(math_train: int) -> list[tuple[str, str]]:
    sys.path.insert(0, str(HERE.parent))
    from synthmath.testing import reword

    def jsonl(path: Path) -> list[dict]:
        return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]

    math_train_rows = jsonl(DATA / "math" / "MATH_train.jsonl")[:math_train]
    out = [(r["id"], r["problem"]) for r in math_train_rows]
    out += [(f"reword/{r['id']}/{i}", "Here is a question. " + reword(r["problem"], i))
            for r in math_train_rows[:500] for i in range(2)]  # fmt: skip
    gsm8k_train, gsm8k_test = jsonl(DATA / "gsm8k" / "train.jsonl"), jsonl(DATA / "gsm8k" / "test.jsonl")
    out += [(f"gsm8k_train/{i}", r["question"]) for i, r in enumerate(gsm8k_train[:300])]
    out += [(r["id"], r["problem"]) for r in jsonl(DATA / "math" / "MATH_test.jsonl")[::25]]
    out += [(f"gsm8k_test/{i}", r["question"]) for i, r in enumerate(gsm8k_test[::10])]
    for path in sorted((HERE / "contamination").glob("*.jsonl")):
        out += [(r["id"], r["question"]) for r in jsonl(path) if r.get("question")]
    return out


def screen(checkout: Path, data: Path, cache: Path, batch: int, out: Path, seed: int) -> dict:
    specs = f"math_test={DATA / 'math' / 'MATH_test.jsonl'},gsm8k_test={DATA / 'gsm8k' / 'test.jsonl'}"
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONHASHSEED": str(seed)}
    env["OPENBLAS_NUM_THREADS"] = "1"  # as in a build's workers: steadier CPU seconds
    cmd = [sys.executable, "-c", CHILD, str(data), str(cache), str(batch), specs, str(out)]
    # run from the output's folder: ``python -c`` puts the working directory first on sys.path, and a
    # checkout there would win over PYTHONPATH
    subprocess.run(cmd, env=env, check=True, cwd=out.parent)
    result: dict = json.loads(out.read_text())
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", type=Path, required=True, help="another checkout of synthmath")
    ap.add_argument("--math-train", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--hash-seed", type=int, default=0, help="PYTHONHASHSEED of both sides (set order)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="synthmath-same-"))
    cache = args.cache_dir or tmp / "cache"
    data = tmp / "texts.json"
    items = texts(args.math_train)
    data.write_text(json.dumps(items))
    print(f"{len(items)} texts, batches of {args.batch} (load {os.getloadavg()[0]:.1f})")
    started = time.perf_counter()
    before = screen(args.baseline.resolve(), data, cache, args.batch, tmp / "before.json", args.hash_seed)
    after = screen(HERE.parent, data, cache, args.batch, tmp / "after.json", args.hash_seed)
    differ = 0
    for mode in ("False", "True"):
        a, b = before["rows"][mode], after["rows"][mode]
        bad = [i for i in range(len(items)) if a[i] != b[i]]
        differ += len(bad)
        what = "listing the judge's candidates" if mode == "True" else "as a build screens"
        print(
            f"{what}: {len(bad)} of {len(items)} screenings differ; screening CPU s: "
            f"baseline {before['seconds'][mode]:.2f}, this checkout {after['seconds'][mode]:.2f} "
            f"({after['seconds'][mode] / before['seconds'][mode]:.2f}x)"
        )
        for i in bad[:5]:
            print(f"  {items[i][0]}:\n    before {json.dumps(a[i])}\n    after  {json.dumps(b[i])}")
    print(f"({time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.1f})")
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
