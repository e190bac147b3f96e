"""Which seed problems a build reads: the source and the selection from it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import ConfigError, opt
from .io import shard_spec, split_commas

__all__ = ["SeedsConfig"]


class SeedsConfig(BaseModel):
    """The seed source and the selection from it (``synthmath seeds`` shows what it selects)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    seeds: str | None = Field(
        None, description="Hub dataset id, MATH directory, or .jsonl/.json/.parquet file"
    )
    split: str = "train"
    subjects: list[str] | None = None
    levels: list[int] | None = None
    limit: int | None = Field(None, ge=0)
    sample: int | None = Field(None, ge=1)
    seed: int = 0
    shard: str | None = Field(None, description="I/N: this run's share of the seeds, for N machines")

    @field_validator("subjects", "levels", mode="before")
    @classmethod
    def _seed_lists(cls, v: Any) -> Any:
        return split_commas(v)

    @field_validator("shard")
    @classmethod
    def _shard(cls, v: str | None) -> str | None:
        return None if v is None else shard_spec(v)

    def shard_tuple(self) -> tuple[int, int] | None:
        if self.shard is None:
            return None
        i, n = self.shard.split("/")
        return int(i), int(n)

    def require_seeds(self) -> str:
        """The seed source, or a one-line error that says how to give one."""
        if not self.seeds:
            raise ConfigError(
                f"no seeds given - pass {opt('seeds', 'PATH_OR_HUB_ID')} (e.g. EleutherAI/hendrycks_math)"
            )
        return self.seeds
