"""The CPU-bound stages, as they run inside a worker process.

The event loop only waits: everything here (parsing and checking rephrased questions, the contamination
gate, answer verification with sympy, building and serialising records) runs in worker processes that
:mod:`synthmath.pipeline.pool` feeds in batches. A worker builds its state (prompt steps, the
contamination checker with its benchmark index and embedding model) once, on its first batch.

Jobs are plain picklable tuples, and a batch mixes them:

- ``("gate", seed)``: is the seed problem a benchmark item?
- ``("questions", seed, result)``: parse and check the rephrasings, then gate the kept ones;
- ``("solve", seed, questions, results[, golds])``: the solve check's verdicts;
- ``("answers", seed, questions, results, flagged[, opts])``: verify every answer against the gold
  answer and build the records, serialised as JSON lines (:mod:`.answers_job`);
- ``("masks", ...)``, ``("backward", ...)``, ``("vote", ...)``: the kinds beyond rephrasing
  (:mod:`.cpu_augment`); backward questions are gated like rephrasings.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ..contamination.cache import no_collections
from ..engine.base import ChatResult
from ..records import Reject, SeedProblem
from .answers_job import answers_job
from .cpu_augment import backward_job, masks_job, vote_job
from .jobs import GateOutcome, GateSpec, QuestionOutcome, SolveOutcome, WorkerSpec, _line
from .state import KEEP_STATES, WorkerState, checkers, gate_checker

if TYPE_CHECKING:
    from ..contamination.check import CheckResult

__all__ = ["NEED_SPEC", "init_worker", "prepare_gate", "run_batch", "warm_up"]


def prepare_gate(gate: GateSpec | None, modules: bool = False) -> None:
    """A worker's first jobs, sent while the main process is still starting (:func:`.pool.prepare_workers`):
    import the gate's modules (``modules``), or build the gate's checker ahead of the build's state; then
    wait at the pool's barrier."""
    if modules:
        import scipy.sparse  # type: ignore[import-untyped]  # noqa: F401 - the embedding stage's product
        import tokenizers  # noqa: F401

        from ..contamination import check, embeddings  # noqa: F401
    if gate is not None:
        with no_collections():  # frozen before the collector runs again: see warm_up
            gate_checker(gate)
            gc.freeze()
    if _started is not None:
        _started.wait(_WARM_UP_WAIT)


_states: OrderedDict[str, WorkerState] = OrderedDict()  # by build (spec key), the most recent last
_started: Any = None  # a multiprocessing Barrier shared by the pool's workers
NEED_SPEC = "synthmath: this worker has no state for that build"  # run_batch's answer: send the spec


def init_worker(started: Any = None) -> None:
    """Process-pool initializer. The workers serve any build: each batch names its build's spec, whose
    state (prompt steps, the gate's checker) a worker builds on the first batch or warm-up that brings
    it, so that an error in it (a benchmark that cannot load) reaches the caller as an exception, not a
    broken pool. ``started``: the pool's barrier, which each worker's warm-up passes once."""
    global _started
    _states.clear()
    checkers.clear()
    _started = started
    from ..logs import configure_logging

    configure_logging()  # the gate's "building the index" lines, as the main process prints its own
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # one thread for NumPy's BLAS (the gate's similarity products), set before NumPy loads: its threads
    # spin between products, on the cores the event loop and the other workers need (1.5x the gate's CPU)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Ctrl-C and a closed terminal reach the whole process group: the parent stops the workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    parent = os.getppid()

    def orphaned() -> None:  # a parent killed with SIGKILL cannot stop its workers: they stop themselves
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=orphaned, name="synthmath-parent-watch", daemon=True).start()


def _get_state(key: str, spec: WorkerSpec | None) -> WorkerState | None:
    state = _states.get(key)
    if state is None:
        if spec is None:
            return None
        state = _states[key] = WorkerState(spec)
        while len(_states) > KEEP_STATES:
            _states.popitem(last=False)
    _states.move_to_end(key)
    return state


def warm_up(key: str, spec: WorkerSpec) -> dict[str, Any]:
    """Build the worker's state for one build now; returns what the gate is made of (stages,
    benchmarks, thresholds). Then waits at the pool's barrier until every worker has built its own, so
    that each worker takes exactly one warm-up."""
    # what a worker keeps for good (the gate's index: a million objects) is left out of the garbage
    # collector's passes: each would walk all of it, and the one at exit makes the build wait for it; it
    # is frozen before the collector runs again (the first pass after a pause walks all that came in it)
    with no_collections():
        state = _get_state(key, spec)
        assert state is not None
        info = state.gate_info()
        gc.freeze()
    if "synthmath._equivalence" not in sys.modules and not _preloading.is_set():
        _preloading.set()
        threading.Thread(target=_import_sympy, name="synthmath-preload", daemon=True).start()
    if _started is not None:
        _started.wait(_WARM_UP_WAIT)
    return info


_preloading = threading.Event()
_WARM_UP_WAIT = 600.0  # seconds a worker waits for the others (loading an embedding model, a slow disk)


def _import_sympy() -> None:
    """sympy, which only answer verification needs, loads in the background while the first requests
    are out (half a second or more that a worker need not wait for to start)."""
    from .. import answers

    answers._equivalence()
    gc.freeze()  # sympy's modules, as the state in warm_up


