"""Choosing seeds: filters (subjects, levels), sampling, a limit and sharding, on a stream of rows.

:func:`iter_seed_stream` yields seeds and seed-stage rejects in source order; :func:`load_seeds` is the
older interface that yields only the seeds and hands rejects to a callback. Both raise
:class:`NoSeedsError` when the stream ends with no seed at all, naming the filter that emptied it.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NoSeedsError, SeedError, opt
from ..records import Reject, SeedProblem
from .fields import row_level, row_subject, row_to_seed, subject_slug
from .sources import SeedSource, open_source

__all__ = ["duplicate_id", "iter_seed_stream", "load_seeds", "shard_of", "start_seed_stream"]

log = logging.getLogger("synthmath.seeds")

_SHOWN = 40  # existing values listed in a "matched none of" message


def shard_of(seed_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) a seed belongs to: a stable hash of its id."""
    return int.from_bytes(hashlib.sha256(seed_id.encode()).digest()[:8], "big") % shards


@dataclass
class _Tally:
    """What the stream saw, to say which filter emptied the selection."""

    rows: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    subjects: Counter[str] = field(default_factory=Counter)  # of the valid seeds
    levels: Counter[int] = field(default_factory=Counter)  # of the valid seeds that passed `subjects`
    after_filters: int = 0
    after_limit: int = 0
    selected: int = 0


def _listing(values: Sequence[object]) -> str:
    shown = ", ".join(str(v) for v in values[:_SHOWN])
    return shown + (f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else "") if values else "none"


def _no_seeds(
    name: str,
    tally: _Tally,
    subjects: Sequence[str] | None,
    levels: Sequence[int] | None,
    limit: int | None,
    sample: int | None,
    shard: tuple[int, int] | None,
) -> NoSeedsError:
    if tally.rows == 0:
        return NoSeedsError(f"no seeds: {name} holds no rows - check {opt('seeds')}", filter_field="seeds")
    valid = tally.rows - sum(tally.rejected.values())
    if valid <= 0:
        reasons = ", ".join(f"{r} {n}" for r, n in tally.rejected.most_common())
        return NoSeedsError(
            f"no seeds: all {tally.rows} rows of {name} were rejected ({reasons}) - fix the seed file",
            filter_field="seeds",
        )
    if subjects and not any(subject_slug(s) in tally.subjects for s in subjects):
        return NoSeedsError(
            f"no seeds: {opt('subjects', list(subjects))} matched none of "
            f"{_listing(sorted(tally.subjects))} (the subjects in {name})",
            filter_field="subjects",
        )
    if levels and tally.after_filters == 0:
        within = f" of the {opt('subjects', list(subjects))} seeds" if subjects else ""
        return NoSeedsError(
            f"no seeds: {opt('levels', list(levels))} matched none of the levels{within} in {name}: "
            f"{_listing([v if v >= 0 else '(none)' for v in sorted(tally.levels)])}",
            filter_field="levels",
        )
    if limit == 0:
        return NoSeedsError(
            f"no seeds: {opt('limit', 0)} selects none - give a positive limit", filter_field="limit"
        )
    if sample == 0:
        return NoSeedsError(f"no seeds: {opt('sample', 0)} selects none", filter_field="sample")
    if shard is not None:
        return NoSeedsError(
            f"no seeds: {opt('shard', f'{shard[0]}/{shard[1]}')} holds none of the {tally.after_limit} "
            "selected seeds - use fewer shards",
            filter_field="shard",
        )
    return NoSeedsError(f"no seeds selected from {name}", filter_field=None)


