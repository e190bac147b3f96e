"""Prompt templates: YAML files of chat messages with ``{{name}}`` placeholders.

The templates live in ``prompts/`` (shipped inside the wheel as ``synthmath/_prompts``); code only renders
them. Each template is hashed by content so every record can say which prompts made it, and so a
changed prompt is recognisable.

A template file::

    description: what this prompt is for
    placeholders: [problem]
    messages:
      - role: system
        content: |
          instructions and worked examples (fixed: shared by every request, so vLLM's prefix cache hits)
      - role: user
        content: |
          {{problem}}
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

__all__ = ["PromptSet", "PromptTemplate", "default_prompts_dir"]

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
PROMPT_NAMES = ("rephrase_question", "rephrase_answer", "solve")


def default_prompts_dir() -> Path:
    """The packaged prompts (inside the wheel), or the repository's ``prompts/`` in a source checkout."""
    here = Path(__file__).resolve().parent
    for cand in (here / "_prompts", here.parent / "prompts"):
        if (cand / "rephrase_question.yaml").is_file():
            return cand
    raise ConfigError(f"synthmath's prompt files are missing from {here} - reinstall synthmath")


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    messages: tuple[tuple[str, str], ...]
    placeholders: frozenset[str]
    hash: str
    path: Path

    @classmethod
    def load(cls, path: Path) -> PromptTemplate:
        try:
            raw = path.read_bytes()
            data: Any = yaml.safe_load(raw)
        except OSError as e:
            raise ConfigError(f"{path}: cannot read prompt file ({e.strerror})") from e
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({e}) - fix the prompt file") from e
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list) or not data["messages"]:
            raise ConfigError(f"{path}: a prompt file needs a non-empty 'messages' list of {{role, content}}")
        messages = []
        found: set[str] = set()
        for i, m in enumerate(data["messages"]):
            if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
                raise ConfigError(f"{path}: message {i} needs role system/user/assistant and a content")
            content = str(m.get("content", ""))
            found.update(_PLACEHOLDER.findall(content))
            messages.append((m["role"], content))
        declared = set(data.get("placeholders") or found)
        if found - declared:
            raise ConfigError(f"{path}: undeclared placeholders {sorted(found - declared)}")
        return cls(
            name=path.stem,
            messages=tuple(messages),
            placeholders=frozenset(found),
            hash=hashlib.sha256(raw).hexdigest()[:16],
            path=path,
        )

    def render(self, **values: str) -> list[dict[str, str]]:
        """Chat messages with every ``{{name}}`` replaced by ``values[name]`` (values are not re-scanned)."""
        missing = self.placeholders - values.keys()
        if missing:
            raise ConfigError(f"prompt {self.name!r} needs values for {sorted(missing)}")

        def sub(m: re.Match[str]) -> str:
            return values[m.group(1)]

        return [{"role": role, "content": _PLACEHOLDER.sub(sub, content)} for role, content in self.messages]


class PromptSet:
    """The prompts of one run: the packaged ones, or a user's ``--prompts-dir``."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory else default_prompts_dir()
        if not self.directory.is_dir():
            raise ConfigError(f"{self.directory}: prompts directory not found - check --prompts-dir")
        self._templates: dict[str, PromptTemplate] = {}

    def __getitem__(self, name: str) -> PromptTemplate:
        if name not in self._templates:
            path = self.directory / f"{name}.yaml"
            if not path.is_file():
                raise ConfigError(
                    f"{path}: prompt file missing - copy it from synthmath's prompts/ into --prompts-dir"
                )
            self._templates[name] = PromptTemplate.load(path)
        return self._templates[name]

    def hashes(self, names: list[str]) -> dict[str, str]:
        return {n: self[n].hash for n in names}
