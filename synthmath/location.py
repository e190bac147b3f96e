"""Output locations: ``--out`` is a local folder or a URI (``s3://bucket/run``, ``gs://...``, any
filesystem that fsspec knows), one code path for all of them.

A local folder (or ``file://``) is written in place, as always. For a remote location a build works in
a local *staging* folder (``~/.cache/synthmath/staging/<hash of the URI>``): its ``.partial`` files and
its request cache live there, the cache is copied up while the build runs and when it stops, and the
finished files are uploaded when it commits, ``summary.json`` last, so that a remote ``summary.json``
still marks a finished build. A rerun on another machine downloads the cache first and resumes from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from .errors import ConfigError, OutputError, opt

__all__ = ["Location", "check_uri", "is_remote", "staging_dir"]

# the extra (or package) that brings each common scheme's filesystem
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}


def is_remote(uri: str | os.PathLike[str]) -> bool:
    """True for ``scheme://...`` other than ``file://``."""
    s = os.fspath(uri)
    return "://" in s and not s.startswith("file://")


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0].lower()


def check_uri(uri: str) -> str:
    """``uri`` when its filesystem is available here; else a one-line error naming what to install."""
    if not is_remote(uri):
        return uri
    scheme = _scheme(uri)
    try:
        import fsspec

        fsspec.get_filesystem_class(scheme)
    except ImportError as e:
        package = _PACKAGES.get(scheme, f"the fsspec filesystem for {scheme}://")
        raise ConfigError(
            f"{opt('out')} {uri}: the {scheme}:// filesystem is not installed ({e}) - pip install {package}"
        ) from e
    except ValueError as e:
        raise ConfigError(
            f"{opt('out')} {uri}: unknown filesystem {scheme}:// - give a local folder or a URI that "
            "fsspec knows (s3://, gs://, ...)"
        ) from e
    return uri


def staging_dir(uri: str) -> Path:
    """The local folder where a build for the remote ``uri`` keeps its partial files and cache."""
    base = Path(os.environ.get("SYNTHMATH_STAGING") or Path.home() / ".cache" / "synthmath" / "staging")
    return base / hashlib.sha256(uri.rstrip("/").encode()).hexdigest()[:16]


class Location:
    """A folder, local or remote: read, write, list and copy files by name below it."""

    def __init__(self, uri: str | os.PathLike[str]) -> None:
        s = os.fspath(uri)
        if s.startswith("file://"):
            s = s[len("file://") :]
        self.uri = s.rstrip("/") if is_remote(s) else s
        self.remote = is_remote(s)
        self._fs: Any = None
        if self.remote:
            check_uri(self.uri)

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"Location({self.uri!r})"

    @property
    def fs(self) -> Any:
        if self._fs is None:
            import fsspec

            self._fs, _ = fsspec.core.url_to_fs(self.uri)
        return self._fs

    @property
    def path(self) -> Path:
        """The local folder (a remote location has none: use :meth:`staging`)."""
        if self.remote:
            raise OutputError(f"{self.uri} is not a local folder")
        return Path(self.uri)

    def staging(self) -> Path:
        """Where a build writes before its files reach this location (the folder itself when local)."""
        return staging_dir(self.uri) if self.remote else Path(self.uri)

    def child(self, name: str) -> Location:
        return Location(self.join(name))

    def join(self, name: str) -> str:
        return f"{self.uri}/{name}" if self.remote else str(Path(self.uri) / name)

    def _error(self, what: str, e: Exception) -> OutputError:
        why = getattr(e, "strerror", None) or str(e).splitlines()[0][:200] or type(e).__name__
        return OutputError(f"cannot {what} {self.uri} ({why}) - check the location and its credentials")

    def exists(self, name: str = "") -> bool:
        target = self.join(name) if name else self.uri
        if not self.remote:
            return Path(target).exists()
        try:
            return bool(self.fs.exists(target))
        except Exception as e:
            raise self._error("read", e) from e

    def read_text(self, name: str) -> str:
        try:
            if not self.remote:
                return (Path(self.uri) / name).read_text(encoding="utf-8")
            with self.fs.open(self.join(name), "r", encoding="utf-8") as f:
                return str(f.read())
        except FileNotFoundError:
            raise
        except Exception as e:
            raise self._error("read", e) from e

    def open(self, name: str, mode: str = "r") -> Any:
        """A file below this location (text, UTF-8, unless ``mode`` says ``b``)."""
        encoding = None if "b" in mode else "utf-8"
        if not self.remote:
            return open(Path(self.uri) / name, mode, encoding=encoding)
        return self.fs.open(self.join(name), mode, encoding=encoding)

    def mkdir(self) -> None:
        try:
            if self.remote:
                self.fs.makedirs(self.uri, exist_ok=True)
            else:
                Path(self.uri).mkdir(parents=True, exist_ok=True)
        except Exception as e:
            raise self._error("create", e) from e

    def put(self, local: Path, name: str) -> None:
        """Copy the local file ``local`` to ``name`` below this location (replacing it)."""
        try:
            if self.remote:
                self.fs.put_file(str(local), self.join(name))
            else:
                target = Path(self.uri) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if local.resolve() != target.resolve():
                    tmp = target.with_name(target.name + ".tmp")
                    shutil.copyfile(local, tmp)
                    os.replace(tmp, target)
        except Exception as e:
            raise self._error("write to", e) from e

    def get(self, name: str, local: Path) -> bool:
        """Copy ``name`` to the local file ``local``; False when there is no such file."""
        if not self.exists(name):
            return False
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            if self.remote:
                self.fs.get_file(self.join(name), str(local))
            else:
                shutil.copyfile(Path(self.uri) / name, local)
        except Exception as e:
            raise self._error("read", e) from e
        return True

    def remove(self, name: str) -> None:
        try:
            if self.remote:
                if self.fs.exists(self.join(name)):
                    self.fs.rm_file(self.join(name))
            else:
                (Path(self.uri) / name).unlink(missing_ok=True)
        except Exception as e:
            raise self._error("write to", e) from e
