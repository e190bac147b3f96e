"""The dataset card (README.md): what the data is, how it was made, how much was kept, is it clean."""

from __future__ import annotations

import json
from typing import Any

import yaml

from .card_kinds import beyond_rephrasing

__all__ = ["render_card", "size_category"]

_CITATIONS = """\
```bibtex
@article{kim2023solar,
  title   = {SOLAR 10.7B: Scaling Large Language Models with Simple yet Effective Depth Up-Scaling},
  author  = {Kim, Dahyun and Park, Chanjun and Kim, Sanghoon and others},
  journal = {arXiv preprint arXiv:2312.15166},
  year    = {2023}
}
@article{yu2023metamath,
  title   = {MetaMath: Bootstrap Your Own Mathematical Questions for Large Language Models},
  author  = {Yu, Longhui and Jiang, Weisen and Shi, Han and others},
  journal = {arXiv preprint arXiv:2309.12284},
  year    = {2023}
}
@article{hendrycks2021math,
  title   = {Measuring Mathematical Problem Solving With the MATH Dataset},
  author  = {Hendrycks, Dan and Burns, Collin and Kadavath, Saurav and others},
  journal = {arXiv preprint arXiv:2103.03874},
  year    = {2021}
}
```"""


_SAMPLING = ("temperature", "top_p", "max_tokens", "seed", "top_k", "min_p", "repetition_penalty")


def size_category(n: int) -> str:
    """The Hub's size_categories bucket for n rows."""
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return label
    return "n>10M"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _table(rows: dict[str, dict[str, int]], label: str) -> str:
    lines = [f"| {label} | seeds | seeds with records | records | yield |", "|---|---:|---:|---:|---:|"]
    for key, r in rows.items():
        seeds, kept = r.get("seeds", 0), r.get("with_records", 0)
        rate = kept / seeds if seeds else None
        lines.append(f"| {key} | {seeds} | {kept} | {r.get('records', 0)} | {_pct(rate)} |")
    return "\n".join(lines)


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"


def _token_notes(tokens: dict[str, Any]) -> str:
    """The parts of the token counts worth telling apart: the solve check's, and replies from the cache."""
    notes = []
    if tokens.get("solve_check_completion"):
        spent = f"{tokens['solve_check_prompt']} in and {tokens['solve_check_completion']} out"
        notes.append(f"the solve check took {spent}")
    if tokens.get("cached_completion"):
        notes.append(f"{tokens['cached_completion']} more out were replayed from the request cache")
    return f" ({'; '.join(notes)})" if notes else ""


