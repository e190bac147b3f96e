"""Split every evaluation set of the contamination check into a tuning part and a held-out part.

    python benchmarks/contamination/make_splits.py      # writes splits.json (run from the repo root)

The split is made once, before tuning, and kept in ``splits.json``: the held-out ids of each set. A
text is held out when the SHA-256 of its *source problem's* id is odd, so that all rewordings of one
problem land on the same side, and the rule needs no state. The hand-written MATH test sets of
2026-12-03 (``math_test_reworded2``, ``math_test_siblings``: odd k held out; ``math_test_reworded3``,
``math_test_siblings2``, the final ``math_test_reworded4``, ``math_test_siblings3``, and the fresh
``math_test_reworded5``, ``math_test_siblings4``, ``math_test_reworded6``, ``math_test_siblings5``,
``math_test_reworded7``, ``math_test_siblings6``, ``math_test_reworded8``, ``math_test_siblings7``,
``math_test_reworded9``, ``math_test_siblings8``, ``math_test_reworded10``, ``math_test_siblings9``,
``math_test_reworded11``, ``math_test_siblings10``: the same SHA-256 rule on the source id) carry their
own ``split`` field, chosen while writing them.
Tune only on the ``tune`` parts; report ``heldout`` figures.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent.parent / "shared" / "data"


def held_out(key: str) -> bool:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 1


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main() -> None:
    out: dict[str, list[str]] = {}
    for path in sorted(HERE.glob("*.jsonl")):
        data = rows(path)
        if all("split" in r for r in data):
            out[path.stem] = [r["id"] for r in data if r["split"] == "heldout"]
        else:
            source = "source_id" if "source_id" in data[0] else "source_line"
            out[path.stem] = [r["id"] for r in data if held_out(str(r[source]))]
    # real LLM rewordings of MATH train problems: by the problem's id
    real = rows(DATA / "real" / "math_train_rephrased_dev.jsonl")
    out["real_math_train_problems"] = sorted({r["math_id"] for r in real if held_out(r["math_id"])})
    # MATH train and test problems as negatives: by their own id
    for name in ("MATH_train", "MATH_test"):
        out[name] = [r["id"] for r in rows(DATA / "math" / f"{name}.jsonl") if held_out(r["id"])]
    out["gsm8k_train"] = [f"train/{i}" for i in range(7473) if held_out(f"train/{i}")]
    (HERE / "splits.json").write_text(json.dumps(out, indent=0) + "\n", encoding="utf-8")
    print({k: len(v) for k, v in out.items()})


if __name__ == "__main__":
    main()
