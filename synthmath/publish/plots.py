"""The dataset card's figures: length distributions, and acceptance by subject and by level."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..install import install_hint

__all__ = ["make_plots", "plots_unavailable"]


def plots_unavailable() -> str | None:
    """Why the figures cannot be drawn here (matplotlib missing), or None when they can."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        return f"matplotlib is not installed ({install_hint('hub')})"
    return None


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ConfigError(f"the dataset card's plots need matplotlib ({e}) - {install_hint('hub')}") from e
    return plt


def _text(value: Any) -> str:
    if isinstance(value, list):  # chat form: the message contents
        return "\n".join(str(m.get("content", "")) for m in value if isinstance(m, dict))
    return str(value)


def _lengths(records: Path, kind: str) -> dict[str, list[int]]:
    fields = ("question", "answer") if kind == "instruct" else ("prompt", "chosen", "rejected")
    out: dict[str, list[int]] = {f: [] for f in fields}
    with records.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            for field in fields:
                out[field].append(len(_text(row.get(field, ""))))
    return out


def make_plots(build_dir: Path, summary: dict[str, Any], dest: Path) -> list[str]:
    """Write the PNG figures into ``dest``; returns their file names."""
    plt = _pyplot()
    kind = summary["kind"]
    dest.mkdir(parents=True, exist_ok=True)
    names: list[str] = []

    lengths = _lengths(build_dir / summary["files"]["records"], kind)
    fig, ax = plt.subplots(figsize=(7, 4))
    for field, values in lengths.items():
        if values:
            ax.hist(values, bins=40, alpha=0.5, label=f"{field} (median {sorted(values)[len(values) // 2]})")
    ax.set_xlabel("length (characters)")
    ax.set_ylabel("records")
    ax.set_title(f"{kind}: text lengths")
    if any(lengths.values()):  # an empty build has no series to label
        ax.legend()
    fig.tight_layout()
    name = f"{kind}-lengths.png"
    fig.savefig(dest / name, dpi=100)
    plt.close(fig)
    names.append(name)

    for table in ("by_subject", "by_level"):
        rows = summary.get(table) or {}
        if not rows:
            continue
        keys = list(rows)
        rates = [rows[k]["with_records"] / rows[k]["seeds"] if rows[k]["seeds"] else 0.0 for k in keys]
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.bar(range(len(keys)), rates, color="#4c72b0")
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels(keys, rotation=30, ha="right")
        ax.set_ylim(0, 1.12)
        ax.set_ylabel("seeds with a kept record")
        ax.set_title(f"{kind}: acceptance {table.replace('_', ' ')}")
        for i, k in enumerate(keys):
            ax.text(i, rates[i] + 0.02, f"n={rows[k]['seeds']}", ha="center", fontsize=8)
        fig.tight_layout()
        name = f"{kind}-acceptance-{table.removeprefix('by_')}.png"
        fig.savefig(dest / name, dpi=100)
        plt.close(fig)
        names.append(name)
    return names
