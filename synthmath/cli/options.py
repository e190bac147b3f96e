"""The flags every build command shares, as decorator bundles, and how they become one BuildConfig."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..config import BuildConfig

F = TypeVar("F", bound=Callable[..., Any])


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
        "--concurrency",
        type=int,
        help="Requests in flight at once, for the whole run (shared by its tasks) [default: 256; 8 with "
        "--local, 2 with --local-backend llama.cpp].",
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
        help="Where the build's shard tasks run: local: this machine; ray: a Ray cluster (needs "
        "synthmath[ray]) [default: local].",
    ),
    click.option(
        "--tasks",
        type=int,
        help="Shard tasks to cut the seeds into, each writing OUT/shards/K, merged into OUT at the end "
        "[default: 1 locally; on Ray, from the seeds and the cluster's CPUs].",
    ),
    click.option(
        "--ray-address", help="Ray cluster to join [default: $RAY_ADDRESS, else a local Ray for the run]."
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
        "--system-prompt",
        help="A system message for the question and answer steps, instead of the prompt files' own.",
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
        help="Reject a rephrasing this similar (0-100) to its seed problem [default: 95].",
    ),
    click.option(
        "--duplicate-threshold",
        type=float,
        help="Reject a rephrasing this similar (0-100) to an earlier one of the same seed [default: 90].",
    ),
    click.option(
        "--answer-copy-threshold",
        type=float,
        help="Reject an answer this similar (0-100) to the original solution [default: 95].",
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
        help="Reject rephrasings that drop a number of the original or write a new one [default: on].",
    ),
    click.option(
        "--check-math/--no-check-math",
        default=None,
        help="Reject rephrasings that lose a formula of the original, compared as math [default: on].",
    ),
)

# beyond rephrasing (docs/recipe.md#beyond-rephrasing): kinds of data, sampling rounds, voted gold answers
augment_options = _compose(
    click.option(
        "--augment",
        multiple=True,
        help="Kinds of data, comma-separated or repeated: rephrase (reworded questions), ansaug (new "
        "answers to the original question), fobar and sv (backward questions over a masked number) "
        "[default: rephrase].",
    ),
    click.option(
        "--backward-questions",
        type=int,
        help="FOBAR and SV questions per seed, each masking another number [default: 1].",
    ),
    click.option(
        "--min-correct",
        type=int,
        help="Sample answers per question in rounds of --answer-samples until this many are verified "
        "(or --max-tries): hard seeds get more tries [default: off, one round].",
    ),
    click.option(
        "--max-tries",
        type=int,
        help="With --min-correct: answers sampled per question at most [default: 16].",
    ),
    click.option(
        "--gold",
        type=click.Choice(["seed", "majority"]),
        help="seed: the gold answer is in each seed's solution; majority: a seed without one gets the "
        "answer most of --samples solutions reach [default: seed].",
    ),
    click.option(
        "--samples", "gold_samples", type=int, help="With --gold majority: solutions per seed [default: 8]."
    ),
    click.option(
        "--min-agreement",
        type=float,
        help="With --gold majority: the share of the solutions that must agree [default: 0.5].",
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
    click.option(
        "--out", help="Output folder: a local path, or a URI such as s3://bucket/run (any fsspec filesystem)."
    ),
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
    for key in ("base_url", "vllm_args", "serve_args", "benchmarks", "contamination_thresholds", "augment"):
        if options.get(key) == ():
            options[key] = None
    for step in ("question", "answer"):  # --question-temperature ... -> question_sampling: {temperature: ...}
        own = {k: options.pop(f"{step}_{k}", None) for k in ("temperature", "top_p", "max_tokens")}
        if any(v is not None for v in own.values()):
            options[f"{step}_sampling"] = {k: v for k, v in own.items() if v is not None}
    return BuildConfig.load(config_file, **options)
