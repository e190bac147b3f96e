"""``show``: a finished build at a glance (the library's :func:`~synthmath.inspection.overview`, printed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._app import main
from .tables import console, excerpt

if TYPE_CHECKING:
    from ..inspection import BuildOverview


@main.command("show", short_help="Counts, reject reasons and a few records of a finished build.")
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--examples", type=int, default=3, show_default=True, help="Records to show beside their seeds."
)
@click.option("--plots/--no-plots", default=True, help="Draw the plots into OUT/plots (needs matplotlib).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
def show_command(out: Path, examples: int, plots: bool, as_json: bool) -> None:
    """Show the build in OUT: counts per stage, each reject reason with one example, the first records
    side by side with the seeds they came from, and the plots (OUT/plots, with matplotlib)."""
    from ..inspection import overview

    view = overview(out, examples=examples, plots=plots)
    if as_json:
        click.echo(json.dumps(view.to_json_dict(), ensure_ascii=False, indent=2))
        return
    _print(view)


def _print(view: BuildOverview) -> None:
    from rich.table import Table

    s, con = view.summary, console()
    click.echo(
        f"{view.out}: {s.records} {s.kind} records from {s.seeds.with_records}/{s.seeds.processed} seeds, "
        f"{s.rejects} rejects; model {s.model or '?'}, {s.wall_time_s:.1f}s"
    )
    stages = Table("stage", "candidates", "kept", "rejected", "kept share", title="stages")
    for name, stage in (("questions", s.questions), ("answers", s.answers)):
        rate = f"{stage.acceptance_rate:.0%}" if stage.acceptance_rate is not None else "-"
        stages.add_row(name, str(stage.candidates), str(stage.kept), str(stage.candidates - stage.kept), rate)
    con.print(stages)
    if view.reasons:
        reasons = Table("stage", "reason", "n", "first example", title="why candidates were rejected")
        for r in view.reasons:
            ex = r.example
            text = ex.get("text") or ex.get("question") or ""
            reasons.add_row(
                r.stage,
                r.reason,
                str(r.count),
                f"{ex.get('seed_id', '')}: {ex.get('detail', '')}\n" + excerpt(text, 160),
            )
        con.print(reasons)
    for record in view.records:
        seed = view.seeds.get(record.get("seed_id", ""))
        pair = Table(f"seed {record.get('seed_id', '')}", f"record {record.get('id', '')}", show_lines=True)
        question, answer = _texts(record)
        pair.add_row(excerpt(seed["problem"], 400) if seed else "-", excerpt(question, 400))
        pair.add_row(excerpt(seed["solution"], 400) if seed else "-", excerpt(answer, 400))
        con.print(pair)
    if view.records and view.seeds_unavailable:
        click.echo(f"(seeds not shown: {view.seeds_unavailable})")
    if view.plots:
        click.echo("plots: " + ", ".join(str(p) for p in view.plots))
    elif view.plots_unavailable:
        click.echo(f"no plots: {view.plots_unavailable}")


def _texts(record: dict[str, Any]) -> tuple[str, str]:
    if "question" in record:
        return str(record["question"]), str(record.get("answer", ""))

    def text(v: Any) -> str:
        return " ".join(str(m.get("content", "")) for m in v) if isinstance(v, list) else str(v)

    return text(record.get("prompt", "")), text(record.get("chosen", ""))
