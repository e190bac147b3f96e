"""The contamination gate's flags (docs/contamination.md)."""

from __future__ import annotations

import click

from .grouped import _compose, _option

__all__ = ["contamination_options"]

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
        help="Also ask the model about the top candidates, and to confirm each same-problem match.",
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
