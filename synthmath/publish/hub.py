"""Pushing a build directory to the Hugging Face Hub as a dataset repository.

Everything that can fail locally is checked first, before the Hub is touched: the repo id, the build
(summary.json and its records file), the token, and whether the Hub can be reached at all (offline mode,
no DNS, no route: one line within a couple of seconds). Then everything is staged in ``DIR/_hub`` (card,
plots or a note in the card that they were skipped, parquet shards); ``--dry-run`` stops there. The
upload is one commit that adds the new files and deletes this kind's old shards and plots, so pushing
again after a crash or a change replaces files and never duplicates them.

Failures that may heal (HTTP 429/5xx, a dropped connection, a timeout) are retried with backoff; those
that cannot (offline mode, a name that does not resolve, 400/401/403/404) fail at once.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ConfigError, HubError, HubUnreachableError, OutputError, opt
from ..hub_access import hub_offline_reason
from ..integrity import check_build
from ..lock import check_free
from .card import render_card
from .plots import make_plots, plots_unavailable

__all__ = ["HubError", "push_to_hub", "stage"]

log = logging.getLogger(__name__)

ROWS_PER_SHARD = 100_000
T = TypeVar("T")

_DNS_MARKS = (
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "getaddrinfo failed",
    "name resolution",
    "no address associated",
)


def _summary(build_dir: Path) -> dict[str, Any]:
    """The build's summary.json, checked: no run writes the folder now, it parses, names its kind, and
    its files are whole and hold what it counts."""
    check_free(build_dir, "push")
    path = build_dir / "summary.json"
    if not path.is_file():
        raise ConfigError(
            f"{build_dir}: no summary.json, so there is no finished build here - run build-instruct or "
            f"build-dpo with {opt('out')} to this directory first"
        )
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path}: not a readable summary ({e}) - rebuild into this directory") from e
    records = data.get("files", {}).get("records") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("kind") not in ("instruct", "dpo") or not records:
        raise ConfigError(f"{path}: not a synthmath build summary (no kind or records file) - rebuild")
    if not data.get("finished", True):
        raise ConfigError(
            f"{path}: this build did not finish - rerun it with the same {opt('out')}, then push"
        )
    if not (build_dir / records).is_file():
        raise ConfigError(f"{build_dir / records}: the build's records file is missing - rebuild")
    check_build(build_dir, data)  # every line whole, the counts those of summary.json
    return data


def _check_repo_id(repo_id: str) -> None:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id  # type: ignore[attr-defined]

    if "/" not in repo_id:
        raise ConfigError(f"repo id {repo_id!r} needs a namespace: pass {opt('repo_id', 'USER_OR_ORG/NAME')}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as e:
        raise ConfigError(
            f"repo id {repo_id!r} is not a valid Hub name ({e}) - pass {opt('repo_id', 'USER/NAME')}"
        ) from e


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


def _write_card(
    build_dir: Path, hub: Path, summary: dict[str, Any], repo_id: str, license: str, other_configs: list[str]
) -> None:
    kind = summary["kind"]
    plots = sorted(p.name for p in (hub / "plots").glob("*.png")) if (hub / "plots").is_dir() else []
    report = build_dir / "contamination_report.md"
    contamination = {"markdown": report.read_text(encoding="utf-8")} if report.is_file() else None
    card = render_card(
        summary,
        repo_id=repo_id,
        configs=[kind, *other_configs],
        data_files={kind: f"data/{kind}-*.parquet"},
        plots=plots,
        license=license,
        contamination=contamination,
        plots_skipped=None if plots else plots_unavailable(),
    )
    (hub / "README.md").write_text(card, encoding="utf-8")


def stage(
    build_dir: Path, repo_id: str, *, license: str = "mit", other_configs: list[str] | None = None
) -> Path:
    """Write exactly what would be uploaded to ``build_dir/_hub``; returns that folder.

    Without matplotlib the figures are skipped and the card says so."""
    summary = _summary(build_dir)
    kind = summary["kind"]
    hub = build_dir / "_hub"
    try:
        if hub.exists():
            shutil.rmtree(hub)
        (hub / "data").mkdir(parents=True)
    except OSError as e:
        raise OutputError(
            f"cannot write {hub} ({e.strerror}) - check the build directory's permissions"
        ) from e
    _write_shards(build_dir / summary["files"]["records"], kind, hub / "data")
    missing = plots_unavailable()
    if missing is None:
        make_plots(build_dir, summary, hub / "plots")
    else:
        log.warning("dataset card without figures: %s", missing)
    _write_card(build_dir, hub, summary, repo_id, license, other_configs or [])
    return hub


def _chain(e: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _status(e: BaseException) -> int | None:
    status = getattr(getattr(e, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _unreachable(e: BaseException) -> bool:
    """Offline mode, or a host name that does not resolve: retrying cannot help."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    for cause in _chain(e):
        if isinstance(cause, (OfflineModeIsEnabled, socket.gaierror)):
            return True
        if any(mark in str(cause).lower() for mark in _DNS_MARKS):
            return True
    return False


