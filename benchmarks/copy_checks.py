"""Where should the copy checks draw the line? Honest rewordings against copies of the original.

    python benchmarks/copy_checks.py
    python benchmarks/copy_checks.py --question-threshold 88 --answer-threshold 92

Honest: the 1,160 hand-written rewordings of GSM8K and MATH test items in benchmarks/contamination/,
each scored against its source item (they keep the formulas, as synthmath's prompt asks). Copies, of
the same source items and of MATH train solutions: verbatim, behind an opening ("Solve this: "), with a
closing, re-wrapped (whitespace), lower-cased, and with one, two or three prose words replaced. Prints
the score distribution of the honest rewordings, what share of each kind of copy each threshold
catches, and how many honest rewordings it would wrongly reject.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from synthmath.steps.similarity import (  # noqa: E402
    ANSWER_COPY_THRESHOLD,
    QUESTION_COPY_THRESHOLD,
    answer_copies_original,
    question_copies_seed,
)
from synthmath.steps.verify import added_numbers, missing_numbers  # noqa: E402

_MATH = re.compile(r"(\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)|\[asy\].*?\[/asy\])", re.S)
_FILLERS = ["the", "a", "value", "find", "number", "so", "we", "thus"]


def honest_pairs() -> list[tuple[str, str]]:
    """(source item, hand-written rewording) for every rewording in benchmarks/contamination/ (the
    siblings, same template with other numbers, are not rewordings and are left out)."""
    math = {}
    for name in ("MATH_test.jsonl", "MATH_train.jsonl"):
        with open(DATA / "math" / name, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                math[row["id"]] = row["problem"]
    with open(DATA / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        gsm8k = [json.loads(line)["question"] for line in f]
    pairs = []
    for path in sorted((HERE / "contamination").glob("*.jsonl")):
        if "sibling" in path.name:
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                source = math[row["source_id"]] if "source_id" in row else gsm8k[row["source_line"] - 1]
                pairs.append((source, row["question"]))
    return pairs


def replace_words(text: str, k: int, rng: random.Random) -> str:
    """``text`` with ``k`` prose words (outside math) replaced by filler words."""
    parts = _MATH.split(text)
    prose = range(0, len(parts), 2)
    slots = [(i, m.start(), m.end()) for i in prose for m in re.finditer(r"[A-Za-z]+", parts[i])]
    for i, start, end in sorted(rng.sample(slots, min(k, len(slots))), key=lambda s: -s[1]):
        parts[i] = parts[i][:start] + rng.choice(_FILLERS) + parts[i][end:]
    return "".join(parts)


def copy_kinds(rng: random.Random, opening: str) -> dict[str, Callable[[str], str]]:
    return {
        "verbatim": lambda s: s,
        "opening": lambda s: opening + s,
        "closing": lambda s: s + "\n\nShow your work.",
        "rewrapped": lambda s: " ".join(s.split()),
        "lower_case": lambda s: s.lower(),
        "one_word": lambda s: replace_words(s, 1, rng),
        "two_words": lambda s: replace_words(s, 2, rng),
        "three_words": lambda s: replace_words(s, 3, rng),
    }


def report(name: str, scores: dict[str, list[float]], honest: list[float], thresholds: list[float]) -> None:
    print(f"\n== {name}")
    if honest:
        h = sorted(honest)
        print(
            f"honest rewordings ({len(h)}): max {h[-1]:.1f}, 99th pct {h[int(0.99 * len(h))]:.1f}, "
            f"95th pct {h[int(0.95 * len(h))]:.1f}, median {statistics.median(h):.1f}"
        )
    print("threshold  " + "  ".join(f"{k:>11}" for k in scores) + ("  honest rejected" if honest else ""))
    for t in thresholds:
        caught = "  ".join(f"{100 * sum(s >= t for s in v) / len(v):10.1f}%" for v in scores.values())
        wrong = f"  {sum(s >= t for s in honest):>4} of {len(honest)}" if honest else ""
        print(f"{t:9.1f}  {caught}{wrong}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--question-threshold", type=float, default=QUESTION_COPY_THRESHOLD)
    ap.add_argument("--answer-threshold", type=float, default=ANSWER_COPY_THRESHOLD)
    ap.add_argument("--solutions", type=int, default=2000, help="MATH train solutions to copy")
    args = ap.parse_args()
    rng = random.Random(0)
    sweep = sorted({80.0, 85.0, 88.0, 90.0, 92.0, 95.0, args.question_threshold, args.answer_threshold})

    pairs = honest_pairs()
    start = time.perf_counter()
    honest = [question_copies_seed(src, q).score for src, q in pairs]
    per_check = (time.perf_counter() - start) / len(pairs)
    kinds = copy_kinds(rng, "Solve this: ")
    q_scores = {k: [question_copies_seed(src, fn(src)).score for src, _ in pairs] for k, fn in kinds.items()}
    report("questions: rephrasing vs seed problem", q_scores, honest, sweep)
    dropped = sum(bool(missing_numbers(src, q)) for src, q in pairs)
    added = sum(bool(added_numbers(src, q)) for src, q in pairs)
    print(
        f"\n== numbers checks on the {len(pairs)} honest rewordings: missing_numbers flags {dropped}, "
        f"added_numbers flags {added}"
    )

    with open(DATA / "math" / "MATH_train.jsonl", encoding="utf-8") as f:
        solutions = [json.loads(line)["solution"] for _, line in zip(range(args.solutions), f, strict=False)]
    kinds = copy_kinds(rng, "We work on the reworded problem.\n\n")
    a_scores = {k: [answer_copies_original(fn(s), s).score for s in solutions] for k, fn in kinds.items()}
    report("answers: chosen vs original solution (copies only)", a_scores, [], sweep)
    print(f"\n{1e6 * per_check:.0f} us per question check on this machine")


if __name__ == "__main__":
    main()
