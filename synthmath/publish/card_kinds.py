"""The dataset card's sections on the kinds of data (``augment``), the yield by level after the first
sampling round and at the end (``min_correct``), and gold answers by vote (``gold: majority``)."""

from __future__ import annotations

from typing import Any

__all__ = ["beyond_rephrasing"]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


_KINDS = {
    "rephrase": "reworded question, answer verified against the seed's gold",
    "ansaug": "the original question, a new verified answer (MetaMath AnsAug)",
    "fobar": "a number masked as a variable, the answer given, the number asked for (MetaMath FOBAR)",
    "sv": "question and answer as one statement with a number masked, the number asked for (MetaMath SV)",
}


def beyond_rephrasing(summary: dict[str, Any]) -> list[str]:
    """The card's sections on the kinds of data, sampling rounds and voted gold answers."""
    out: list[str] = []
    kinds = summary.get("by_kind") or {}
    if kinds:
        out += [
            "### By kind",
            "",
            "| kind | what | seeds | questions made | questions kept | answers | records | "
            "seeds with records |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for kind, c in kinds.items():
            out.append(
                f"| {kind} | {_KINDS.get(kind, '')} | {c.get('seeds', 0)} | "
                f"{c.get('question_candidates', 0)} | "
                f"{c.get('questions_kept', 0)} | {c.get('answer_candidates', 0)} | {c.get('records', 0)} | "
                f"{c.get('seeds_with_records', 0)} |"
            )
        out.append("")
    levels = summary.get("by_level") or {}
    if any("with_records_round1" in r for r in levels.values()):
        cfg = summary.get("config", {})
        out += [
            "### Yield by level, before and after difficulty-aware sampling",
            "",
            f"Answers were sampled in rounds until {cfg.get('min_correct')} per question were verified or "
            f"{cfg.get('max_tries')} were sampled, so hard seeds got more tries (DART-Math). Before: after "
            "the first round, as a build without rounds would stop; after: at the end.",
            "",
            "| level | seeds | yield before (round 1) | yield after | records before (round 1) | "
            "records after |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for level, r in levels.items():
            seeds = r.get("seeds", 0)
            before = r.get("with_records_round1", 0) / seeds if seeds else None
            after = r.get("with_records", 0) / seeds if seeds else None
            out.append(
                f"| {level} | {seeds} | {_pct(before)} | {_pct(after)} | {r.get('records_round1', 0)} | "
                f"{r.get('records', 0)} |"
            )
        out.append("")
    vote = summary.get("gold_vote") or {}
    if vote.get("seeds"):
        cfg = summary.get("config", {})
        out += [
            f"{vote['seeds']} seeds had no gold answer: each got the answer that at least "
            f"{_pct(cfg.get('min_agreement'))} of {cfg.get('gold_samples')} sampled solutions agreed on "
            f"({vote.get('with_gold', 0)} did; their records say `meta.gold_from: vote`).",
            "",
        ]
    return out
