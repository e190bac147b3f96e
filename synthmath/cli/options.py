"""The flags every build command shares, as decorator bundles, and how they become one BuildConfig.

Each option carries the ``--help`` section it is listed in (:class:`GroupedOption`); commands made with
``cls=GroupedCommand`` print their options section by section, in :data:`SECTIONS` order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from ..config import BuildConfig


F = TypeVar("F", bound=Callable[..., Any])


SECTIONS = {
    "seeds": "Seeds: what to build from",
    "generation": "Generation: the model and what it is asked",
    "checks": "Checks on questions and answers",
    "contamination": "Contamination gate (runs before generation)",
    "output": "Output",
    "execution": "Execution: servers, concurrency, caching, workers",
}


class GroupedOption(click.Option):
    """An option that knows its ``--help`` section (a key of :data:`SECTIONS`)."""

    def __init__(self, *args: Any, group: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = group


class GroupedCommand(click.Command):
    """Lists options under the section headings of :data:`SECTIONS`; options without a section (and
    ``--help``) come last, under "Other options"."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: dict[str, list[tuple[str, str]]] = {key: [] for key in [*SECTIONS, ""]}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                rows.get(getattr(param, "group", ""), rows[""]).append(record)
        for key, title in [*SECTIONS.items(), ("", "Other options")]:
            if rows[key]:
                with formatter.section(title):
                    formatter.write_dl(rows[key])


def _option(group: str, *decls: str, **attrs: Any) -> Callable[[F], F]:
    return click.option(*decls, cls=GroupedOption, group=group, **attrs)


def _compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply


seed_options = _compose(
    _option(
        "seeds",
        "--from",
        "seeds",
        metavar="SOURCE",
        help="Where the seed problems come from: a Hub dataset id (EleutherAI/hendrycks_math), a MATH "
        "directory, or a .jsonl/.json/.parquet file.",
    ),
    _option("seeds", "--seeds", "seeds_alias", hidden=True),  # the flag's old name
    _option("seeds", "--split", help="Split to read from a Hub dataset or MATH directory [default: train]."),
    _option("seeds", "--subjects", help="Comma-separated MATH subjects to keep, e.g. algebra,geometry."),
    _option("seeds", "--levels", help="Comma-separated difficulty levels to keep, e.g. 4,5."),
    _option("seeds", "--limit", type=int, help="Stop after this many seeds."),
    _option("seeds", "--sample", type=int, help="Draw this many seeds at random (see --seed)."),
    _option(
        "generation",
        "--seed",
        type=int,
        help="Random seed (an integer) for --sample and for every request's sampling seed [default: 0].",
    ),
)

generation_options = _compose(
    _option(
        "generation",
        "--backend",
        type=click.Choice(["openai", "vllm"]),
        help="openai: OpenAI-compatible servers (vllm serve); vllm: load --model into vLLM in this process "
        "(needs synthmath[vllm]) [default: openai].",
    ),
    _option(
        "generation",
        "--vllm-arg",
        "vllm_args",
        multiple=True,
        help="KEY=VALUE for vllm.LLM, e.g. tensor_parallel_size=2.",
    ),
    _option(
        "generation",
        "--local",
        flag_value=True,
        default=None,
        help="No GPU, no server: run SmolLM2-135M (or --model FILE.gguf|FOLDER) on the CPU for this run; "
        "needs synthmath[local]. Few verified answers: for trying things out.",
    ),
    _option(
        "generation",
        "--local-backend",
        type=click.Choice(["transformers", "llama.cpp", "vllm"]),
        help="With --local: transformers (in this process, no compile step; synthmath[local]), llama.cpp "
        "(its server; synthmath[local-llamacpp]) or vllm (in this process) [default: transformers].",
    ),
    _option(
        "generation",
        "--serve",
        metavar="MODEL",
        help="Start `vllm serve MODEL` for this run and stop it after.",
    ),
    _option(
        "generation",
        "--serve-arg",
        "serve_args",
        multiple=True,
        help="Argument for the --local/--serve server, e.g. --serve-arg '--max-model-len 8192'; repeatable.",
    ),
    _option(
        "generation",
        "--serve-timeout",
        type=float,
        help="Seconds to wait for the --local/--serve server to answer [default: 120 local, 1800 vLLM].",
    ),
    _option(
        "generation",
        "--base-url",
        multiple=True,
        help="OpenAI-compatible server URL; repeat for several [default: $OPENAI_BASE_URL or "
        "http://localhost:8000/v1].",
    ),
    _option("generation", "--api-key", help="API key [default: $OPENAI_API_KEY or EMPTY]."),
    _option(
        "generation",
        "--model",
        help="Model name [default: the one model the server lists]; with --local, a .gguf file.",
    ),
    _option("generation", "--temperature", type=float, help="Sampling temperature [default: 0.7]."),
    _option("generation", "--top-p", type=float, help="Nucleus sampling [default: 1.0]."),
    _option("generation", "--max-tokens", type=int, help="Maximum tokens per reply [default: 1024]."),
    _option("generation", "--top-k", type=int, help="vLLM top_k."),
    _option("generation", "--min-p", type=float, help="vLLM min_p."),
    _option("generation", "--repetition-penalty", type=float, help="vLLM repetition_penalty."),
    _option(
        "execution",
        "--concurrency",
        type=int,
        help="Requests in flight at once, for the whole run (shared by its tasks) [default: 256; 8 with "
        "--local, 2 with --local-backend llama.cpp].",
    ),
    _option(
        "execution", "--max-retries", type=int, help="Retries for 429/5xx/connection errors [default: 5]."
    ),
    _option(
        "execution",
        "--max-failed-seeds",
        type=int,
        help="Stop (non-zero exit) when every request of this many seeds in a row failed [default: 10].",
    ),
    _option(
        "execution",
        "--max-failed-fraction",
        type=float,
        help="Stop when more than this share of requests failed after retries [default: 0.5].",
    ),
    _option("execution", "--timeout", type=float, help="Seconds per request [default: 600]."),
    _option(
        "execution",
        "--cache",
        type=click.Path(path_type=Path),
        help="Request cache file; a rerun reuses every response in it [default: OUT/cache/requests.sqlite].",
    ),
    _option(
        "execution",
        "--no-cache",
        "use_cache",
        flag_value=False,
        default=None,
        help="Send every request afresh.",
    ),
    _option(
        "execution",
        "--shard",
        help="I/N: process shard I of N (0-based), e.g. 0/4; join with `synthmath merge`.",
    ),
    _option(
        "execution",
        "--executor",
        type=click.Choice(["local", "ray"]),
        help="Where the build's shard tasks run: local: this machine; ray: a Ray cluster (needs "
        "synthmath[ray]) [default: local].",
    ),
    _option(
        "execution",
        "--tasks",
        type=int,
        help="Shard tasks to cut the seeds into, each writing OUT/shards/K, merged into OUT at the end "
        "[default: 1 locally; on Ray, from the seeds and the cluster's CPUs].",
    ),
    _option(
        "execution",
        "--ray-address",
        help="Ray cluster to join [default: $RAY_ADDRESS, else a local Ray for the run].",
    ),
)