def run_batch(key: str, jobs: list[tuple[Any, ...]], spec: WorkerSpec | None = None) -> Any:
    """Run a batch of build ``key``'s jobs; each result is an outcome, or the exception that job raised.
    :data:`NEED_SPEC` when this worker has no state for the build and ``spec`` was not sent."""
    state = _get_state(key, spec)
    if state is None:
        return NEED_SPEC
    out: list[Any] = [None] * len(jobs)
    to_gate: list[tuple[int, int, str, str]] = []  # (job, question index or -1, id, text)
    for i, job in enumerate(jobs):
        try:
            if job[0] == "gate":
                seed: SeedProblem = job[1]
                to_gate.append((i, -1, seed.id, seed.problem))
            elif job[0] == "solve":
                out[i] = _solve(state, *job[1:])
            elif job[0] == "questions":
                outcome = _questions(state, job[1], job[2])
                out[i] = outcome
                for qi, q in enumerate(outcome.questions):
                    to_gate.append((i, qi, f"{job[1].id}/q{qi}", q))
            elif job[0] == "backward":
                outcome = backward_job(state, *job[1:])
                out[i] = outcome
                for qi, q in enumerate(outcome.questions):
                    to_gate.append((i, qi, f"{job[1].id}/{job[2]}/q{qi}", q))
            elif job[0] == "masks":
                out[i] = masks_job(state, *job[1:])
            elif job[0] == "vote":
                out[i] = vote_job(state, *job[1:])
            else:
                out[i] = answers_job(state, *job[1:])
        except Exception as e:  # one bad job must not sink the batch
            out[i] = e
    if to_gate:
        _gate(state, jobs, out, to_gate)
    return out


def _questions(state: WorkerState, seed: SeedProblem, result: ChatResult) -> QuestionOutcome:
    questions, rejects = state.question_step.parse(seed, result)
    return QuestionOutcome(
        questions=questions,
        rejects=[_line(r) for r in rejects],
        reasons=[r.reason for r in rejects],
        candidates=max(len(result.choices), state.question_step.k),  # each one asked for: kept or rejected
        flagged=[False] * len(questions),
    )


def _gate(
    state: WorkerState, jobs: list[tuple[Any, ...]], out: list[Any], texts: list[tuple[int, int, str, str]]
) -> None:
    checker = state.checker
    if checker is None:
        for i, qi, _, _ in texts:
            if qi < 0:
                out[i] = GateOutcome(contaminated=False, check={})
        return
    mode = state.spec.gate.mode if state.spec.gate is not None else "drop"
    results = list(checker.check((tid, text) for _, _, tid, text in texts))
    dropped: dict[int, set[int]] = {}
    for (i, qi, _, text), result in zip(texts, results, strict=True):
        if isinstance(out[i], Exception):
            continue
        row = result.to_json_dict()
        if qi < 0:
            out[i] = GateOutcome(result.contaminated, {**row, "kind": "seed"}, _detail(result))
            continue
        outcome: QuestionOutcome = out[i]
        outcome.checks.append({**row, "kind": "question"})
        if not result.contaminated:
            continue
        outcome.contaminated += 1
        if mode == "flag":
            outcome.flagged[qi] = True
            continue
        seed: SeedProblem = jobs[i][1]
        reject = Reject(
            seed_id=seed.id,
            stage="contamination",
            reason="contaminated_question",
            detail=_detail(result),
            question=text,
            extra={"matches": row["matches"]},
        )
        outcome.rejects.append(_line(reject))
        outcome.reasons.append(reject.reason)
        dropped.setdefault(i, set()).add(qi)
    for i, gone in dropped.items():
        o: QuestionOutcome = out[i]
        o.keep([qi for qi in range(len(o.questions)) if qi not in gone])


def _detail(result: CheckResult) -> str:
    if not result.matches:
        return ""
    m = result.matches[0]
    return f"matches {m.benchmark} item {m.benchmark_id} ({m.method}, score {m.score})"


def _solve(
    state: WorkerState,
    seed: SeedProblem,
    questions: list[str],
    results: list[ChatResult],
    golds: list[str] | None = None,
    kind: str | None = None,
) -> SolveOutcome:
    """The solve check's verdict on each question: the ones whose solutions reach the gold are kept.
    ``golds`` are the backward questions' masked numbers: a question none recover is rejected as
    ``masked_number_not_recovered`` (the number is not determined by the problem and the answer)."""
    out = SolveOutcome(kept=[], rejects=[], reasons=[])
    for qi, (question, result) in enumerate(zip(questions, results, strict=True)):
        target = seed if not golds else seed.model_copy(update={"gold_answer": golds[qi]})
        _, reject = state.solve_check.parse(target, question, result, timeout=state.spec.verify_timeout)
        if reject is not None and golds and reject.reason == "rephrasing_changed_answer":
            reject = reject.model_copy(update={"reason": "masked_number_not_recovered"})
        if reject is not None and kind is not None:
            reject.extra["kind"] = kind
        if reject is None:
            out.kept.append(qi)
        else:
            out.rejects.append(_line(reject))
            out.reasons.append(reject.reason)
    return out