def _retryable(e: BaseException) -> bool:
    if _unreachable(e):
        return False
    status = _status(e)
    if status is not None:
        return status == 429 or status >= 500
    name = type(e).__name__.lower()
    return isinstance(e, (ConnectionError, TimeoutError)) or "connect" in name or "timeout" in name


def _failure(e: BaseException, what: str, repo_id: str) -> HubError:
    detail = " ".join(str(e).split())[:200]
    if _unreachable(e):
        return HubUnreachableError(
            f"could not {what}: the Hugging Face Hub is unreachable ({type(e).__name__}) - check your "
            f"network (and HF_HUB_OFFLINE), or use {opt('dry_run', True)} to stage the upload locally"
        )
    status = _status(e)
    if status == 401:
        return HubError(
            f"could not {what}: the Hub refused the token (HTTP 401) - set a valid HF_TOKEN or run "
            "`hf auth login`"
        )
    if status == 403:
        return HubError(
            f"could not {what}: the token may not write to {repo_id} (HTTP 403) - use a token with write "
            f"access, or a {opt('repo_id')} in your own namespace"
        )
    return HubError(
        f"could not {what} on the Hub ({type(e).__name__}: {detail}) - check the repo id, your token's "
        "write access, and your network"
    )


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

    With ``dry_run`` nothing is uploaded: ``build_dir/_hub`` holds the card, plots and shards. Every
    local check (repo id, build files, token, a reachable Hub) passes before the first Hub request.
    """
    build_dir = Path(build_dir)
    _check_repo_id(repo_id)
    summary = _summary(build_dir)
    if dry_run:
        return stage(build_dir, repo_id, license=license)

    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
    from huggingface_hub.errors import RepositoryNotFoundError

    token = token or get_token()
    if api is None:
        if not token:
            raise ConfigError(
                f"no Hugging Face token - set HF_TOKEN or run `hf auth login` (or use {opt('dry_run', True)})"
            )
        reason = hub_offline_reason()
        if reason is not None:
            raise HubUnreachableError(
                f"cannot push to {repo_id}: the Hugging Face Hub is unreachable ({reason}) - connect to the "
                f"network, or use {opt('dry_run', True)} to stage the upload locally"
            )
        api = HfApi(token=token)
    kind = summary["kind"]
    hub = stage(build_dir, repo_id, license=license)  # all local work done before the first Hub request

    def list_files() -> list[str]:
        try:
            return list(api.list_repo_files(repo_id, repo_type="dataset"))
        except RepositoryNotFoundError:
            return []  # created below

    existing = _call(list_files, max_retries, backoff, "list the repository", repo_id)
    other = sorted(
        {f.split("/")[1].split("-")[0] for f in existing if f.startswith("data/") and f.endswith(".parquet")}
        - {kind}
    )
    if other:  # the card lists the repository's other configs too
        _write_card(build_dir, hub, summary, repo_id, license, other)
    new = sorted(str(p.relative_to(hub)) for p in hub.rglob("*") if p.is_file())
    ops: list[Any] = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(hub / f)) for f in new]
    ops += [
        CommitOperationDelete(path_in_repo=f)
        for f in existing
        if f not in new and (f.startswith(f"data/{kind}-") or f.startswith(f"plots/{kind}-"))
    ]
    _call(
        lambda: api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True),
        max_retries,
        backoff,
        "create the repository",
        repo_id,
    )
    _call(
        lambda: api.create_commit(
            repo_id, ops, commit_message=f"synthmath: {kind} ({len(new)} files)", repo_type="dataset"
        ),
        max_retries,
        backoff,
        "upload",
        repo_id,
    )
    return hub


def _call(fn: Callable[[], T], max_retries: int, backoff: float, what: str, repo_id: str) -> T:
    for attempt in range(max_retries + 1):
        try:
            return fn()
        except Exception as e:
            if not _retryable(e) or attempt == max_retries:
                raise _failure(e, what, repo_id) from e
            delay = random.uniform(0, backoff * 2**attempt)
            log.warning("Hub %s failed (%s): retrying in %.1fs", what, type(e).__name__, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")