step_options = _compose(
    _option("generation", "--rephrasings", type=int, help="Rephrased questions per seed [default: 2]."),
    _option(
        "generation",
        "--answer-mode",
        type=click.Choice(["rephrase", "solve"]),
        help="rephrase: rewrite the original solution for the new wording; solve: solve afresh "
        "(rejection sampling) [default: rephrase].",
    ),
    _option(
        "generation",
        "--answer-samples",
        type=int,
        help="Answers sampled per rephrased question [default: 1].",
    ),
    *(
        _option(
            "generation",
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
    _option(
        "generation",
        "--system-prompt",
        help="A system message for the question and answer steps, instead of the prompt files' own.",
    ),
    _option(
        "execution",
        "--workers",
        type=int,
        help="Worker processes for verification and the gate [default: cores - 1].",
    ),
    _option(
        "checks",
        "--verify-timeout",
        type=float,
        help="Seconds per answer before it is a verify_timeout [default: 5].",
    ),
    _option(
        "generation", "--prompts-dir", type=click.Path(path_type=Path), help="Use your own prompt files."
    ),
    _option(
        "checks",
        "--question-copy-threshold",
        type=float,
        help="Reject a rephrasing this similar (0-100) to its seed problem [default: 95].",
    ),
    _option(
        "checks",
        "--duplicate-threshold",
        type=float,
        help="Reject a rephrasing this similar (0-100) to an earlier one of the same seed [default: 90].",
    ),
    _option(
        "checks",
        "--answer-copy-threshold",
        type=float,
        help="Reject an answer this similar (0-100) to the original solution [default: 95].",
    ),
    _option(
        "checks",
        "--check-questions",
        type=click.Choice(["none", "solve"]),
        help="solve: keep a rephrasing only if the model, solving it from scratch, reaches the gold answer "
        "[default: none].",
    ),
    _option(
        "checks",
        "--solve-check-samples",
        type=int,
        help="Solutions per rephrasing for the solve check [default: 4].",
    ),
    _option(
        "checks",
        "--solve-check-min-agree",
        type=int,
        help="Solutions that must reach the gold answer [default: 1].",
    ),
    _option(
        "checks",
        "--require-numbers/--no-require-numbers",
        default=None,
        help="Reject rephrasings that drop a number of the original or write a new one [default: on].",
    ),
    _option(
        "checks",
        "--check-math/--no-check-math",
        default=None,
        help="Reject rephrasings that lose a formula of the original, compared as math [default: on].",
    ),
    _option(
        "checks",
        "--check-conditions/--no-check-conditions",
        default=None,
        help="Reject rephrasings that drop a condition of the original (integer, distinct, divisible, "
        "product, ...) [default: on].",
    ),
)

# beyond rephrasing (docs/recipe.md#beyond-rephrasing): kinds of data, sampling rounds, voted gold answers
augment_options = _compose(
    _option(
        "generation",
        "--augment",
        multiple=True,
        help="Kinds of data, comma-separated or repeated: rephrase (reworded questions), ansaug (new "
        "answers to the original question), fobar and sv (backward questions over a masked number) "
        "[default: rephrase].",
    ),
    _option(
        "generation",
        "--backward-questions",
        type=int,
        help="FOBAR and SV questions per seed, each masking another number [default: 1].",
    ),
    _option(
        "generation",
        "--min-correct",
        type=int,
        help="Sample answers per question in rounds of --answer-samples until this many are verified "
        "(or --max-tries): hard seeds get more tries [default: off, one round].",
    ),
    _option(
        "generation",
        "--max-tries",
        type=int,
        help="With --min-correct: answers sampled per question at most [default: 16].",
    ),
    _option(
        "generation",
        "--gold",
        type=click.Choice(["seed", "majority"]),
        help="seed: the gold answer is in each seed's solution; majority: a seed without one gets the "
        "answer most of --samples solutions reach [default: seed].",
    ),
    _option(
        "generation",
        "--samples",
        "gold_samples",
        type=int,
        help="With --gold majority: solutions per seed [default: 8].",
    ),
    _option(
        "generation",
        "--min-agreement",
        type=float,
        help="With --gold majority: the share of the solutions that must agree [default: 0.5].",
    ),
)

contamination_options = _compose(
    _option(
        "contamination",
        "--contamination/--no-contamination",
        default=None,
        help="Check each seed against benchmark test sets before any request is sent for it, and each "
        "rephrased question before its answer is asked for [default: on].",
    ),
    _option(
        "contamination",
        "--benchmark",
        "benchmarks",
        multiple=True,
        help="Benchmark to check against: a name (math_test, math500, gsm8k_test, svamp, theoremqa, "
        "olympiadbench; loaded from the Hub) or NAME=PATH for a local file; repeat for several "
        "[default: math_test, math500, gsm8k_test].",
    ),
    _option(
        "contamination",
        "--on-contamination",
        type=click.Choice(["drop", "flag", "fail"]),
        help="drop: move matching records to rejects.jsonl; flag: keep them with contaminated=true; "
        "fail: exit non-zero [default: drop].",
    ),
    _option(
        "contamination",
        "--embeddings/--no-embeddings",
        default=None,
        help="The embedding stage, which catches rephrased items [default: on when synthmath[embed] is "
        "installed].",
    ),
    _option(
        "contamination",
        "--judge",
        is_flag=True,
        default=None,
        help="Also ask the model about the top candidates.",
    ),
    _option(
        "contamination",
        "--drop-templates",
        "contamination_drop",
        flag_value="same_problem,same_template",
        default=None,
        help="Also drop texts that share a benchmark item's wording with other math (same_template); "
        "by default they are reported and kept.",
    ),
    _option(
        "contamination",
        "--threshold",
        "contamination_thresholds",
        multiple=True,
        help="KEY=VALUE: one of the gate's thresholds, e.g. nearest_cosine=0.75; repeatable "
        "(docs/contamination.md).",
    ),
)

run_options = _compose(
    _option(
        "output",
        "--out",
        help="Output folder: a local path, or a URI such as s3://bucket/run (any fsspec filesystem).",
    ),
    _option(
        "execution",
        "--dry-run",
        is_flag=True,
        help="Show the seeds selected and the requests and tokens the build would send; send nothing.",
    ),
    _option(
        "execution",
        "--config",
        "config_file",
        type=click.Path(path_type=Path),
        help="YAML or JSON config file.",
    ),
    _option(
        "execution", "--progress/--no-progress", default=True, help="Show progress on stderr [default: on]."
    ),
    _option("execution", "-v", "--verbose", is_flag=True, help="Log debug details."),
    _option(
        "output",
        "--push-to-hub",
        help="After the build, push it to this Hub dataset repository (see `push`).",
    ),
)


def _config(config_file: Path | None, options: dict[str, Any]) -> BuildConfig:
    from ..config import BuildConfig  # pydantic, the seeds and the checks: not needed for --help

    alias = options.pop("seeds_alias", None)
    if alias is not None:
        if options.get("seeds") not in (None, alias):
            raise click.UsageError("--seeds is the old name of --from: give one of them")
        options["seeds"] = alias
    for key in ("base_url", "vllm_args", "serve_args", "benchmarks", "contamination_thresholds", "augment"):
        if options.get(key) == ():
            options[key] = None
    for step in ("question", "answer"):  # --question-temperature ... -> question_sampling: {temperature: ...}
        own = {k: options.pop(f"{step}_{k}", None) for k in ("temperature", "top_p", "max_tokens")}
        if any(v is not None for v in own.values()):
            options[f"{step}_sampling"] = {k: v for k, v in own.items() if v is not None}
    return BuildConfig.load(config_file, **options)
