"""Where a build writes, and the request cache that lets it resume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..location import Location, check_uri

__all__ = ["OutputConfig"]


class OutputConfig(BaseModel):
    """The output location (local or any fsspec URI) and the request cache."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    out: str | None = Field(
        None, description="output folder, local or a URI that fsspec knows (s3://bucket/run, gs://...)"
    )
    chat: bool = Field(False, description="DPO only: write TRL's conversational form")
    cache: Path | None = Field(None, description="request cache file [default: OUT/cache/requests.sqlite]")
    use_cache: bool = Field(True, description="reuse responses already received (resume after a crash)")

    @field_validator("out", mode="before")
    @classmethod
    def _out(cls, v: Any) -> Any:
        return None if v is None else check_uri(os.fspath(v))

    def cache_path(self) -> Path | None:
        """Where the request cache lives, or None when caching is off (for a remote ``out``: in its
        local staging folder, copied up as the build goes)."""
        if not self.use_cache:
            return None
        if self.cache is not None:
            return self.cache
        return Location(self.out).staging() / "cache" / "requests.sqlite" if self.out is not None else None
