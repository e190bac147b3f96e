"""The ``synthmath`` command group, and how errors reach the user: every SynthmathError (and OS error) is
one line and a non-zero exit; settings named in messages are spelled as the CLI's flags."""

from __future__ import annotations

import errno
import shlex
import sqlite3
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .._version import __version__
from ..errors import ELSEWHERE, OptionRef, SynthmathError, clip, spelling
from ..stopping import Stopped
from .signals import Stopping, stopping_on_signals

F = TypeVar("F", bound=Callable[..., Any])


def _one_line(message: str) -> str:
    """The message on one line, any word of it over 300 characters cut (a pasted value, a huge path)."""
    return " ".join(clip(word, 300) for word in str(message).split())


def _spell_flag(param: click.Option, ref: OptionRef) -> str:
    """A setting as the flag that sets it: ``--benchmark math_test=PATH``, ``--no-contamination``."""
    flag = next((o for o in param.opts if o.startswith("--")), param.opts[0])
    if not ref.has_value:
        return flag
    value = ref.value
    if param.is_flag:
        if value is False and param.secondary_opts:
            return param.secondary_opts[0]
        return flag if value == param.flag_value or value is True else ref.library_text()
    if isinstance(value, list):
        if param.multiple:
            return " ".join(f"{flag} {shlex.quote(str(v))}" for v in value)
        return f"{flag} {shlex.quote(','.join(str(v) for v in value))}"
    return f"{flag} {shlex.quote(str(value))}"


def _flag_speller(group: click.Group, ctx: click.Context) -> Callable[[OptionRef], str]:
    """Spell each setting an error names as the flag of the running command (or of any command)."""

    def find(command: click.Command, ref: OptionRef) -> str | None:
        name = ref.field.replace("_sampling.", "_")  # question_sampling.max_tokens: --question-max-tokens
        for param in command.params:
            if isinstance(param, click.Option) and param.name == name:
                return _spell_flag(param, ref)
        return None

    def spell(ref: OptionRef) -> str:
        running = group.commands.get(ctx.invoked_subcommand or "")  # known once the command runs
        if running is not None and (own := find(running, ref)) is not None:
            return own
        for command in group.commands.values():
            if (other := find(command, ref)) is not None:
                # another command's flag: a clause that offers it (errors.optional) is left out here
                return other if running is None else ELSEWHERE + other
        # a setting with no flag: the config file spells it this way
        return ref.library_text() if running is None else ELSEWHERE + ref.library_text()

    return spell


def _os_error_message(e: OSError | sqlite3.Error) -> str:
    """One line for a failure of the machine rather than of synthmath: disk full, permission, read-only."""
    text = str(e).lower()
    errno_ = getattr(e, "errno", None)
    where = getattr(e, "filename", None)
    place = f" ({clip(where, 200)})" if where else ""
    if errno_ == errno.ENOSPC or "disk is full" in text or "no space left" in text:
        return (
            f"the disk is full{place} - free some space, then rerun the same command: "
            "the finished work is kept and reused"
        )
    if errno_ == errno.EROFS or "readonly database" in text or "read-only file system" in text:
        return f"read-only file system{place} - write to another directory (--out, --cache or XDG_CACHE_HOME)"
    if errno_ in (errno.EACCES, errno.EPERM):
        return f"permission denied{place} - write to a directory you own, or fix its permissions"
    if errno_ == errno.ENAMETOOLONG:
        return (
            f"a path is too long{place}: a file or folder name may have at most 255 bytes - choose a "
            "shorter --out (or --cache)"
        )
    if "unable to open database" in text:
        return "cannot open a database file - check that its folder exists and is writable (--cache, --out)"
    strerror = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return f"{strerror}{place} ({type(e).__name__}) - check the file or device named, then rerun"


class _Group(click.Group):
    """Turns every SynthmathError, and every OS error (disk full, permission, read-only), into a one-line
    message and exit status 1; the traceback only with --verbose. Ctrl-C, SIGTERM and SIGHUP stop it with
    one line and 128 + the signal (:mod:`.signals`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["synthmath.argv"] = list(args)  # for --verbose, when the command fails
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        raw = ctx.meta.get("synthmath.argv", [])
        verbose = "--verbose" in raw or "-v" in raw
        stop = Stopping()
        try:
            # warnings name flags too, not config fields; SIGTERM and SIGHUP stop the command as Ctrl-C does
            with spelling(_flag_speller(self, ctx)), stopping_on_signals() as stop:
                return super().invoke(ctx)
        except SynthmathError as e:
            if verbose:
                traceback.print_exc()
            raise click.ClickException(_one_line(e.render(_flag_speller(self, ctx)))) from None
        except (OSError, sqlite3.OperationalError) as e:
            if verbose:
                traceback.print_exc()
            raise click.ClickException(_one_line(_os_error_message(e))) from None
        except KeyboardInterrupt as e:
            stop.say(str(e) if isinstance(e, Stopped) else "interrupted (Ctrl-C)")
            sys.exit(e.status if isinstance(e, Stopped) else 130)


@click.group(cls=_Group, context_settings={"max_content_width": 100})
@click.version_option(__version__, prog_name="synthmath")
def main() -> None:
    """Synthetic math training data: rephrase MATH seeds with an LLM served by vLLM into verified
    SFT pairs (build-instruct) and DPO tuples (build-dpo)."""
