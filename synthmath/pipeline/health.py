"""When a build stops rather than report success on nothing.

Two kinds of runs make no data and must not end with exit 0: one whose requests keep failing (the server
is down, overloaded, or answers with empty or malformed replies through every retry), and one whose
requests all come back but whose every candidate is cut off at ``max_tokens`` or empty (a limit set too
low, a model that answers nothing to this prompt). Each gets one line with the cause and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import BuildConfig
from ..engine.base import ChatResult
from ..errors import opt
from .stats import BuildStats

__all__ = ["RequestTally", "failure"]

_EARLY = 50  # requests (or candidates) seen before a build may be judged on its fractions

_FIX = {
    "empty_reply": "the server sends replies with no text: check its log and that the model has a chat "
    "template, then rerun",
    "bad_reply": f"check that {opt('base_url')} points at the OpenAI-compatible server itself (not a "
    "proxy or a web page), then rerun",
}
_FIX["refused"] = (
    f"the server refused the requests: check what it names ({opt('max_tokens')}, {opt('model')}, the "
    "sampling settings), then rerun"
)
_DEFAULT_FIX = "check the server and its log, then rerun: finished work is resumed from the cache"


@dataclass
class RequestTally:
    """Requests sent and failed (through every retry, or refused), with the last failure and its kind."""

    sent: int = 0
    failed: int = 0
    last_error: str | None = None
    last_reason: str = "request_error"

    def count(self, result: ChatResult) -> bool:
        """Count a request; True when it failed: through every retry, or refused (HTTP 4xx)."""
        self.sent += 1
        if result.error is None:
            return False
        self.failed += 1
        self.last_error = result.error
        self.last_reason = result.reason if result.server_failure else "refused"
        return True


def failure(stats: BuildStats, tally: RequestTally, config: BuildConfig, *, final: bool) -> str | None:
    """Why the build must stop now, as one line with the fix; None while it may go on."""
    fix = _FIX.get(tally.last_reason, _DEFAULT_FIX)
    in_row = stats.seeds_all_failed_in_row
    if in_row >= config.max_failed_seeds:
        return f"every request of the last {in_row} seeds failed (last error: {tally.last_error}) - {fix}"
    sent, failed = tally.sent, tally.failed
    if (final or sent >= _EARLY) and sent and failed / sent > config.max_failed_fraction:
        return f"{failed} of {sent} requests failed (last error: {tally.last_error}) - {fix}"
    return _useless_replies(stats, config, final=final)


def _useless_replies(stats: BuildStats, config: BuildConfig, *, final: bool) -> str | None:
    """A stage whose every candidate so far was cut off at max_tokens or empty: nothing can come of it."""
    for stage, candidates, rejects in (
        ("question", stats.question_candidates, stats.question_rejects),
        ("answer", stats.answer_candidates, stats.answer_rejects),
    ):
        if not candidates or (not final and candidates < _EARLY):
            continue
        cut, empty = rejects["truncated"], rejects["empty"] + rejects["empty_reply"]
        if cut + empty < candidates:
            continue
        if not cut:
            return (
                f"every {stage} reply was empty ({empty} of {candidates} candidates) - check the server's "
                f"log and that {opt('model')} answers this prompt (a chat model with its chat template)"
            )
        own = getattr(config, f"{stage}_sampling").max_tokens
        setting = f"{stage}_sampling.max_tokens" if own is not None else "max_tokens"
        limit = own if own is not None else config.max_tokens
        what = f"{cut} of {candidates} {stage} candidates" + (f", and {empty} empty" if empty else "")
        return f"every {stage} reply was cut off at {opt(setting, limit)} ({what}) - raise {opt(setting)}"
    return None
