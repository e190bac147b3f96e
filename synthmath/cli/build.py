"""``build-instruct`` and ``build-dpo``: flags into a config, the library's build_to_dir, one summary line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..location import Location
from ..logs import configure_logging
from ._app import main
from .options import (
    GroupedCommand,
    GroupedOption,
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
    dry_run = options.pop("dry_run", False)
    configure_logging(verbose)
    cfg = _config(config_file, options)
    if dry_run:
        _print_plan(kind, cfg)
        return
    from ..build import build_to_dir

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


def _print_plan(kind: str, cfg: Any) -> None:
    from ..plan import CHARS_PER_TOKEN, plan_build

    plan = plan_build(kind, cfg)  # type: ignore[arg-type]
    skipped = ", ".join(f"{r} {n}" for r, n in plan.skipped.most_common())
    levels = ", ".join(f"level {lv}: {n}" for lv, n in sorted(plan.by_level.items()))
    click.echo(
        f"dry run, nothing sent: {plan.seeds} seeds from {cfg.seeds} "
        f"({len(plan.by_subject)} subjects; {levels})"
        + (f", {sum(plan.skipped.values())} skipped ({skipped})" if skipped else "")
    )
    click.echo(
        f"requests: at most {plan.requests:,} ({plan.completions:,} completions); prompt tokens: at most "
        f"{plan.prompt_tokens:,}; completion tokens: likely {plan.completion_tokens_likely:,}, at most "
        f"{plan.completion_tokens_cap:,} (at --max-tokens); about {CHARS_PER_TOKEN:g} characters a token"
    )
    gate = ", ".join(plan.contamination) if plan.contamination else "off"
    click.echo(
        f"contamination gate: {gate}"
        + (" (checked before any request of a seed)" if plan.contamination else "")
    )


@main.command(
    "build-instruct", cls=GroupedCommand, short_help="Build verified SFT pairs (Synth. Math-Instruct)."
)
@run_options
@contamination_options
@augment_options
@generation_options
@step_options
@seed_options
def build_instruct_command(config_file: Path | None, progress: bool, verbose: bool, **options: Any) -> None:
    """Build Synth. Math-Instruct: verified (rephrased question, rephrased answer) pairs for SFT.

    Writes OUT/instruct.jsonl, OUT/rejects.jsonl and OUT/summary.json."""
    _run("instruct", config_file, progress, verbose, options)


@main.command("build-dpo", cls=GroupedCommand, short_help="Build DPO tuples (Synth. Math-Alignment).")
@click.option(
    "--chat/--no-chat",
    cls=GroupedOption,
    group="output",
    default=None,
    help="Write TRL's conversational form (lists of messages).",
)
@run_options
@contamination_options
@augment_options
@generation_options
@step_options
@seed_options
def build_dpo_command(config_file: Path | None, progress: bool, verbose: bool, **options: Any) -> None:
    """Build Synth. Math-Alignment: DPO tuples (prompt = rephrased question, chosen = verified
    rephrased answer, rejected = original solution).

    Writes OUT/dpo.jsonl, OUT/rejects.jsonl and OUT/summary.json."""
    _run("dpo", config_file, progress, verbose, options)
