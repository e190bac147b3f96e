"""One source row as a seed: the field names of the usual releases, strict types, and the gold answer."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..answers import extract_boxed, extract_gsm8k_answer, gold_answer
from ..errors import SeedError
from ..records import Reject, SeedProblem

__all__ = ["row_level", "row_subject", "row_to_seed", "subject_slug"]

_PROBLEM_KEYS = ("problem", "question", "Problem", "Question")
_SOLUTION_KEYS = ("solution", "Solution", "answer", "Answer")
_ID_KEYS = ("id", "unique_id", "ID", "idx")
_SUBJECT_KEYS = ("subject", "type", "category")


def subject_slug(subject: str) -> str:
    """``"Counting & Probability"`` -> ``"counting_and_probability"`` (the MATH directory names)."""
    s = subject.strip().lower().replace("&", "and")
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def row_level(row: Mapping[str, Any]) -> int | None:
    """The difficulty level of a row (``"Level 5"`` -> 5), or None."""
    value = row.get("level")
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    m = re.search(r"\d+", str(value))
    return int(m.group(0)) if m else None


def row_subject(row: Mapping[str, Any]) -> str | None:
    """The subject of a row as a slug, or None."""
    _, subject = _first(row, _SUBJECT_KEYS)
    return subject_slug(str(subject)) if subject is not None else None


def _first(row: Mapping[str, Any], keys: Sequence[str]) -> tuple[str | None, Any]:
    for k in keys:
        v = row.get(k)
        if v is not None and not (isinstance(v, str) and v.strip() == ""):
            return k, v
    return None, None


def _content_id(problem: str, solution: str) -> str:
    digest = hashlib.sha256(f"{problem}\x00{solution}".encode()).hexdigest()
    return f"sha256/{digest[:16]}"


def _type_name(value: Any) -> str:
    return {list: "a list", dict: "an object", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), f"a {type(value).__name__}"
    )


def row_to_seed(
    row: Mapping[str, Any],
    where: str,
    *,
    source: str,
    default_id: str | None = None,
    need_gold: bool = True,
) -> SeedProblem | Reject:
    """One source row as a seed, or a seed-stage reject.

    Rejects: ``bad_field_type`` when the problem or solution is not a string (a list is never turned
    into its Python spelling and sent to the model), ``no_answer`` when the solution has no final answer,
    ``ambiguous_gold`` when its boxes hold different answers (see :func:`synthmath.answers.gold_answer`).
    Raises SeedError (naming ``where``) when the row has no problem text or no solution at all.

    ``need_gold=False`` (``gold="majority"``: the gold answer is voted during the build) accepts a row
    without a solution, or whose solution has no trustworthy final answer: its seed has an empty
    ``gold_answer`` (and an empty ``solution`` when it had none).
    """
    if not isinstance(row, Mapping):
        raise SeedError(f"{where}: expected a JSON object per seed, got {type(row).__name__}")
    pkey, problem = _first(row, _PROBLEM_KEYS)
    if pkey is None:
        raise SeedError(
            f"{where}: seed has no problem text - give each row a 'problem' (or 'question') field"
        )
    skey, solution = _first(row, _SOLUTION_KEYS)
    if skey is None and not need_gold:
        skey, solution = "solution", ""
    if skey is None:
        raise SeedError(
            f"{where}: seed has no solution - synthmath needs each seed's original solution "
            "in a 'solution' (or GSM8K-style 'answer') field; add it or remove the row"
        )
    _, rid = _first(row, _ID_KEYS)
    bad = [(k, v) for k, v in ((pkey, problem), (skey, solution)) if not isinstance(v, str)]
    if bad:
        key, value = bad[0]
        fallback = default_id or _content_id(repr(problem), repr(solution))
        seed_id = re.sub(r"\.json$", "", str(rid)) if rid is not None else fallback
        return Reject(
            seed_id=seed_id,
            stage="seed",
            reason="bad_field_type",
            detail=f"{where}: {key!r} is {_type_name(value)}, not text - give it as a string",
        )
    if rid is not None:
        seed_id = re.sub(r"\.json$", "", str(rid))
    else:
        seed_id = default_id or _content_id(problem, solution)

    boxed = extract_boxed(solution)
    if boxed:
        judged = gold_answer(solution)  # several boxes with different answers: no gold a check can trust
        if judged.reason == "ambiguous_gold" and not need_gold:
            boxed = None  # the vote decides
        elif judged.reason == "ambiguous_gold":
            return Reject(
                seed_id=seed_id,
                stage="seed",
                reason="ambiguous_gold",
                detail=f"{where}: {judged.detail}",
                text=solution,
            )
    gold = boxed or extract_gsm8k_answer(solution)
    if gold is None:
        for k in ("answer", "final_answer"):
            if k != skey and row.get(k) not in (None, ""):
                v = row[k]
                gold = str(v[0] if isinstance(v, list) and v else v).strip().strip("$") or None
                break
    if gold is None and not need_gold:
        gold = ""  # voted during the build (gold="majority")
    if gold is None:
        return Reject(
            seed_id=seed_id,
            stage="seed",
            reason="no_answer",
            detail=f"{where}: "
            + ("the final \\boxed{} is empty" if boxed == "" else "no \\boxed{} answer or '#### N' line")
            + " in the solution",
            text=solution,
        )
    return SeedProblem(
        id=seed_id,
        problem=problem,
        solution=solution,
        gold_answer=gold,
        subject=row_subject(row),
        level=row_level(row),
        source=source,
    )
