"""The step flags: rephrasings, answers, and the checks on questions and answers."""

from __future__ import annotations

from pathlib import Path

import click

from .grouped import _compose, _option

__all__ = ["step_options"]

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
