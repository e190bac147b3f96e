"""Write the MATH-train evaluation sets of the contamination check (run from the repository root).

    python benchmarks/contamination/make_math_train_sets.py

- ``math_train_siblings.jsonl``: template siblings of MATH train items (every 25th row): the same
  wording with other numbers (``numbers``: each number of the problem changed with probability 1/2,
  at least one), or the same wording and math asking the opposite thing (``ask``: largest <->
  smallest, sum <-> product, positive <-> negative). They are different problems; the gate must keep
  them (level ``same_template`` at most). Diagram code is left as it is. Seeded, so reruns give the
  same file.

The rewordings (``math_train_rewordings.jsonl``) were written by hand; see README.md.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent.parent / "shared" / "data" / "math" / "MATH_train.jsonl"

_ASY = re.compile(r"\[asy\].*?(?:\[/asy\]|$)", re.DOTALL)
_NUMBER = re.compile(r"(?<![\\a-zA-Z])\d+")
_SWAPS = {
    "largest": "smallest", "smallest": "largest", "greatest": "least", "least": "greatest",
    "maximum": "minimum", "minimum": "maximum", "sum": "product", "product": "sum",
    "positive": "negative", "negative": "positive",
}  # fmt: skip
_ASK = re.compile(r"(?<!\bat )\b(" + "|".join(_SWAPS) + r")\b")  # "at least 2" is a condition


def _other(n: str, rng: random.Random) -> str:
    value = int(n)
    if value < 10:
        choices = [v for v in range(0, 13) if v != value]
    else:
        spread = max(2, value // 3)
        choices = [v for v in range(value - spread, value + spread + 1) if v != value and v > 0]
    return str(rng.choice(choices))


def change_numbers(text: str, rng: random.Random) -> str | None:
    """``text`` with some of its numbers (outside diagram code) changed; None when it has none."""
    parts = re.split(r"(\[asy\].*?(?:\[/asy\]|$))", text, flags=re.DOTALL)
    spots = [(i, m) for i, p in enumerate(parts) if not _ASY.fullmatch(p) for m in _NUMBER.finditer(p)]
    if not spots:
        return None
    chosen = {k for k in range(len(spots)) if rng.random() < 0.5} or {rng.randrange(len(spots))}
    for k in sorted(chosen, reverse=True):  # right to left, so that offsets stay valid
        i, m = spots[k]
        parts[i] = parts[i][: m.start()] + _other(m.group(), rng) + parts[i][m.end() :]
    return "".join(parts)


def change_ask(text: str) -> str | None:
    """``text`` asking the opposite (the last ask word of its prose swapped); None without one."""
    prose = _ASY.sub(lambda m: " " * len(m.group()), text)
    hits = list(_ASK.finditer(prose))
    if not hits:
        return None
    m = hits[-1]
    return text[: m.start()] + _SWAPS[m.group()] + text[m.end() :]


def main() -> None:
    rng = random.Random(14)
    rows = [json.loads(line) for line in DATA.open(encoding="utf-8")]
    out = []
    sources = rows[5::25]
    for row in sources:
        for style, sibling in (
            ("numbers", change_numbers(row["problem"], rng)),
            ("ask", change_ask(row["problem"])),
        ):
            if sibling is not None and sibling != row["problem"]:
                out.append(
                    {"id": f"math-train-sibling-{len(out)}", "source_benchmark": "math_train",
                     "source_id": row["id"], "style": style, "question": sibling}
                )  # fmt: skip
    with (HERE / "math_train_siblings.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in out)
    print(f"{len(out)} siblings from {len(sources)} items")


if __name__ == "__main__":
    main()
