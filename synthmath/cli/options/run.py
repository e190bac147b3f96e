"""The run flags (output, config file, progress) and how the flags become one BuildConfig."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .grouped import _compose, _option

if TYPE_CHECKING:
    from ...config import BuildConfig

__all__ = ["_config", "run_options"]

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
    from ...config import BuildConfig  # pydantic, the seeds and the checks: not needed for --help

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
