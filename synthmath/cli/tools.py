"""The other commands: ``push``, ``check-contamination``, ``merge`` and ``seeds``."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Any

import click

from ..logs import configure_logging
from ._app import main
from .options import _config


@main.command("push")
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option("--repo-id", required=True, help="Hub dataset repository, e.g. you/synth-math.")
@click.option("--private", is_flag=True, help="Create the repository as private.")
@click.option(
    "--dry-run", is_flag=True, help="Write what would be uploaded to BUILD_DIR/_hub; upload nothing."
)
@click.option("--license", "license_", default="mit", show_default=True, help="License in the dataset card.")
def push_command(build_dir: Path, repo_id: str, private: bool, dry_run: bool, license_: str) -> None:
    """Push a finished build to the Hugging Face Hub: parquet shards, plots and a dataset card."""
    from ..publish import push_to_hub

    configure_logging()
    hub = push_to_hub(build_dir, repo_id, private=private, dry_run=dry_run, license=license_)
    files = sorted(str(p.relative_to(hub)) for p in hub.rglob("*") if p.is_file())
    if dry_run:
        click.echo(f"dry run: {len(files)} files staged in {hub} ({', '.join(files)}); nothing uploaded")
    else:
        click.echo(f"pushed {len(files)} files to https://huggingface.co/datasets/{repo_id}")


@main.command("check-contamination", short_help="Check JSONL records against benchmark test sets.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Directory for the results.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    help="Field holding the text to check; repeat to try several in order "
    "[default: question, prompt, problem].",
)
@click.option(
    "--benchmark",
    "benchmarks",
    multiple=True,
    help="A benchmark name (loaded from the Hub) or NAME=PATH; repeat "
    "[default: math_test, math500, gsm8k_test].",
)
@click.option(
    "--embeddings/--no-embeddings", default=None, help="The embedding stage [default: on when installed]."
)
@click.option(
    "--judge", is_flag=True, help="Ask an LLM (--base-url, --model) about the top embedding candidates."
)
@click.option(
    "--base-url",
    multiple=True,
    help="Judge server URL [default: $OPENAI_BASE_URL or http://localhost:8000/v1].",
)
@click.option("--api-key", help="Judge server API key [default: $OPENAI_API_KEY or EMPTY].")
@click.option("--model", help="Judge model [default: the one model the server lists].")
@click.option("--concurrency", type=int, help="Judge requests in flight at once [default: 256].")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    help="Benchmark index cache [default: ~/.cache/synthmath/contamination].",
)
@click.option(
    "--drop-templates",
    "contamination_drop",
    flag_value="same_problem,same_template",
    default=None,
    help="Also count texts that share a benchmark item's wording with other math (same_template).",
)
@click.option(
    "--threshold",
    "contamination_thresholds",
    multiple=True,
    help="KEY=VALUE: one of the checker's thresholds, e.g. nearest_cosine=0.75; repeatable.",
)
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="YAML or JSON config file.")
@click.option("--fail-on-match", is_flag=True, help="Exit with status 1 when any record matches.")
@click.option("--progress/--no-progress", default=True, help="Progress lines on stderr [default: on].")
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    help="local: this process; ray: screen in parallel on a Ray cluster (needs synthmath[ray]) "
    "[default: local].",
)
@click.option(
    "--ray-address", help="Ray cluster to join [default: $RAY_ADDRESS, else a local Ray for the run]."
)
@click.option("-v", "--verbose", is_flag=True, help="Show Ray's own log lines.")
def check_contamination_command(
    files: tuple[Path, ...],
    out: Path,
    fields: tuple[str, ...],
    benchmarks: tuple[str, ...],
    embeddings: bool | None,
    judge: bool,
    cache_dir: Path | None,
    fail_on_match: bool,
    progress: bool,
    executor: str,
    ray_address: str | None,
    verbose: bool,
    config_file: Path | None,
    **server: Any,
) -> None:
    """Check the records of FILE... (JSONL, JSON or parquet, each row with an `id`) against benchmark
    test sets. Writes OUT/contamination.jsonl, OUT/contamination_report.json and .md."""
    from ..contamination.run import DEFAULT_FIELDS, check_files, check_inputs, embedding_stage, make_checker

    configure_logging()
    check_inputs(list(files), fields or DEFAULT_FIELDS)  # before the benchmarks and the model load
    # the build's contamination settings, from the same flags or config-file keys
    cfg = _config(
        config_file, {**server, "benchmarks": benchmarks or None, "base_url": server["base_url"] or None}
    )
    from ..contamination.settings import Thresholds

    overrides: dict[str, Any] = {**cfg.contamination_thresholds, "drop": tuple(cfg.contamination_drop)}
    thresholds = Thresholds(**overrides)
    llm_judge = None
    if judge:
        from ..contamination.judge import LLMJudge
        from ..engine.factory import make_engine

        llm_judge = LLMJudge(make_engine(cfg))
    try:
        checker = make_checker(
            cfg.benchmarks,
            embeddings=embedding_stage(embeddings if embeddings is not None else cfg.embeddings),
            judge=llm_judge,
            thresholds=thresholds,
            cache_dir=cache_dir or cfg.contamination_cache,
        )
        # the index (a million objects) lives as long as this command: out of the collector's passes,
        # which would walk it again and again while the texts are screened (as a build's workers do)
        gc.freeze()
        if executor == "ray":
            from ..executors.ray_contamination import check_files_ray

            report = check_files_ray(
                list(files),
                out,
                checker,
                fields=fields or DEFAULT_FIELDS,
                progress=progress,
                address=ray_address,
                verbose=verbose,
            )
        else:
            report = check_files(
                list(files), out, checker, fields=fields or DEFAULT_FIELDS, progress=progress
            )
    finally:
        if llm_judge is not None:
            llm_judge.close()
    click.echo(
        f"{report['contaminated']} of {report['checked']} records match benchmark items "
        f"({', '.join(report['stages'])}) -> {out / 'contamination.jsonl'}, {out / 'contamination_report.md'}"
    )
    if fail_on_match and report["contaminated"]:
        sys.exit(1)


@main.command("merge")
@click.argument("shard_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Directory for the merged build.")
def merge_command(shard_dirs: tuple[Path, ...], out: Path) -> None:
    """Join the output directories of `--shard I/N` runs, checking that no shard is missing or duplicated."""
    from ..merge import merge_shards

    summary = merge_shards(list(shard_dirs), out)
    click.echo(f"merged {len(shard_dirs)} shards: {summary.records} {summary.kind} records -> {out}")


@main.command("seeds")
@click.argument("source")
@click.option("--split", default="train", show_default=True, help="Split of a Hub dataset or MATH directory.")
@click.option("--subjects", help="Comma-separated subjects to keep.")
@click.option("--levels", help="Comma-separated levels to keep.")
@click.option("--limit", type=int, help="Stop after this many seeds.")
@click.option("--show", type=int, default=0, help="Also list the first N seeds.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
def seeds_command(
    source: str,
    split: str,
    subjects: str | None,
    levels: str | None,
    limit: int | None,
    show: int,
    as_json: bool,
) -> None:
    """Check a seed source: usable seeds by subject and level, the skipped rows by reason, and (with
    --show N) the first N seeds; as tables, or as one JSON document with --json."""
    from ..config import BuildConfig
    from ..seeds.survey import survey_seeds

    cfg = BuildConfig.load(seeds=source, subjects=subjects, levels=levels, limit=limit)
    survey = survey_seeds(
        source, split=split, subjects=cfg.subjects, levels=cfg.levels, limit=limit, show=show
    )
    if as_json:
        click.echo(json.dumps(survey.to_json_dict(), ensure_ascii=False, indent=2))
        return
    from .tables import print_seed_tables

    print_seed_tables(survey)
