"""Seed problems from the Hub, the original MATH directory layout, local files or a ``datasets`` object.

Everything streams: rows are read one at a time and filtered on the way, so a million-row source costs
no more memory than a small one (``sample`` holds only the N sampled seeds).

- :mod:`.sources`: where rows come from (files, MATH directories, the Hub, datasets objects);
- :mod:`.fields`: one row as a :class:`~synthmath.records.SeedProblem`, or a seed-stage reject;
- :mod:`.select`: filters, sampling, limit and shards, and the error for an empty selection.
"""

from __future__ import annotations

from .fields import row_to_seed, subject_slug
from .select import iter_seed_stream, load_seeds, shard_of, start_seed_stream
from .sources import SeedSource, read_rows, seed_revision

__all__ = [
    "SeedSource",
    "iter_seed_stream",
    "load_seeds",
    "read_rows",
    "row_to_seed",
    "seed_revision",
    "shard_of",
    "start_seed_stream",
    "subject_slug",
]
