"""Real model text through the whole build: what does ``build-dpo`` keep of real rewordings, and why not?

    python benchmarks/replay_real.py                 # the 170 held-out problems of the hand labels
    python benchmarks/replay_real.py --seeds all     # all 1,000 problems (the checks were tuned on most)
    python benchmarks/replay_real.py --show 20       # print 20 rejects of each reason

``../shared/data/real/math_train_rephrased_dev.jsonl`` holds three LLM rewordings of each of 1,000 MATH
train problems, each with the original solution reworded for it (the SOLAR answer step). The script
runs ``synthmath build-dpo --rephrasings 3`` on those problems against ``FakeOpenAIServer``: a question
request is answered with the three real rewordings of its seed, an answer request with the real
reworded solution of the rewording it asks about. Nothing is generated; every check sees real text.

Reported: candidates, kept and rejects by reason for each stage; the share of seeds with at least one
kept tuple (goal: 85%); and every kept tuple's final answer checked again against the gold answer of
the seed, outside the build (goal: none disagrees).

Held-out seeds: the checks were tuned on the hand labels' two tuning sets (110 problems each) and on
the 610 problems in no labelled set, so the figures that say how the checks do on text they were not
tuned on come from the labels' held-out set (170 problems, drawn as ``benchmarks/question_checks.py``
draws them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
REAL = DATA / "real" / "math_train_rephrased_dev.jsonl"
MATH_TRAIN = DATA / "math" / "MATH_train.jsonl"
sys.path.insert(0, str(ROOT))

from synthmath.answers import answers_equivalent, extract_boxed, gold_answer  # noqa: E402
from synthmath.steps.similarity import answer_copies_original  # noqa: E402
from synthmath.testing import FakeOpenAIServer, Reply  # noqa: E402

_REWORDED = "Reworded problem:\n"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def heldout_ids(rows: list[dict[str, Any]]) -> list[str]:
    """The held-out set of the hand labels (as benchmarks/question_checks.py draws it): the 170 first
    of the unlabelled-before ids shuffled with ``random.Random(2312)``."""
    ids = sorted({r["math_id"] for r in rows})
    rest = sorted(set(ids) - set(random.Random(23).sample(ids, 110)))
    random.Random(2312).shuffle(rest)
    return rest[:170]


class RealModel:
    """A fake server's handler that answers with the real rewordings and reworded solutions."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.questions: dict[str, list[str]] = {}
        self.solutions: dict[tuple[str, str], str] = {}
        for r in sorted(rows, key=lambda r: (r["math_id"], r["variant"])):
            problem = r["original_problem"].strip()
            self.questions.setdefault(problem, []).append(r["rephrased_problem"])
            self.solutions.setdefault((problem, r["rephrased_problem"].strip()), r["solution"])

    def __call__(self, request: dict[str, Any]) -> Reply:
        text = request["messages"][-1]["content"]
        n = int(request.get("n") or 1)
        if _REWORDED in text:  # an answer request: the original problem, its solution, the rewording
            problem = text.split("Original problem:\n", 1)[1].split("\n\nReference solution:\n", 1)[0]
            question = text.rsplit(_REWORDED, 1)[1].strip()
            return Reply([self.solutions[problem.strip(), question]] * n)
        return Reply(self.questions[text.strip()][:n])


def replay(rows: list[dict[str, Any]], out: Path, rephrasings: int = 3) -> None:
    """``synthmath build-dpo`` on the seeds of ``rows``, against their real rewordings, into ``out``."""
    ids = {r["math_id"] for r in rows}
    seeds = out.parent / "seeds.jsonl"
    with open(seeds, "w", encoding="utf-8") as f:
        for row in read_jsonl(MATH_TRAIN):
            if row["id"] in ids:
                f.write(json.dumps(row) + "\n")
    with FakeOpenAIServer(RealModel(rows)) as server:
        cmd = [sys.executable, "-m", "synthmath.cli", "build-dpo", "--seeds", str(seeds)]
        cmd += ["--base-url", server.url, "--rephrasings", str(rephrasings), "--no-contamination"]
        cmd += ["--out", str(out)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def report(out: Path, seeds: int, show: int) -> None:
    summary = json.loads((out / "summary.json").read_text())
    records = read_jsonl(out / "dpo.jsonl")
    rejects = read_jsonl(out / "rejects.jsonl")
    for stage in ("questions", "answers"):
        s = summary[stage]
        reasons = ", ".join(
            f"{k} {v}" for k, v in sorted(s["rejected_by_reason"].items(), key=lambda kv: -kv[1])
        )
        print(
            f"{stage}: {s['candidates']} candidates, {s['kept']} kept ({s['acceptance_rate']:.2f}); {reasons}"
        )
    with_tuple = {r["seed_id"] for r in records}
    print(
        f"seeds with at least one tuple: {len(with_tuple)} of the {seeds} with a gold answer "
        f"({len(with_tuple) / seeds:.1%})"
    )
    wrong = [r for r in records if not answers_equivalent(extract_boxed(r["chosen"]) or "", r["gold_answer"])]
    print(f"kept tuples: {len(records)}; final answer not equal to the gold answer: {len(wrong)}")
    skipped = Counter(r["reason"] for r in rejects if r["stage"] == "seed")
    if skipped:
        print(f"seeds skipped: {dict(skipped)}")
    if show:
        by_reason: dict[str, list[dict[str, Any]]] = {}
        for r in rejects:
            by_reason.setdefault(r["reason"], []).append(r)
        for reason, group in sorted(by_reason.items()):
            for r in group[:show]:
                print(f"  {reason} {r['seed_id']}: {r['detail'][:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", choices=["heldout", "all"], default="heldout")
    parser.add_argument("--show", type=int, default=0, help="print this many rejects of each reason")
    args = parser.parse_args()
    if not REAL.exists():
        raise SystemExit(f"needs {REAL} (the shared data beside the checkout)")
    rows = read_jsonl(REAL)
    if args.seeds == "heldout":
        keep = set(heldout_ids(rows))
        rows = [r for r in rows if r["math_id"] in keep]
    seeds = len({r["math_id"] for r in rows})
    gold_ok = sum(gold_answer(r["original_solution"]).answer is not None for r in rows if r["variant"] == 1)
    print(f"{seeds} seeds ({gold_ok} with a gold answer), {len(rows)} real rewordings")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        replay(rows, out)
        report(out, gold_ok, args.show)
    copy_sweep(rows)


def copy_sweep(rows: list[dict[str, Any]]) -> None:
    """How alike the real reworded solutions are to the originals: what each answer copy threshold
    would reject of them (the SOLAR answer step paraphrases the original solution)."""
    scores = sorted(answer_copies_original(r["solution"], r["original_solution"]).score for r in rows)
    n = len(scores)
    median, p90, p99 = scores[n // 2], scores[int(0.9 * n)], scores[int(0.99 * n)]
    print(f"reworded solutions vs original ({n}): median {median:.1f}, 90th pct {p90:.1f}, 99th {p99:.1f}")
    for t in (85, 90, 92, 94, 95, 97, 100):
        hit = sum(x >= t for x in scores)
        print(f"  answer copy threshold {t}: rejects {hit} ({hit / n:.1%})")


if __name__ == "__main__":
    main()
