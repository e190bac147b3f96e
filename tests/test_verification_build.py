"""Verification through whole builds: copies are caught, the solve check rejects a rephrasing that changed
the problem, and an answer whose check overruns its time budget is a reject while the others go on."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from synthmath import DPORecord, Reject, SeedProblem, build_dpo, load_seeds
from synthmath.cli import main
from synthmath.steps.similarity import answer_copies_original, question_copies_seed
from synthmath.testing import FakeOpenAIServer, Reply

from .conftest import MATH_TRAIN, need_data, read_jsonl
from .fakes import PREFIXES, MathRephraser, _hash, rephrasing


def _seeds(tmp_path: Path, n: int, step: int = 120) -> list[SeedProblem]:
    need_data()
    rows = read_jsonl(MATH_TRAIN)[::step][:n]
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return list(load_seeds(path))


class Copier:
    """MathRephraser, except that about 15% of its replies hand back the seed problem (verbatim, or
    behind "Solve this:") or the original solution verbatim."""

    def __init__(self, seeds: list[SeedProblem]) -> None:
        self.inner = MathRephraser(seeds, wrong_rate=0.0)
        self.copies = 0

    def __call__(self, body: dict[str, Any]) -> Reply:
        reply = self.inner(body)
        last = body["messages"][-1]["content"]
        seed = self.inner.by_problem.get(last.strip())
        question = seed is not None
        if seed is None:
            seed = next(s for q, s in self.inner.by_question.items() if q in last)
        texts = list(reply.texts)
        for i in range(len(texts)):
            if _hash(last, body.get("seed"), i) % 100 < 15:
                self.copies += 1
                if question:
                    texts[i] = ("Solve this: " if i % 2 else "") + seed.problem
                else:
                    texts[i] = seed.solution
        return Reply(texts)


def test_copies_are_rejected_and_honest_rewordings_kept(tmp_path: Path) -> None:
    seeds = _seeds(tmp_path, 60)
    copier = Copier(seeds)
    rejects: list[Reject] = []
    with FakeOpenAIServer(copier, models=["m"]) as server:
        records = list(build_dpo(seeds, base_url=server.url, contamination=False, on_reject=rejects.append))
    assert copier.copies > 20
    by_id = {s.id: s for s in seeds}
    for r in records:
        assert isinstance(r, DPORecord) and isinstance(r.prompt, str) and isinstance(r.chosen, str)
        seed = by_id[r.seed_id]
        assert " ".join(seed.problem.lower().split()) not in " ".join(r.prompt.lower().split())
        assert not question_copies_seed(seed.problem, r.prompt).copied
        assert r.chosen != r.rejected and not answer_copies_original(r.chosen, seed.solution).copied
        assert r.meta.question_similarity is not None and r.meta.answer_similarity is not None
    assert len({r.seed_id for r in records}) >= 0.6 * len(seeds)
    reasons = {r.reason for r in rejects}
    assert {"question_copies_seed", "answer_copies_original"} <= reasons


def _drop_first_number(text: str) -> str:
    return re.sub(r"\d+", "", text, count=1)


def test_solve_check_rejects_a_rephrasing_that_changed_the_answer(tmp_path: Path) -> None:
    seeds = [s for s in _seeds(tmp_path, 30) if re.search(r"\d", s.problem)][:6]
    changed = seeds[0]
    inner = MathRephraser(seeds, wrong_rate=0.0)

    def question_for(seed: SeedProblem, k: int) -> str:
        q = rephrasing(seed, k)
        return _drop_first_number(q) if seed is changed else q

    questions = {question_for(s, k): s for s in seeds for k in range(len(PREFIXES))}

    def handler(body: dict[str, Any]) -> Reply:
        n = int(body.get("n") or 1)
        last = body["messages"][-1]["content"]
        seed = inner.by_problem.get(last.strip())
        if seed is not None:  # a question request
            return Reply([question_for(seed, _hash(seed.id, body.get("seed")) + i) for i in range(n)])
        q, seed = next((q, s) for q, s in questions.items() if q in last)
        if "Reference solution" in last or seed.solution in last:  # the answer step sees the original
            return Reply(
                [f"Worked out again.\n\n{inner._answer(seed, q, body.get('seed'), i)}" for i in range(n)]
            )
        # a solve-check request: only the (possibly changed) question, solved as it reads
        right = seed is not changed
        answer = seed.gold_answer if right else f"{seed.gold_answer}+7"
        return Reply([f"Solving it directly, the answer is $\\boxed{{{answer}}}$." for _ in range(n)])

    def build(*extra: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        out = tmp_path / f"out{len(extra)}"
        path = tmp_path / "six.jsonl"
        path.write_text("".join(json.dumps(s.model_dump()) + "\n" for s in seeds), encoding="utf-8")
        with FakeOpenAIServer(handler, models=["m"]) as server:
            args = ["build-instruct", "--seeds", str(path), "--base-url", server.url, "--out", str(out)]
            args += ["--no-contamination", "--no-require-numbers", "--no-check-math", "--no-progress", *extra]
            result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return read_jsonl(out / "instruct.jsonl"), read_jsonl(out / "rejects.jsonl")

    records, _ = build()
    assert changed.id in {r["seed_id"] for r in records}  # without the check, the changed problem is kept
    records, rejects = build("--check-questions", "solve", "--solve-check-samples", "2")
    assert changed.id not in {r["seed_id"] for r in records}
    assert {r["seed_id"] for r in rejects if r["reason"] == "rephrasing_changed_answer"} == {changed.id}
    assert {r["seed_id"] for r in records} == {s.id for s in seeds[1:]}
    summary = json.loads((tmp_path / "out4" / "summary.json").read_text())
    assert summary["tokens"]["solve_check_completion"] > 0
    assert "solve" in summary["prompt_hashes"]


def test_a_check_that_overruns_its_budget_is_a_reject_and_the_rest_go_on(tmp_path: Path) -> None:
    """One answer whose check is slow for sympy (trigonometric powers against another transcendental
    gold): with a tight budget it is a ``verify_timeout`` reject; the other seeds (integer golds, checked
    at once) give their records."""
    seeds = [s for s in _seeds(tmp_path, 60) if s.gold_answer.isdigit()][:10]
    slow = seeds[3] = seeds[3].model_copy(update={"gold_answer": "\\tan(2)"})
    inner = MathRephraser(seeds, wrong_rate=0.0)

    def handler(body: dict[str, Any]) -> Reply:
        reply = inner(body)
        last = body["messages"][-1]["content"]
        if slow.problem.strip() not in last and any(rephrasing(slow, k) in last for k in range(4)):
            return Reply(["So it is $\\boxed{\\sin(1)^{20}+\\cos(1)^{20}}$." for _ in reply.texts])
        return reply

    rejects: list[Reject] = []
    with FakeOpenAIServer(handler, models=["m"]) as server:
        records = list(
            build_dpo(
                seeds, base_url=server.url, contamination=False, verify_timeout=0.03, on_reject=rejects.append
            )
        )
    timeouts = [r for r in rejects if r.reason == "verify_timeout"]
    assert timeouts and {r.seed_id for r in timeouts} == {slow.id}
    kept = {r.seed_id for r in records}
    assert slow.id not in kept and len(kept) >= 0.6 * (len(seeds) - 1)