def iter_seed_stream(
    source: SeedSource,
    *,
    split: str = "train",
    subjects: Sequence[str] | None = None,
    levels: Sequence[int] | None = None,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    shard: tuple[int, int] | None = None,
    positions: tuple[int, int] | None = None,
    need_gold: bool = True,
) -> Iterator[SeedProblem | Reject]:
    """Stream the seeds of ``source``, and the seed-stage rejects, in source order.

    ``source`` is a Hub dataset id (all configs are read), a MATH-layout directory, a .jsonl, .json or
    .parquet file, or a ``datasets.Dataset``. A row whose problem or solution is not a string is a
    ``bad_field_type`` reject; a solution without a final answer is a ``no_answer`` reject.
    ``subjects``/``levels`` filter (rejects too, where the row says its subject and level), ``sample``
    draws N seeds uniformly with ``seed`` (kept in source order), ``limit`` stops after that many seeds.
    ``shard=(i, n)`` keeps this machine's share of what is left, by a hash of the seed id, so that n
    machines each running one shard together cover every seed exactly once; each shard yields only its
    own rejects, so merged shards count each once. A seed id seen earlier in the stream becomes a
    ``duplicate_id`` reject. ``positions=(start, stop)`` keeps the items (seeds and rejects) at those
    positions of the stream so far: the slice of one shard task, which read in task order gives the
    whole stream back. ``need_gold=False`` keeps rows without a gold answer (their gold is voted during
    the build; see :func:`~synthmath.seeds.fields.row_to_seed`).

    Raises :class:`NoSeedsError` when the stream ends without a single seed, naming the filter that
    emptied the selection and the values that exist.
    """
    if limit is not None and limit < 0:
        raise SeedError(f"{opt('limit')} must be zero or more")
    if sample is not None and sample < 0:
        raise SeedError(f"{opt('sample')} must be zero or more")
    rows, name = open_source(source, split, subjects)
    if split != "train" and (name.startswith("hf://") or Path(name).is_dir()):
        log.warning("seeding from the %r split: data made from it contaminates benchmarks built on it", split)
    wanted_subjects = {subject_slug(s) for s in subjects} if subjects else None
    wanted_levels = set(levels) if levels else None
    tally = _Tally()

    def mine(seed_id: str) -> bool:
        return shard is None or shard_of(seed_id, shard[1]) == shard[0]

    def matching() -> Iterator[SeedProblem | Reject]:
        warned = False
        for row, where, default_id in rows:
            tally.rows += 1
            item = row_to_seed(row, where, source=name, default_id=default_id, need_gold=need_gold)
            if isinstance(item, Reject):
                tally.rejected[item.reason] += 1
                subject, level = row_subject(row), row_level(row)
                if wanted_subjects is not None and subject is not None and subject not in wanted_subjects:
                    continue
                if wanted_levels is not None and level is not None and level not in wanted_levels:
                    continue
                if mine(item.seed_id):
                    yield item
                continue
            tally.subjects[item.subject or "-"] += 1
            if wanted_subjects is not None and item.subject not in wanted_subjects:
                continue
            tally.levels[item.level if item.level is not None else -1] += 1
            if wanted_levels is not None and item.level not in wanted_levels:
                continue
            tally.after_filters += 1
            if not warned and item.id.startswith("test/"):
                warned = True
                log.warning(
                    "seed %s comes from a test split: data made from it contaminates that benchmark", item.id
                )
            yield item

    stream = matching()
    if sample is not None:
        stream = _reservoir(stream, sample, seed)

    def selected() -> Iterator[SeedProblem | Reject]:
        seen: set[bytes] = set()
        for item in stream:
            if isinstance(item, Reject):
                yield item
                continue
            if limit is not None and tally.after_limit >= limit:
                break
            tally.after_limit += 1
            if mine(item.id):
                digest = hashlib.sha256(item.id.encode()).digest()[:12]
                if digest in seen:
                    yield duplicate_id(item)
                    continue
                seen.add(digest)
                tally.selected += 1
                yield item

    if positions is not None:  # one task's slice: the planner saw the whole selection has seeds
        yield from itertools.islice(selected(), positions[0], positions[1])
        return
    yield from selected()
    if tally.selected == 0:
        raise _no_seeds(name, tally, subjects, levels, limit, sample, shard)


def duplicate_id(seed: SeedProblem) -> Reject:
    """The reject of a seed whose id appeared earlier in its stream (its records would repeat ids)."""
    return Reject(
        seed_id=seed.id,
        stage="seed",
        reason="duplicate_id",
        detail=f"seed id {seed.id} appeared earlier in {seed.source or 'the seeds'}",
        text=seed.problem,
    )


def start_seed_stream(source: SeedSource, **options: Any) -> Iterator[SeedProblem | Reject]:
    """:func:`iter_seed_stream`, read up to its first seed now.

    Every failure of the source (a missing path, the Hub offline, a file that is not UTF-8, a filter that
    matches nothing before the first seed) is raised by this call, so a run can check its seeds before
    it starts a server or truncates earlier output. The returned iterator yields everything, the items
    read ahead included, and stays lazy after them.
    """
    stream = iter_seed_stream(source, **options)
    ahead: list[SeedProblem | Reject] = []
    for item in stream:
        ahead.append(item)
        if isinstance(item, SeedProblem):
            break
    return itertools.chain(ahead, stream)


def load_seeds(
    source: SeedSource,
    *,
    split: str = "train",
    subjects: Sequence[str] | None = None,
    levels: Sequence[int] | None = None,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    shard: tuple[int, int] | None = None,
    on_skip: Callable[[Reject], None] | None = None,
) -> Iterator[SeedProblem]:
    """Stream seed problems from ``source``; seed-stage rejects go to ``on_skip``.

    The same stream as :func:`iter_seed_stream` (same arguments, same :class:`NoSeedsError`), with the
    rejects handed to the callback instead of yielded.
    """
    for item in iter_seed_stream(
        source,
        split=split,
        subjects=subjects,
        levels=levels,
        limit=limit,
        sample=sample,
        seed=seed,
        shard=shard,
    ):
        if isinstance(item, Reject):
            if on_skip is not None:
                on_skip(item)
        else:
            yield item


def _reservoir(stream: Iterator[SeedProblem | Reject], k: int, seed: int) -> Iterator[SeedProblem | Reject]:
    """Rejects pass straight through; k of the seeds are drawn uniformly and yielded in source order."""
    rng = random.Random(seed)
    chosen: list[tuple[int, SeedProblem]] = []
    i = 0
    for item in stream:
        if isinstance(item, Reject):
            yield item
            continue
        if i < k:
            chosen.append((i, item))
        else:
            j = rng.randint(0, i)
            if j < k:
                chosen[j] = (i, item)
        i += 1
    for _, chosen_item in sorted(chosen, key=lambda t: t[0]):
        yield chosen_item
