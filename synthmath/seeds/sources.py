"""Where seed rows come from: local files (.jsonl, .json, .parquet), a MATH-layout directory, a Hub
dataset, or a ``datasets`` object. Each reader yields ``(row, where, default_id)`` one row at a time,
``where`` being the ``file:line`` place that error messages and rejects name.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import HubUnreachableError, NoSeedsError, SeedError, opt
from ..hub_access import hub_offline_reason, offline_mode
from ..textio import iter_lines, read_text
from .fields import subject_slug

__all__ = ["Row", "SeedSource", "open_source", "read_rows", "seed_revision"]

log = logging.getLogger(__name__)

SeedSource = Any  # str | Path | datasets.Dataset | datasets.IterableDataset | Iterable[Mapping]
Row = tuple[Mapping[str, Any], str, str | None]

_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_LOCAL_HINT = "pass a local seeds path instead: a .jsonl/.json/.parquet file or a MATH directory"


def _read_jsonl(path: Path) -> Iterator[Row]:
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise SeedError(f"{path}:{lineno}: not valid JSON ({e.msg}) - fix or remove the line") from e
        yield row, f"{path}:{lineno}", None


def _read_json(path: Path) -> Iterator[Row]:
    with path.open("rb") as f:  # bytes: a read of 4096 may end inside a character
        head = f.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()[:1]
    if head != b"[":  # a .json file holding JSON lines
        yield from _read_jsonl(path)
        return
    try:
        rows = json.loads(read_text(path))
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


_READERS = {".parquet": _read_parquet, ".json": _read_json, ".jsonl": _read_jsonl, ".ndjson": _read_jsonl}


def read_rows(path: Path) -> Iterator[tuple[Mapping[str, Any], str]]:
    """The rows of a .jsonl, .json (array or lines) or .parquet file, each with its ``file:line`` place.

    Text files must be UTF-8 (a BOM is fine); anything else raises :class:`TextEncodingError`."""
    if not path.is_file():
        raise SeedError(f"{path}: no such file - check the path")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise SeedError(f"{path}: unknown file type {path.suffix!r} - use .jsonl, .json or .parquet")
    for row, where, _ in reader(path):
        yield row, where


def math_dir_split(root: Path, split: str) -> Path | None:
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
                row = json.loads(read_text(f))
            except json.JSONDecodeError as e:
                raise SeedError(f"{f}:{e.lineno}: not valid JSON ({e.msg}) - fix the file") from e
            if isinstance(row, dict):
                row.setdefault("subject", subject_dir.name)
            yield row, str(f), f"{split}/{subject_dir.name}/{f.stem}"


def _read_dataset(ds: Any, name: str) -> Iterator[Row]:
    for i, row in enumerate(ds):
        yield row, f"{name}: row {i}", None


def _in_local_cache(repo: str) -> bool:
    """Whether the Hub or ``datasets`` cache holds anything of ``repo`` (without importing datasets)."""
    home = Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface").expanduser()
    hub = Path(os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE") or home / "hub")
    data = Path(os.environ.get("HF_DATASETS_CACHE") or home / "datasets")
    owner, name = repo.split("/", 1)
    candidates = [
        hub / f"datasets--{owner}--{name}",
        data / f"{owner}___{name}",
        data / f"{owner}___{name}".lower(),
    ]
    return any(p.expanduser().exists() for p in candidates)


def _hub_check(repo: str) -> None:
    """Fail in a second or two, not after half a minute of retries, when the Hub cannot be reached.

    In offline mode (``HF_HUB_OFFLINE=1``) ``datasets`` may still find the dataset in its cache, so it
    is asked only when the cache holds something of the dataset."""
    if offline_mode() is not None:
        if not _in_local_cache(repo):
            raise HubUnreachableError(
                f"cannot read seeds {repo!r}: offline mode is on ({offline_mode()}) and the dataset is not "
                f"in the local cache - {_LOCAL_HINT}"
            )
        return
    reason = hub_offline_reason()
    if reason is not None:
        raise HubUnreachableError(
            f"cannot read seeds {repo!r}: the Hugging Face Hub is unreachable ({reason}) - {_LOCAL_HINT}, "
            "or set HF_HUB_OFFLINE=1 to use a cached copy"
        )


def _hub_failure(repo: str, e: Exception, what: str) -> Exception:
    if "OfflineMode" in f"{type(e).__name__} {e}":
        return HubUnreachableError(
            f"cannot read seeds {repo!r}: offline mode is on (HF_HUB_OFFLINE=1) and the dataset is not in "
            f"the local cache - {_LOCAL_HINT}"
        )
    return SeedError(f"cannot {what} ({type(e).__name__}: {' '.join(str(e).split())[:200]})")


def _read_hub(repo: str, split: str, subjects: Sequence[str] | None) -> Iterator[Row]:
    _hub_check(repo)
    try:
        import datasets

        configs = datasets.get_dataset_config_names(repo)
    except Exception as e:
        raise _hub_failure(
            repo, e, f"open {repo!r} on the Hugging Face Hub - check the dataset id, or {_LOCAL_HINT}"
        ) from e
    if subjects and len(configs) > 1:
        wanted = {subject_slug(s) for s in subjects}
        chosen = [c for c in configs if subject_slug(c) in wanted]
        if not chosen:
            raise NoSeedsError(
                f"no seeds: {opt('subjects', list(subjects))} matched none of "
                f"{', '.join(sorted(subject_slug(c) for c in configs))} (the subjects of {repo})",
                filter_field="subjects",
            )
        configs = chosen
    for config in configs:
        try:
            ds = datasets.load_dataset(repo, config, split=split, streaming=True)
        except Exception as e:
            raise _hub_failure(
                repo, e, f"load {repo!r} (config {config!r}, {opt('split', split)}) from the Hub"
            ) from e
        for i, row in enumerate(ds):
            row = dict(row)
            if len(configs) > 1:
                row.setdefault("subject", config)
            yield row, f"{repo}[{config}/{split}]: row {i}", None


def _looks_local(text: str) -> bool:
    """``data/seeds``: a Hub id in shape, but its first part is a folder here, so a missing local path."""
    first = text.split("/", 1)[0]
    return first in (".", "..") or Path(first).expanduser().is_dir()


def open_source(source: SeedSource, split: str, subjects: Sequence[str] | None) -> tuple[Iterator[Row], str]:
    """The rows of ``source`` and the name records give it (a path, ``hf://ID`` or a class name).

    Local prerequisites are checked here, before any Hub call: a path that does not exist is an error
    at once, never a Hub lookup."""
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if path.is_dir():
            split_dir = math_dir_split(path, split)
            if split_dir is None:
                raise SeedError(
                    f"{path}: not a MATH-layout directory (expected {split}/<subject>/<n>.json) - "
                    "pass the MATH root folder, a .jsonl/.json/.parquet file or a Hub dataset id"
                )
            return _read_math_dir(split_dir), str(path)
        if path.is_file():
            reader = _READERS.get(path.suffix.lower())
            if reader is None:
                raise SeedError(
                    f"{path}: unknown seed file type {path.suffix.lower()!r} - use .jsonl, .json or .parquet"
                )
            return reader(path), str(path)
        text = str(source)
        hub_like = _HUB_ID.match(text) and not re.search(r"\.(jsonl?|parquet|ndjson)$", text)
        if hub_like and not _looks_local(text):
            return _read_hub(text, split, subjects), f"hf://{text}"
        raise SeedError(f"{source}: no such file or directory - check the path given to {opt('seeds')}")
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
        split_dir = math_dir_split(path, split) or path
        for file in sorted(split_dir.rglob("*.json")):
            digest.update(str(file.relative_to(split_dir)).encode() + b"\0" + file.read_bytes())
        return f"sha256:{digest.hexdigest()[:16]}"
    reason = hub_offline_reason()
    if reason is not None:  # no 10 s wait for an answer that cannot come
        log.debug("no Hub revision for %s: %s", source, reason)
        return None
    try:
        from huggingface_hub import HfApi

        return f"hub:{HfApi().dataset_info(str(source), timeout=10).sha}"
    except Exception as e:  # not a Hub id, or the Hub failed: the run goes on without it
        log.debug("no Hub revision for %s: %s", source, e)
        return None
