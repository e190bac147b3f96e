"""The flags beyond rephrasing (docs/recipe.md#beyond-rephrasing): kinds of data, sampling rounds,
voted gold answers."""

from __future__ import annotations

import click

from .grouped import _compose, _option

__all__ = ["augment_options"]

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
