"""How the build commands list their flags in ``--help``: each option carries the section it is listed
in (:class:`GroupedOption`); commands made with ``cls=GroupedCommand`` print their options section by
section, in :data:`SECTIONS` order. The flags themselves are bundles of decorators, one module per
part of the config they set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["SECTIONS", "GroupedCommand", "GroupedOption"]

F = TypeVar("F", bound=Callable[..., Any])


SECTIONS = {
    "seeds": "Seeds: what to build from",
    "generation": "Generation: the model and what it is asked",
    "checks": "Checks on questions and answers",
    "contamination": "Contamination gate (runs before generation)",
    "output": "Output",
    "execution": "Execution: servers, concurrency, caching, workers",
}


class GroupedOption(click.Option):
    """An option that knows its ``--help`` section (a key of :data:`SECTIONS`)."""

    def __init__(self, *args: Any, group: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = group


class GroupedCommand(click.Command):
    """Lists options under the section headings of :data:`SECTIONS`; options without a section (and
    ``--help``) come last, under "Other options"."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: dict[str, list[tuple[str, str]]] = {key: [] for key in [*SECTIONS, ""]}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                rows.get(getattr(param, "group", ""), rows[""]).append(record)
        for key, title in [*SECTIONS.items(), ("", "Other options")]:
            if rows[key]:
                with formatter.section(title):
                    formatter.write_dl(rows[key])


def _option(group: str, *decls: str, **attrs: Any) -> Callable[[F], F]:
    return click.option(*decls, cls=GroupedOption, group=group, **attrs)


def _compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply
