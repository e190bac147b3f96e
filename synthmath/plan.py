"""What a build would do, without doing it (``--dry-run``): the seeds it selects, and the requests and
tokens it would send at most and probably, from the prompts rendered for each seed. Nothing is sent,
no server or model is started, no benchmark is loaded and nothing is written.

Token counts are estimates: about four characters per token (English prose; LaTeX is denser, so real
counts run somewhat higher). The upper bounds assume that every rephrasing passes its checks; the
"likely" completion estimate assumes a rephrasing about as long as its problem and a solution about as
long as the original one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .config import BuildConfig
from .pipeline.jobs import Kind
from .prompts import PromptSet
from .records import Reject, SeedProblem
from .seeds import iter_seed_stream

__all__ = ["BuildPlan", "plan_build"]

CHARS_PER_TOKEN = 4.0


def _tokens(text: str) -> int:
    return max(1, round(len(text) / CHARS_PER_TOKEN))


@dataclass
class BuildPlan:
    """The requests and tokens of a build, counted before it runs."""

    kind: Kind
    seeds: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    by_subject: Counter[str] = field(default_factory=Counter)
    by_level: Counter[str] = field(default_factory=Counter)
    requests: int = 0  # chat requests at most (every rephrasing kept)
    completions: int = 0  # completions at most (requests times their n)
    prompt_tokens: int = 0  # at most
    completion_tokens_cap: int = 0  # every completion at max_tokens
    completion_tokens_likely: int = 0
    contamination: list[str] = field(default_factory=list)  # the gate's benchmarks, empty when off

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seeds": self.seeds,
            "skipped": dict(self.skipped),
            "by_subject": dict(sorted(self.by_subject.items())),
            "by_level": dict(sorted(self.by_level.items())),
            "requests_at_most": self.requests,
            "completions_at_most": self.completions,
            "prompt_tokens_at_most": self.prompt_tokens,
            "completion_tokens_at_most": self.completion_tokens_cap,
            "completion_tokens_likely": self.completion_tokens_likely,
            "contamination_benchmarks": self.contamination,
            "chars_per_token": CHARS_PER_TOKEN,
        }


def plan_build(kind: Kind, config: BuildConfig) -> BuildPlan:
    """Count what ``config`` would send for its seeds; reads the seeds and the prompts only."""
    plan = BuildPlan(
        kind=kind, contamination=[str(b) for b in config.benchmarks] if config.contamination else []
    )
    prompts = PromptSet(config.prompts_dir)
    question_t = prompts["rephrase_question"]
    answer_t = prompts["rephrase_answer" if config.answer_mode == "rephrase" else "solve"]
    solve_t = prompts["solve"] if config.check_questions == "solve" else None
    q_cap = config.step_sampling("question").max_tokens
    a_cap = config.step_sampling("answer").max_tokens
    k, samples = config.rephrasings, config.answer_samples
    for item in iter_seed_stream(config.require_seeds(), **config.seed_options()):
        if isinstance(item, Reject):
            plan.skipped[item.reason] += 1
            continue
        seed: SeedProblem = item
        plan.seeds += 1
        plan.by_subject[seed.subject or "?"] += 1
        plan.by_level[str(seed.level) if seed.level is not None else "?"] += 1
        # one question request with n=k; then, per kept rephrasing (about as long as the problem), one
        # answer request with n=samples, and the solve check's request when it is on
        plan.prompt_tokens += _tokens(_text(question_t.render(problem=seed.problem)))
        values = {"problem": seed.problem, "solution": seed.solution, "question": seed.problem}
        answer_prompt = _tokens(_text(answer_t.render(**{n: values[n] for n in answer_t.placeholders})))
        plan.prompt_tokens += k * answer_prompt
        plan.requests += 1 + k
        plan.completions += k + k * samples
        plan.completion_tokens_cap += k * q_cap + k * samples * a_cap
        likely_answer = (
            _tokens(seed.solution) + 20 if config.answer_mode == "rephrase" else 2 * _tokens(seed.solution)
        )
        plan.completion_tokens_likely += k * min(_tokens(seed.problem), q_cap) + k * samples * min(
            likely_answer, a_cap
        )
        if solve_t is not None:
            n = config.solve_check_samples
            plan.requests += k
            plan.completions += k * n
            plan.prompt_tokens += k * _tokens(_text(solve_t.render(question=seed.problem)))
            plan.completion_tokens_cap += k * n * q_cap
            plan.completion_tokens_likely += k * n * min(2 * _tokens(seed.solution), q_cap)
    return plan


def _text(messages: list[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in messages)