def render_card(
    summary: dict[str, Any],
    *,
    repo_id: str,
    configs: list[str],
    data_files: dict[str, str],
    plots: list[str],
    license: str = "mit",
    contamination: dict[str, Any] | None = None,
    plots_skipped: str | None = None,
) -> str:
    """The README.md of a dataset repository, built from a build's summary.json."""
    kind = summary["kind"]
    n = summary["records"]
    config_names = sorted(set(configs) | {kind})
    front = {
        "license": license,
        "language": ["en"],
        "task_categories": ["text-generation", "question-answering"],
        "size_categories": [size_category(n)],
        "tags": ["math", "synthetic", "synthmath", "sft" if kind == "instruct" else "dpo", "MATH"],
        "pretty_name": f"{repo_id.split('/')[-1]} (synthmath {kind})",
        "configs": [
            {
                "config_name": c,
                "data_files": [{"split": "train", "path": data_files.get(c, f"data/{c}-*.parquet")}],
                **({"default": True} if c == kind else {}),
            }
            for c in config_names
        ],
    }
    cfg = summary.get("config", {})
    what = (
        "supervised fine-tuning pairs (*Synth. Math-Instruct*): a reworded MATH question and a step-by-step "
        "answer whose final answer was verified against the original"
        if kind == "instruct"
        else "preference tuples (*Synth. Math-Alignment*) for DPO: `prompt` is a reworded MATH question, "
        "`chosen` a verified step-by-step answer to it, `rejected` the original MATH solution"
    )
    servers = summary.get("servers") or {}
    versions = sorted({str(v.get("version")) for v in servers.values() if v.get("version")})
    seeds = summary["seeds"]
    q, a = summary["questions"], summary["answers"]
    out: list[str] = ["---", yaml.safe_dump(front, sort_keys=False).rstrip(), "---", ""]
    out += [
        f"# {repo_id}",
        "",
        f"Synthetic math training data made with [synthmath](https://pypi.org/project/synthmath/) "
        f"{summary.get('synthmath_version', '')}: {what}.",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'ds = load_dataset("{repo_id}", "{kind}", split="train")',
        "```",
        "",
        "## How it was made",
        "",
        "The recipe is the one SOLAR 10.7B used for its Synth. Math-Instruct and Synth. Math-Alignment data "
        "(Kim et al., 2023), built on MetaMath's question rephrasing (Yu et al., 2023):",
        "",
        f"1. **Seeds**: problems of the MATH dataset (Hendrycks et al., 2021), from `{cfg.get('seeds')}` "
        f"(split `{cfg.get('split')}`).",
        f"2. **Rephrase the question**: {cfg.get('rephrasings')} rewordings per seed; rewordings that were "
        "empty, cut off, identical to the original, repeated, or that dropped a number of the original "
        "were rejected.",
        "3. **Answer**: "
        + (
            "for each rewording, a step-by-step solution written for the new wording, following the "
            "original solution."
            if cfg.get("answer_mode", "rephrase") == "rephrase"
            else "each rewording solved afresh (rejection sampling)."
        ),
        "4. **Verify**: an answer is kept only if its final `\\boxed{}` answer is mathematically equivalent "
        "to the seed's gold answer (compared exactly, never through a partial parse).",
        "",
        "## Provenance",
        "",
        "| | |",
        "|---|---|",
        f"| seed source | `{cfg.get('seeds')}` (split `{cfg.get('split')}`; revision: "
        f"{summary.get('seed_revision') or 'not recorded'}) |",
        f"| model (served name) | `{summary.get('model')}` |",
        f"| vLLM version | {', '.join(versions) if versions else 'not reported by the server'} |",
        f"| backend | {cfg.get('backend', 'openai')} |",
        f"| sampling | {json.dumps({k: cfg.get(k) for k in _SAMPLING})} |",
        f"| answer mode | {cfg.get('answer_mode')} |",
        f"| synthmath version | {summary.get('synthmath_version')} |",
        f"| built | {summary.get('started_at')} |",
        "",
        "### Prompts",
        "",
    ]
    for name, p in (summary.get("prompts") or {}).items():
        out += [
            f"<details><summary><code>{name}</code> (sha256 prefix {p['hash']})</summary>",
            "",
            "```yaml",
            p["text"].rstrip(),
            "```",
            "",
            "</details>",
            "",
        ]
    if not summary.get("prompts"):
        out += [f"- `{k}`: {v}" for k, v in (summary.get("prompt_hashes") or {}).items()] + [""]
    out += [
        "<details><summary>Full configuration</summary>",
        "",
        "```json",
        json.dumps(cfg, indent=2, sort_keys=True),
        "```",
        "",
        "</details>",
        "",
        "## Statistics",
        "",
        "| stage | candidates | kept | acceptance | rejected (by reason) |",
        "|---|---:|---:|---:|---|",
        f"| seeds | {seeds['processed'] + seeds['skipped']} | {seeds['processed']} | - | "
        f"{_reasons(seeds.get('skipped_by_reason', {}))} |",
        f"| questions | {q['candidates']} | {q['kept']} | {_pct(q.get('acceptance_rate'))} | "
        f"{_reasons(q.get('rejected_by_reason', {}))} |",
        f"| answers | {a['candidates']} | {a['kept']} | {_pct(a.get('acceptance_rate'))} | "
        f"{_reasons(a.get('rejected_by_reason', {}))} |",
        "",
        f"**{n} records** from {seeds['with_records']} of {seeds['processed']} seeds "
        f"({_pct(seeds.get('yield_rate'))}). Tokens: {summary['tokens']['prompt']} in, "
        f"{summary['tokens']['completion']} out" + _token_notes(summary["tokens"]) + ".",
        "",
    ]
    if summary.get("by_subject"):
        out += ["### By subject", "", _table(summary["by_subject"], "subject"), ""]
    if summary.get("by_level"):
        out += ["### By level", "", _table(summary["by_level"], "level"), ""]
    out += beyond_rephrasing(summary)
    for p in plots:
        out += [f"![{p.removesuffix('.png')}](plots/{p})", ""]
    if plots_skipped:
        out += [f"The figures (text lengths, acceptance by subject and level) were skipped: {plots_skipped}."]
        out += [""]
    out += ["## Contamination", ""]
    if contamination:
        out += [contamination.get("markdown", "").strip() or json.dumps(contamination, indent=2), ""]
    else:
        if summary.get("contamination_skipped"):
            out += [f"The contamination check was skipped: {summary['contamination_skipped']}", ""]
        out += [
            "No contamination check was run on this build. The seeds come from the MATH train split, "
            "which shares no exact problem with MATH test, but published LLM-judged checks found "
            "rewordings of 1.6% to 14% of MATH test items among MATH train problems; reworded training "
            "data can carry them along. Check before training on benchmarks built on MATH.",
            "",
        ]
    out += [
        "## Limitations",
        "",
        "- Final answers are verified; the reasoning steps are not. An answer can reach the right result "
        "through a wrong step.",
        "- Rewordings were checked mechanically (numbers kept, not identical, not repeated), not by a "
        "person; a rewording can change a problem's meaning while keeping its numbers.",
        "- The model's own license and terms of use apply to its outputs, in addition to the MATH license "
        "(MIT).",
        "",
        "## Citation",
        "",
        _CITATIONS,
        "",
    ]
    return "\n".join(out)
