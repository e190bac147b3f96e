"""How well do the question checks judge real model rewordings? Precision and recall on hand labels.

    python benchmarks/question_checks.py                    # the held-out set (the published figures)
    python benchmarks/question_checks.py --split tuning     # the first set the checks were tuned on
    python benchmarks/question_checks.py --split tuning2    # the second tuning set
    python benchmarks/question_checks.py --show             # every disagreement with the labels

The rewordings are real LLM output: ``../shared/data/real/math_train_rephrased_dev.jsonl`` (three
rewordings of each of 1,000 MATH train problems). Each labelled one was read and judged ``faithful``
(the same problem in new words), ``changed`` (another problem: a reversed subtraction, a dropped
condition, a qualifier moved) or ``broken`` (no usable problem: an invented diagram, a dropped equation
or figure), with a short reason. Two sets, drawn by problem (all three rewordings of a problem stay in
one set):

- **tuning**, ``benchmarks/labels/real_rewordings.jsonl``: 330 rewordings of 110 problems drawn with
  ``random.Random(23).sample`` from the file's sorted MATH ids. They were first cut into a tuning half
  and a held-out half (field ``first_split``); the held-out half's misses were then read and described
  while the checks were worked on, so it is no longer held out, and both halves are tuning now.
- **heldout**, ``benchmarks/labels/real_rewordings_heldout.jsonl``: 510 rewordings of 170 further
  problems: the sorted ids not in the tuning set, shuffled with ``random.Random(2312)``, the first 170.
  Labelled before any check was changed, and without running the checks on them.
- **tuning2**, ``benchmarks/labels/real_rewordings_tuning2.jsonl``: 330 rewordings of 110 more problems:
  the sorted ids in neither set above, shuffled with ``random.Random(2323)``, the first 110. Labelled
  (and committed) before the checks were run on them; the checks were then tuned on both tuning sets.

For each check, on its own and all together (in the order ``check_question`` runs them): how many
faithful rewordings it rejects (the target is at most 3%), and how many changed or broken ones it keeps
(at most 2%), as precision (the share of its rejects that are changed or broken) and recall (the share
of the changed or broken ones it rejects). ``duplicate_rephrasing`` compares rewordings of one seed
with each other, not with the seed, and is not scored here.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
REAL = DATA / "real" / "math_train_rephrased_dev.jsonl"
LABELS = {
    "tuning": HERE / "labels" / "real_rewordings.jsonl",
    "heldout": HERE / "labels" / "real_rewordings_heldout.jsonl",
    "tuning2": HERE / "labels" / "real_rewordings_tuning2.jsonl",
}
sys.path.insert(0, str(ROOT))

from synthmath.answers import gold_answer  # noqa: E402
from synthmath.steps.conditions import changed_condition  # noqa: E402
from synthmath.steps.diagrams import adds_diagram, drops_diagram  # noqa: E402
from synthmath.steps.expressions import changed_math  # noqa: E402
from synthmath.steps.similarity import question_copies_seed  # noqa: E402
from synthmath.steps.verify import (  # noqa: E402
    added_numbers,
    asked,
    check_question,
    missing_numbers,
)

TUNING_SEED, TUNING_PROBLEMS = 23, 110
HELDOUT_SEED, HELDOUT_PROBLEMS = 2312, 170
TUNING2_SEED, TUNING2_PROBLEMS = 2323, 110

Check = Callable[[str, str, str | None], bool]
CHECKS: dict[str, Check] = {
    "question_copies_seed": lambda o, r, g: question_copies_seed(o, r).copied,
    "adds_diagram": lambda o, r, g: adds_diagram(o, r) is not None,
    "drops_diagram": lambda o, r, g: drops_diagram(o, r) is not None,
    "missing_numbers": lambda o, r, g: bool(missing_numbers(asked(o, r, g), r)),
    "added_numbers": lambda o, r, g: bool(added_numbers(o, r)),
    "changed_math": lambda o, r, g: changed_math(asked(o, r, g), r) is not None,
    "changed_condition": lambda o, r, g: changed_condition(asked(o, r, g), r) is not None,
    "all (check_question)": lambda o, r, g: check_question(o, r, "stop", [], gold=g) is not None,
    "all but changed_condition": lambda o, r, g: (
        check_question(o, r, "stop", [], gold=g, check_conditions=False) is not None
    ),
}


def gold(row: dict) -> str | None:
    """The gold answer of the row's problem (as the build reads it from the seed's solution)."""
    return gold_answer(row["original_solution"]).answer


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def splits(rows: list[dict]) -> dict[str, list[str]]:
    """The labelled problems of each set, in the order they were drawn."""
    ids = sorted({r["math_id"] for r in rows})
    tuning = random.Random(TUNING_SEED).sample(ids, TUNING_PROBLEMS)
    rest = sorted(set(ids) - set(tuning))
    random.Random(HELDOUT_SEED).shuffle(rest)
    heldout = rest[:HELDOUT_PROBLEMS]
    rest = sorted(set(rest) - set(heldout))
    random.Random(TUNING2_SEED).shuffle(rest)
    return {"tuning": tuning, "heldout": heldout, "tuning2": rest[:TUNING2_PROBLEMS]}


def labelled(split: str) -> list[tuple[dict, dict]]:
    """(label, real row) for every labelled rewording of ``split``."""
    rows = read_jsonl(REAL)
    by_key = {(r["math_id"], r["variant"]): r for r in rows}
    ids = set(splits(rows)[split])
    out = [(lab, by_key[lab["math_id"], lab["variant"]]) for lab in read_jsonl(LABELS[split])]
    if {lab["math_id"] for lab, _ in out} != ids or len(out) != 3 * len(ids):
        raise SystemExit(f"{LABELS[split]} does not match the problems drawn for the {split} set")
    return out


def score(pairs: list[tuple[dict, dict]], show: bool) -> None:
    faithful = sum(lab["label"] == "faithful" for lab, _ in pairs)
    bad = len(pairs) - faithful
    print(f"{len(pairs)} rewordings: {faithful} faithful, {bad} changed or broken")
    head = f"{'check':26} {'rejects':>8} {'faithful rejected':>18} {'bad kept':>12}"
    print(f"{head} {'precision':>10} {'recall':>7}")
    for name, check in CHECKS.items():
        hits = [
            (lab, row)
            for lab, row in pairs
            if check(row["original_problem"], row["rephrased_problem"], gold(row))
        ]
        wrong = [(lab, row) for lab, row in hits if lab["label"] == "faithful"]
        caught = len(hits) - len(wrong)
        precision = f"{caught / len(hits):.2f}" if hits else "-"
        print(
            f"{name:26} {len(hits):8d} {len(wrong):5d} ({len(wrong) / faithful:6.1%})    "
            f"{bad - caught:3d} ({(bad - caught) / bad:5.1%}) {precision:>10} {caught / bad:7.2f}"
        )
        if show and name.startswith("all ("):
            missed = [
                (lab, row) for lab, row in pairs if lab["label"] != "faithful" and (lab, row) not in hits
            ]
            for kind, group in (("faithful rejected", wrong), ("changed/broken kept", missed)):
                for lab, row in group:
                    why = check_question(
                        row["original_problem"], row["rephrased_problem"], "stop", [], gold=gold(row)
                    )
                    print(f"  {kind}: {lab['math_id']} v{lab['variant']} ({lab['reason']}): {why}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["heldout", "tuning", "tuning2"], default="heldout")
    parser.add_argument("--show", action="store_true", help="print each disagreement with the labels")
    args = parser.parse_args()
    if not REAL.exists():
        raise SystemExit(f"needs {REAL} (the shared data beside the checkout)")
    score(labelled(args.split), args.show)


if __name__ == "__main__":
    main()
