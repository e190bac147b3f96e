"""The seed flags: where the seed problems come from and which of them a build takes."""

from __future__ import annotations

from .grouped import _compose, _option

__all__ = ["seed_options"]

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
