"""Seed problems from the Hub, the original MATH directory layout, local files or a ``datasets`` object.

Everything streams: rows are read one at a time and filtered on the way, so a million-row source costs
no more memory than a small one (``sample`` holds only the N sampled seeds).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .answers import extract_boxed, extract_gsm8k_answer
from .errors import SeedError
from .records import Reject, SeedProblem

__all__ = ["load_seeds", "shard_of", "subject_slug"]

log = logging.getLogger(__name__)

SeedSource = Any  # str | Path | datasets.Dataset | datasets.IterableDataset | Iterable[Mapping]

_PROBLEM_KEYS = ("problem", "question", "Problem", "Question")
_SOLUTION_KEYS = ("solution", "Solution", "answer", "Answer")
_ID_KEYS = ("id", "unique_id", "ID", "idx")
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def subject_slug(subject: str) -> str:
    """``"Counting & Probability"`` -> ``"counting_and_probability"`` (the MATH directory names)."""
    s = subject.strip().lower().replace("&", "and")
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def _level(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    m = re.search(r"\d+", str(value))
    return int(m.group(0)) if m else None


def _first(row: Mapping[str, Any], keys: Sequence[str]) -> tuple[str | None, Any]:
    for k in keys:
        v = row.get(k)
        if v is not None and str(v).strip() != "":
            return k, v
    return None, None


def _content_id(problem: str, solution: str) -> str:
    digest = hashlib.sha256(f"{problem}\x00{solution}".encode()).hexdigest()
    return f"sha256/{digest[:16]}"


def row_to_seed(
    row: Mapping[str, Any], where: str, *, source: str, default_id: str | None = None
) -> SeedProblem | Reject:
    """One source row as a seed, or a seed-stage reject when it has no final answer.

    Raises SeedError (naming ``where``) when the row has no problem text or no solution at all.
    """
    if not isinstance(row, Mapping):
        raise SeedError(f"{where}: expected a JSON object per seed, got {type(row).__name__}")
    pkey, problem = _first(row, _PROBLEM_KEYS)
    if pkey is None:
        raise SeedError(
            f"{where}: seed has no problem text - give each row a 'problem' (or 'question') field"
        )
    skey, solution = _first(row, _SOLUTION_KEYS)
    if skey is None:
        raise SeedError(
            f"{where}: seed has no solution - synthmath needs each seed's original solution "
            "in a 'solution' (or GSM8K-style 'answer') field; add it or remove the row"
        )
    problem, solution = str(problem), str(solution)
    _, rid = _first(row, _ID_KEYS)
    if rid is not None:
        seed_id = re.sub(r"\.json$", "", str(rid))
    else:
        seed_id = default_id or _content_id(problem, solution)

    boxed = extract_boxed(solution)
    gold = boxed or extract_gsm8k_answer(solution)
    if gold is None:
        for k in ("answer", "final_answer"):
            if k != skey and row.get(k) not in (None, ""):
                v = row[k]
                gold = str(v[0] if isinstance(v, list) and v else v).strip().strip("$") or None
                break
    if gold is None:
        return Reject(
            seed_id=seed_id,
            stage="seed",
            reason="no_answer",
            detail=f"{where}: "
            + ("the final \\boxed{} is empty" if boxed == "" else "no \\boxed{} answer or '#### N' line")
            + " in the solution",
            text=solution,
        )
    _, subject = _first(row, ("subject", "type", "category"))
    return SeedProblem(
        id=seed_id,
        problem=problem,
        solution=solution,
        gold_answer=gold,
        subject=subject_slug(str(subject)) if subject is not None else None,
        level=_level(row.get("level")),
        source=source,
    )


# --- readers: each yields (row, where, default_id) ------------------------------------------------

Row = tuple[Mapping[str, Any], str, str | None]


def _read_jsonl(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise SeedError(f"{path}:{lineno}: not valid JSON ({e.msg}) - fix or remove the line") from e
            yield row, f"{path}:{lineno}", None


def _read_json(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as f:
        head = f.read(1)
        while head and head.isspace():
            head = f.read(1)
    if head != "[":  # a .json file holding JSON lines
        yield from _read_jsonl(path)
        return
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SeedError(f"{path}:{e.lineno}: not valid JSON ({e.msg}) - fix the file") from e
    for i, row in enumerate(rows):
        yield row, f"{path}: item {i}", None


def _read_parquet(path: Path) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as e:
        raise SeedError(f"{path}: not a readable parquet file ({e}) - check the file") from e
    i = 0
    for batch in pf.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            yield row, f"{path}: row {i}", None
            i += 1


def read_rows(path: Path) -> Iterator[tuple[Mapping[str, Any], str]]:
    """The rows of a .jsonl, .json (array or lines) or .parquet file, each with its ``file:line`` place."""
    if not path.is_file():
        raise SeedError(f"{path}: no such file - check the path")
    readers = {".parquet": _read_parquet, ".json": _read_json, ".jsonl": _read_jsonl, ".ndjson": _read_jsonl}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise SeedError(f"{path}: unknown file type {path.suffix!r} - use .jsonl, .json or .parquet")
    for row, where, _ in reader(path):
        yield row, where


def _math_dir_split(root: Path, split: str) -> Path | None:
    """The split folder of a MATH-layout directory (``root/split/<subject>/<n>.json``), if it is one."""
    for cand in (root / split, root):
        if cand.is_dir() and any(cand.glob("*/*.json")):
            return cand
    return None


def _read_math_dir(split_dir: Path) -> Iterator[Row]:
    split = split_dir.name
    for subject_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        files = sorted(subject_dir.glob("*.json"), key=lambda p: (len(p.stem), p.stem))
        for f in files:
            try:
                row = json.loads(f.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise SeedError(f"{f}:{e.lineno}: not valid JSON ({e.msg}) - fix the file") from e
            row.setdefault("subject", subject_dir.name)
            yield row, str(f), f"{split}/{subject_dir.name}/{f.stem}"


def _read_dataset(ds: Any, name: str) -> Iterator[Row]:
    for i, row in enumerate(ds):
        yield row, f"{name}: row {i}", None


def _read_hub(repo: str, split: str, subjects: Sequence[str] | None) -> Iterator[Row]:
    try:
        import datasets

        configs = datasets.get_dataset_config_names(repo)
    except Exception as e:
        raise SeedError(
            f"cannot open {repo!r} on the Hugging Face Hub ({type(e).__name__}: {e}) - "
            "check the dataset id and your network, or pass a local file or MATH directory"
        ) from e
    if subjects and len(configs) > 1:
        wanted = {subject_slug(s) for s in subjects}
        configs = [c for c in configs if subject_slug(c) in wanted] or configs
    for config in configs:
        try:
            ds = datasets.load_dataset(repo, config, split=split, streaming=True)
        except Exception as e:
            raise SeedError(
                f"cannot load {repo!r} (config {config!r}, split {split!r}) from the Hub "
                f"({type(e).__name__}: {e}) - check --split and the dataset id"
            ) from e
        for i, row in enumerate(ds):
            row = dict(row)
            if len(configs) > 1:
                row.setdefault("subject", config)
            yield row, f"{repo}[{config}/{split}]: row {i}", None


def _rows(source: SeedSource, split: str, subjects: Sequence[str] | None) -> tuple[Iterator[Row], str]:
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if path.is_dir():
            split_dir = _math_dir_split(path, split)
            if split_dir is None:
                raise SeedError(
                    f"{path}: not a MATH-layout directory (expected {split}/<subject>/<n>.json) - "
                    "pass the MATH root folder, a .jsonl/.json/.parquet file or a Hub dataset id"
                )
            return _read_math_dir(split_dir), str(path)
        if path.is_file():
            suffix = path.suffix.lower()
            if suffix == ".parquet":
                return _read_parquet(path), str(path)
            if suffix == ".json":
                return _read_json(path), str(path)
            if suffix in (".jsonl", ".ndjson"):
                return _read_jsonl(path), str(path)
            raise SeedError(f"{path}: unknown seed file type {suffix!r} - use .jsonl, .json or .parquet")
        text = str(source)
        if _HUB_ID.match(text) and not re.search(r"\.(jsonl?|parquet|ndjson)$", text):
            return _read_hub(text, split, subjects), f"hf://{text}"
        raise SeedError(f"{source}: no such file or directory - check the path given to --seeds")
    if isinstance(source, Iterable):
        name = type(source).__name__
        if isinstance(source, Mapping) and split in source:  # a datasets.DatasetDict: pick the split
            source = source[split]
        return _read_dataset(source, name), name
    raise SeedError(f"cannot read seeds from a {type(source).__name__} - pass a path, a Hub id or a Dataset")


def seed_revision(source: SeedSource, split: str = "train") -> str | None:
    """Which version of the seeds a run read, for provenance: the Hub dataset's commit sha (None when
    the Hub cannot say), or the sha256 of a local file, or of a MATH-layout split's files (paths and
    contents)."""
    if not isinstance(source, (str, Path)):
        fingerprint = getattr(source, "_fingerprint", None)  # a datasets.Dataset's content fingerprint
        return f"fingerprint:{fingerprint}" if fingerprint else None
    path = Path(source).expanduser()
    digest = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return f"sha256:{digest.hexdigest()[:16]}"
    if path.is_dir():
        split_dir = _math_dir_split(path, split) or path
        for file in sorted(split_dir.rglob("*.json")):
            digest.update(str(file.relative_to(split_dir)).encode() + b"\0" + file.read_bytes())
        return f"sha256:{digest.hexdigest()[:16]}"
    try:
        from huggingface_hub import HfApi

        return f"hub:{HfApi().dataset_info(str(source), timeout=10).sha}"
    except Exception as e:  # offline, or not a Hub id: the run goes on without it
        log.debug("no Hub revision for %s: %s", source, e)
        return None


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
    """Stream seed problems from ``source``.

    ``source`` is a Hub dataset id (all configs are read), a MATH-layout directory, a .jsonl, .json or
    .parquet file, or a ``datasets.Dataset``. Seeds whose solution has no final answer are skipped and
    passed to ``on_skip`` as seed-stage rejects. ``subjects``/``levels`` filter, ``sample`` draws N
    seeds uniformly with ``seed`` (kept in source order), and ``limit`` stops after that many seeds.
    ``shard=(i, n)`` keeps this machine's share of what is left, by a hash of the seed id, so that n
    machines each running one shard together cover every seed exactly once.
    """
    if limit is not None and limit < 0:
        raise SeedError("--limit must be zero or more")
    rows, name = _rows(source, split, subjects)
    if split != "train" and (name.startswith("hf://") or Path(name).is_dir()):
        log.warning("seeding from the %r split: data made from it contaminates benchmarks built on it", split)
    wanted_subjects = {subject_slug(s) for s in subjects} if subjects else None
    wanted_levels = set(levels) if levels else None

    def matching() -> Iterator[SeedProblem]:
        warned = False
        for row, where, default_id in rows:
            item = row_to_seed(row, where, source=name, default_id=default_id)
            if isinstance(item, Reject):
                # each shard reports only its own skipped seeds, so merged shards count each once
                if on_skip is not None and (shard is None or shard_of(item.seed_id, shard[1]) == shard[0]):
                    on_skip(item)
                continue
            if wanted_subjects is not None and item.subject not in wanted_subjects:
                continue
            if wanted_levels is not None and item.level not in wanted_levels:
                continue
            if not warned and item.id.startswith("test/"):
                warned = True
                log.warning(
                    "seed %s comes from a test split: data made from it contaminates that benchmark", item.id
                )
            yield item

    stream = matching()
    if sample is not None:
        stream = _reservoir(stream, sample, seed)
    for n, item in enumerate(stream):
        if limit is not None and n >= limit:
            return
        if shard is None or shard_of(item.id, shard[1]) == shard[0]:
            yield item


def shard_of(seed_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) a seed belongs to: a stable hash of its id."""
    return int.from_bytes(hashlib.sha256(seed_id.encode()).digest()[:8], "big") % shards


def _reservoir(stream: Iterator[SeedProblem], k: int, seed: int) -> Iterator[SeedProblem]:
    rng = random.Random(seed)
    chosen: list[tuple[int, SeedProblem]] = []
    for i, item in enumerate(stream):
        if i < k:
            chosen.append((i, item))
        else:
            j = rng.randint(0, i)
            if j < k:
                chosen[j] = (i, item)
    for _, item in sorted(chosen, key=lambda t: t[0]):
        yield item
