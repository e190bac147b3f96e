"""Pushing a build directory to the Hugging Face Hub as a dataset repository.

Everything is first staged in ``DIR/_hub`` (card, plots, parquet shards); ``--dry-run`` stops there.
The upload is one commit that adds the new files and deletes this kind's old shards and plots, so
pushing again after a crash or a change replaces files and never duplicates them. Failed commits
(HTTP 429/5xx, dropped connections) are retried with backoff.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError, OutputError, SynthmathError
from .card import render_card
from .plots import make_plots

__all__ = ["HubError", "push_to_hub", "stage"]

log = logging.getLogger(__name__)

ROWS_PER_SHARD = 100_000


class HubError(SynthmathError):
    """The Hub refused or kept failing an upload."""


def _summary(build_dir: Path) -> dict[str, Any]:
    path = build_dir / "summary.json"
    if not path.is_file():
        raise ConfigError(
            f"{build_dir}: no summary.json, so there is no finished build here - run build-instruct or "
            "build-dpo with --out to this directory first"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write_shards(records: Path, kind: str, dest: Path) -> list[str]:
    import datasets

    ds = datasets.Dataset.from_json(str(records)) if records.stat().st_size else None
    n_rows = len(ds) if ds is not None else 0
    shards = max(1, math.ceil(n_rows / ROWS_PER_SHARD))
    names = []
    for i in range(shards):
        name = f"{kind}-{i:05d}-of-{shards:05d}.parquet"
        if ds is None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({}), dest / name)
        else:
            ds.shard(shards, i, contiguous=True).to_parquet(str(dest / name))
        names.append(name)
    return names


def stage(
    build_dir: Path, repo_id: str, *, license: str = "mit", other_configs: list[str] | None = None
) -> Path:
    """Write exactly what would be uploaded to ``build_dir/_hub``; returns that folder."""
    summary = _summary(build_dir)
    kind = summary["kind"]
    hub = build_dir / "_hub"
    if hub.exists():
        shutil.rmtree(hub)
    try:
        (hub / "data").mkdir(parents=True)
    except OSError as e:
        raise OutputError(
            f"cannot write {hub} ({e.strerror}) - check the build directory's permissions"
        ) from e
    _write_shards(build_dir / summary["files"]["records"], kind, hub / "data")
    plots = make_plots(build_dir, summary, hub / "plots")
    contamination = None
    report = build_dir / "contamination_report.md"
    if report.is_file():
        contamination = {"markdown": report.read_text(encoding="utf-8")}
    card = render_card(
        summary,
        repo_id=repo_id,
        configs=[kind, *(other_configs or [])],
        data_files={kind: f"data/{kind}-*.parquet"},
        plots=plots,
        license=license,
        contamination=contamination,
    )
    (hub / "README.md").write_text(card, encoding="utf-8")
    return hub


def _retryable(e: Exception) -> bool:
    status = getattr(getattr(e, "response", None), "status_code", None)
    if isinstance(status, int):
        return status == 429 or status >= 500
    name = type(e).__name__.lower()
    return isinstance(e, (ConnectionError, TimeoutError)) or "connect" in name or "timeout" in name


def push_to_hub(
    build_dir: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    dry_run: bool = False,
    license: str = "mit",
    token: str | None = None,
    api: Any = None,
    max_retries: int = 5,
    backoff: float = 2.0,
) -> Path:
    """Push a finished build to the Hub dataset repository ``repo_id``; returns the staged folder.

    With ``dry_run`` nothing is uploaded: ``build_dir/_hub`` holds the card, plots and shards.
    """
    build_dir = Path(build_dir)
    if "/" not in repo_id:
        raise ConfigError(f"repo id {repo_id!r} needs a namespace: pass --repo-id USER_OR_ORG/NAME")
    if dry_run:
        return stage(build_dir, repo_id, license=license)

    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token

    token = token or get_token()
    if api is None and not token:
        raise ConfigError("no Hugging Face token - set HF_TOKEN or run `hf auth login` (or use --dry-run)")
    api = api or HfApi(token=token)
    kind = _summary(build_dir)["kind"]
    _call(
        lambda: api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True),
        max_retries,
        backoff,
        "create the repository",
    )
    existing = _call(
        lambda: list(api.list_repo_files(repo_id, repo_type="dataset")),
        max_retries,
        backoff,
        "list the repository",
    )
    other = sorted(
        {f.split("/")[1].split("-")[0] for f in existing if f.startswith("data/") and f.endswith(".parquet")}
        - {kind}
    )
    hub = stage(build_dir, repo_id, license=license, other_configs=other)
    new = sorted(str(p.relative_to(hub)) for p in hub.rglob("*") if p.is_file())
    ops: list[Any] = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(hub / f)) for f in new]
    ops += [
        CommitOperationDelete(path_in_repo=f)
        for f in existing
        if f not in new and (f.startswith(f"data/{kind}-") or f.startswith(f"plots/{kind}-"))
    ]
    _call(
        lambda: api.create_commit(
            repo_id, ops, commit_message=f"synthmath: {kind} ({len(new)} files)", repo_type="dataset"
        ),
        max_retries,
        backoff,
        "upload",
    )
    return hub


def _call(fn: Any, max_retries: int, backoff: float, what: str) -> Any:
    for attempt in range(max_retries + 1):
        try:
            return fn()
        except Exception as e:
            if not _retryable(e) or attempt == max_retries:
                detail = " ".join(str(e).split())[:300]
                raise HubError(
                    f"could not {what} on the Hub ({type(e).__name__}: {detail}) - check the repo id, "
                    "your token's write access, and your network"
                ) from e
            delay = random.uniform(0, backoff * 2**attempt)
            log.warning("Hub %s failed (%s): retrying in %.1fs", what, type(e).__name__, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")
