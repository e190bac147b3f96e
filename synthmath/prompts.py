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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, opt
from .textio import decode_utf8

__all__ = ["PLACEHOLDERS", "PromptSet", "PromptTemplate", "default_prompts_dir"]

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")

# What the code fills in for each prompt: (placeholders a template must use, placeholders it may use).
# A rephrasing prompt without {{problem}} would send the same text for every seed, so it is refused
# when the prompts are loaded, before any request.
PLACEHOLDERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "rephrase_question": (frozenset({"problem"}), frozenset({"problem"})),
    "rephrase_answer": (frozenset({"question", "solution"}), frozenset({"question", "problem", "solution"})),
    "solve": (frozenset({"question"}), frozenset({"question"})),
    "contamination_judge": (frozenset({"first", "second"}), frozenset({"first", "second"})),
    "mask_number": (frozenset({"problem", "variable"}), frozenset({"problem", "solution", "variable"})),
    "sv_statement": (
        frozenset({"question", "answer", "variable"}),
        frozenset({"question", "answer", "variable"}),
    ),
}


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
        except OSError as e:
            raise ConfigError(f"{path}: cannot read prompt file ({e.strerror})") from e
        try:
            data: Any = yaml.safe_load(decode_utf8(raw, path))
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
        _check_placeholders(path, found)
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
            raise ConfigError(f"{self.directory}: prompts directory not found - check {opt('prompts_dir')}")
        self._templates: dict[str, PromptTemplate] = {}

    def __getitem__(self, name: str) -> PromptTemplate:
        if name not in self._templates:
            path = self.directory / f"{name}.yaml"
            if not path.is_file():
                raise ConfigError(
                    f"{path}: prompt file missing - copy it from synthmath's prompts/ "
                    f"into {opt('prompts_dir')}"
                )
            self._templates[name] = PromptTemplate.load(path)
        return self._templates[name]

    def check(self, names: Iterable[str]) -> None:
        """Load the templates ``names`` now, so that a missing or broken prompt file is a ConfigError
        before the run starts a server or sends a request."""
        for name in names:
            self[name]


def _marks(names: Iterable[str]) -> str:
    return ", ".join("{{" + n + "}}" for n in sorted(names))


def _check_placeholders(path: Path, found: set[str]) -> None:
    """A known prompt must use the placeholders its step fills in, and no others."""
    rules = PLACEHOLDERS.get(path.stem)
    if rules is None:
        return
    required, allowed = rules
    if required - found:
        raise ConfigError(
            f"{path}: the prompt never uses {_marks(required - found)}, so every request would lack it - "
            f"put {_marks(required - found)} in one of its messages"
        )
    if found - allowed:
        raise ConfigError(
            f"{path}: {_marks(found - allowed)} is not filled in for this prompt - use only {_marks(allowed)}"
        )
