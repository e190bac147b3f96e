"""``build-instruct`` and ``build-dpo``: flags into a config, the library's build_to_dir, one summary line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..location import Location
from ..logs import configure_logging
from ._app import main
from .options import (
    _config,
    augment_options,
    contamination_options,
    generation_options,
    run_options,
    seed_options,
    step_options,
)


def _run(kind: str, config_file: Path | None, progress: bool, verbose: bool, options: dict[str, Any]) -> None:
    push_to_hub = options.pop("push_to_hub", None)
    from ..build import build_to_dir

    configure_logging(verbose)
    cfg = _config(config_file, options)
    if cfg.out is None:
        raise click.UsageError("missing --out DIR (or 'out:' in the config file)")
    out = Location(cfg.out)
    summary = build_to_dir(kind, cfg, progress=progress)  # type: ignore[arg-type]
    if push_to_hub:
        from ..publish import push_to_hub as push

        push(out.staging(), push_to_hub)  # a remote build keeps its files in its staging folder too
        click.echo(f"pushed to https://huggingface.co/datasets/{push_to_hub}")
    gate = summary.contamination
    if gate is not None:
        click.echo(
            f"contamination ({', '.join(gate.stages)}; {gate.mode}): {gate.seeds_contaminated} of "
            f"{gate.seeds_checked} seeds and {gate.questions_contaminated} of {gate.questions_checked} "
            f"rephrased questions match benchmark items (report in {out.join('contamination_report.md')})"
        )
    if summary.contamination_skipped:  # the reason was logged when it happened
        click.echo(f"contamination check skipped (why: contamination_skipped in {out.join('summary.json')})")
    seeds = summary.seeds
    cached = summary.tokens.cached_completion
    click.echo(
        f"{summary.records} {kind} records from {seeds.with_records}/{seeds.processed} seeds "
        f"-> {out.join(summary.files['records'])} ({summary.rejects} rejects in "
        f"{out.join('rejects.jsonl')}; {summary.tokens.completion} output tokens"
        + (f" + {cached} from the cache" if cached else "")
        + f", {summary.wall_time_s:.1f}s)"
    )


@main.command("build-instruct", short_help="Build verified SFT pairs (Synth. Math-Instruct).")
@run_options
@contamination_options
@augment_options
@step_options
@generation_options
@seed_options
def build_instruct_command(config_file: Path | None, progress: bool, verbose: bool, **options: Any) -> None:
    """Build Synth. Math-Instruct: verified (rephrased question, rephrased answer) pairs for SFT.

    Writes OUT/instruct.jsonl, OUT/rejects.jsonl and OUT/summary.json."""
    _run("instruct", config_file, progress, verbose, options)


@main.command("build-dpo", short_help="Build DPO tuples (Synth. Math-Alignment).")
@click.option("--chat/--no-chat", default=None, help="Write TRL's conversational form (lists of messages).")
@run_options
@contamination_options
@augment_options
@step_options
@generation_options
@seed_options
def build_dpo_command(config_file: Path | None, progress: bool, verbose: bool, **options: Any) -> None:
    """Build Synth. Math-Alignment: DPO tuples (prompt = rephrased question, chosen = verified
    rephrased answer, rejected = original solution).

    Writes OUT/dpo.jsonl, OUT/rejects.jsonl and OUT/summary.json."""
    _run("dpo", config_file, progress, verbose, options)
