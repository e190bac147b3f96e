"""Tables for the terminal (rich), for ``seeds`` and ``show``: the library computes, this only prints."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from rich.console import Console

    from ..seeds.survey import SeedSurvey


def console() -> Console:
    """A console on the command's stdout, no wider than 110 columns."""
    from rich import console as rich_console

    out = sys.stdout  # looked up now: a test's runner replaces it
    width = min(rich_console.Console(file=out).width, 110)
    return rich_console.Console(file=out, width=width, highlight=False)


def excerpt(text: str, size: int = 70) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= size else flat[: size - 3] + "..."


def print_seed_tables(survey: SeedSurvey) -> None:
    from rich.table import Table

    skipped = ", ".join(f"{reason} {n}" for reason, n in survey.skipped.most_common())
    click.echo(
        f"{survey.usable} usable seeds, {sum(survey.skipped.values())} skipped"
        + (f" ({skipped})" if skipped else "")
    )
    out = console()
    if survey.usable:
        table = Table("subject", *(f"level {lv}" for lv in survey.levels), "all", title="usable seeds")
        table.columns[0].no_wrap = True
        for subject in survey.subjects:
            counts = [survey.count(subject, lv) for lv in survey.levels]
            table.add_row(subject, *(f"{n:,}" if n else "" for n in counts), f"{sum(counts):,}")
        totals = [survey.count(level=lv) for lv in survey.levels]
        table.add_row("all", *(f"{n:,}" for n in totals), f"{survey.usable:,}", style="bold")
        out.print(table)
    if survey.first:
        seeds = Table("id", "subject", "level", "answer", "problem", title=f"first {len(survey.first)} seeds")
        for s in survey.first:
            level = str(s.level) if s.level is not None else "?"
            seeds.add_row(s.id, s.subject or "?", level, excerpt(s.gold_answer, 20), excerpt(s.problem))
        out.print(seeds)
