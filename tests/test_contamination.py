"""The contamination check: stages on real benchmark files, the CLI, the build gate and the judge."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthmath.contamination.benchmarks import load_benchmarks
from synthmath.contamination.check import CheckerSpec, ContaminationChecker, Thresholds, report_markdown
from synthmath.contamination.decide import kept_math
from synthmath.contamination.judge import LLMJudge, judge_requests, resolve, verdict
from synthmath.contamination.mathsig import compare, math_profile, surely_replaced
from synthmath.contamination.ngrams import normalize_tokens
from synthmath.contamination.wording import wording_changed
from synthmath.engine.base import ChatRequest
from synthmath.engine.openai_server import OpenAIServerEngine
from synthmath.records import SeedProblem
from synthmath.testing import FakeOpenAIServer, Reply

from .conftest import DATA, MATH_TRAIN, invoke, need_data, read_jsonl
from .fakes import MathRephraser, rewritten_solution

GSM8K_TEST = DATA / "gsm8k" / "test.jsonl"
GSM8K_TRAIN = DATA / "gsm8k" / "train.jsonl"
MATH_TEST = DATA / "math" / "MATH_test.jsonl"
MATH500 = DATA / "math" / "math500_test.jsonl"
REPHRASED = (
    Path(__file__).resolve().parent.parent / "benchmarks" / "contamination" / "gsm8k_test_rephrased.jsonl"
)
FILLER = ["alpha", "beta", "gamma", "delta", "kappa", "omega", "zeta", "sigma"]
CLEAN_WORDS = ["river", "maple", "seven", "quartz", "lantern", "orbit", "velvet", "ember", "42", "3.5"]
HAS_EMBED = importlib.util.find_spec("sentence_transformers") is not None


@pytest.fixture(scope="module")
def lexical(tmp_path_factory: pytest.TempPathFactory) -> ContaminationChecker:
    """Exact and n-gram stages over GSM8K test and MATH-500."""
    need_data()
    benches = load_benchmarks([f"gsm8k_test={GSM8K_TEST}", f"math500={MATH500}"])
    return ContaminationChecker(benches, cache_dir=tmp_path_factory.mktemp("index"))


def test_number_words_and_markup_normalise_alike() -> None:
    words = ["she", "sold", "25", "apples", "for", "1000.5", "and", "kept", "a", "12"]
    assert normalize_tokens("She sold twenty-five apples for $1,000.50 and kept a dozen.") == words
    assert normalize_tokens(r"Find $\dfrac{1}{2}\left(x\right)$") == normalize_tokens(r"find \frac{1}{2}(x)")
    assert normalize_tokens("one thousand nine hundred twenty") == ["1920"]
    assert normalize_tokens("two three-bedroom flats") == ["2", "3", "bedroom", "flats"]
    assert normalize_tokens("fifty thousand or two thirds of x squared") == [
        "50000",
        "or",
        "2",
        "3",
        "of",
        "x",
        "2",
    ]
    assert normalize_tokens("the square root of the fourth power") == [
        "the",
        "sqrt",
        "of",
        "the",
        "4",
        "power",
    ]
    assert normalize_tokens("one third on the third day") == ["1", "3", "on", "the", "third", "day"]
    # decimals said in words, one digit a word after "point"; a point of a figure stays a word
    assert normalize_tokens("ten point three cubed") == normalize_tokens("$10.3$ cubed") == ["10.3", "3"]
    assert normalize_tokens("zero point zero five and two point zero") == ["0.05", "and", "2"]
    assert normalize_tokens("ten point three zero") == normalize_tokens("$10.30$") == ["10.3"]
    assert normalize_tokens("the point one unit from point $P$") == [
        "the",
        "point",
        "1",
        "unit",
        "from",
        "point",
        "p",
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_copied_benchmark_ngram_is_always_flagged(
    lexical: ContaminationChecker, data: st.DataObject
) -> None:
    """20+ consecutive words of an item's wording, wrapped in other text, are caught by an n-gram stage."""
    # diagram code ([asy]...[/asy]) is left out of the n-grams on purpose: copy the wording
    prose = {it.id: re.sub(r"\[asy\].*?\[/asy\]", " ", it.text, flags=re.S).split() for it in lexical.items}
    item = data.draw(st.sampled_from([it for it in lexical.items if len(prose[it.id]) >= 20]))
    words = prose[item.id]
    start = data.draw(st.integers(0, len(words) - 20))
    span = " ".join(words[start : start + data.draw(st.integers(20, min(40, len(words) - start)))])
    filler = st.lists(st.sampled_from(FILLER), max_size=12)
    text = " ".join(data.draw(filler)) + " " + span + " " + " ".join(data.draw(filler))
    [result] = list(lexical.check([("t", text)]))
    assert any(m.benchmark_id == item.id and m.method.startswith("ngram") for m in result.matches), span


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(CLEAN_WORDS), max_size=80))
def test_unrelated_text_is_not_flagged(lexical: ContaminationChecker, words: list[str]) -> None:
    [result] = list(lexical.check([("t", " ".join(words))]))
    assert not result.contaminated, result.matches


def test_a_text_without_words_or_numbers_matches_nothing(tmp_path: Path) -> None:
    """Diagram code alone normalises to nothing: it is not an exact copy of an item that does too."""
    bench = tmp_path / "bench.jsonl"
    rows = [
        {"id": "d", "problem": "[asy]draw((0,0)--(1,1));[/asy]"},
        {"id": "w", "problem": "Find $x$ if $2x=8$."},
    ]
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows))
    checker = ContaminationChecker(load_benchmarks([f"mine={bench}"]), cache_dir=tmp_path / "index")
    results = list(checker.check([("a", "[asy]draw((0,0)--(2,2));[/asy]"), ("b", "Find $x$ if $2x = 8$.")]))
    assert [r.contaminated for r in results] == [False, True]
    assert results[1].matches[0].method == "exact"


def test_brackets_moved_or_math_added_in_a_copy_make_another_problem(tmp_path: Path) -> None:
    """The very same words and numbers, grouped otherwise, or the same words asking for more math:
    the words do not show it, the math does."""
    bench = tmp_path / "bench.jsonl"
    rows = [
        {"id": "order", "problem": r"Evaluate $12-8\div(3+1)\times 2$."},
        {"id": "interval", "problem": r"How many integers $n$ satisfy $n^2 \in [4, 49)$?"},
        {"id": "ask", "problem": r"The real numbers $p$ and $q$ satisfy $p+q=9$ and $pq=14$. Find $p-q$."},
    ]
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows))
    checker = ContaminationChecker(load_benchmarks([f"mine={bench}"]), cache_dir=tmp_path / "index")
    texts = [
        ("copy", r"Evaluate $12 - 8 \div \left(3+1\right) \times 2$."),
        ("said", r"The real numbers $p$ and $q$ satisfy $p+q=9$ and $pq=14$. Find p minus q."),
        ("regrouped", r"Evaluate $12-8\div 3+1\times 2$."),
        ("closed", r"How many integers $n$ satisfy $n^2 \in [4, 49]$?"),
        ("squares", r"The real numbers $p$ and $q$ satisfy $p+q=9$ and $pq=14$. Find $p^2-q^2$."),
    ]
    results = list(checker.check(texts))
    assert [r.contaminated for r in results] == [True, True, False, False, False]
    assert {r.level for r in results[2:]} == {"same_template"}


def test_counts_on_real_train_sets_are_stable(tmp_path: Path) -> None:
    """GSM8K and MATH train against their test sets: the same counts from a fresh index, a cached index
    and another batch size."""
    need_data()
    texts = [(f"g{i}", r["question"]) for i, r in enumerate(read_jsonl(GSM8K_TRAIN)[:3000])]
    texts += [(r["id"], r["problem"]) for r in read_jsonl(MATH_TRAIN)[:3000]]
    specs = [f"gsm8k_test={GSM8K_TEST}", f"math_test={MATH_TEST}"]
    runs = []
    for batch_size in (256, 256, 97):
        checker = ContaminationChecker(load_benchmarks(specs), cache_dir=tmp_path)
        flagged = {
            r.id: sorted((m.benchmark_id, m.method) for m in r.matches)
            for r in checker.check(texts, batch_size)
            if r.contaminated
        }
        report = checker.report()
        runs.append((flagged, report["found"], report["levels"]))
    assert runs[0] == runs[1] == runs[2]
    assert len(list(tmp_path.glob("ngrams-*.pkl"))) == 1
    flagged = runs[0][0]
    # MATH train holds copies and rewordings of MATH test items (1.6% to 14% by published LLM-judged
    # checks), and many more template siblings (the same wording, other math), which are kept; GSM8K
    # train almost none of either
    math_share = sum(not k.startswith("g") for k in flagged) / 3000
    assert 0.003 < math_share < 0.03
    assert runs[0][2]["math_test"]["same_template"] > 2 * runs[0][2]["math_test"]["same_problem"]
    assert sum(k.startswith("g") for k in flagged) < 0.002 * 3000


@pytest.mark.skipif(not HAS_EMBED, reason="needs synthmath[embed]")
def test_embedding_stage_catches_rephrasings_on_real_data(tmp_path: Path) -> None:
    """Rephrased GSM8K test items are caught, GSM8K train items are not (the n-gram stages miss both)."""
    need_data()
    from synthmath.contamination.embeddings import load_model

    checker = ContaminationChecker(
        load_benchmarks([f"gsm8k_test={GSM8K_TEST}"]), embedder=load_model(), cache_dir=tmp_path
    )
    # rewordings of all styles, and every one that moves a problem to a new setting (same numbers,
    # new people, objects and story: the hardest style for the embedding model)
    rows = read_jsonl(REPHRASED)[:60]
    for name in ("gsm8k_test_heldout2", "gsm8k_test_heldout3", "gsm8k_test_heldout4"):
        rows += [r for r in read_jsonl(REPHRASED.with_name(f"{name}.jsonl")) if r["style"] == "recontext"]
    positives = [(r["id"], r["question"]) for r in rows]
    negatives = [(f"train/{i}", r["question"]) for i, r in enumerate(read_jsonl(GSM8K_TRAIN)[:800])]
    caught = [r for r in checker.check(positives) if r.contaminated]
    false = [r for r in checker.check(negatives) if r.contaminated]
    assert len(rows) > 150
    assert len(caught) >= 0.95 * len(positives)
    assert len(false) <= 0.02 * len(negatives)
    assert all(any(m.method == "embedding" for m in r.matches) for r in caught if r.matches)
    source = {r["id"]: str(r["source_line"] - 1) for r in rows}
    right = [r for r in caught if r.matches[0].benchmark_id == source[r.id]]
    assert len(right) >= 0.95 * len(caught)  # the match names the item that was rephrased


def test_check_contamination_cli(tmp_path: Path) -> None:
    need_data()
    items = read_jsonl(GSM8K_TEST)
    rows = [
        {"id": "copy", "question": "Quick one: " + items[5]["question"]},
        {"id": "clean", "question": "A farmer plants 17 rows of 23 cabbages. How many cabbages are planted?"},
        {"id": "chat", "prompt": [{"role": "user", "content": items[9]["question"]}]},
    ]
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    args = ["check-contamination", data, "--out", out, "--benchmark", f"gsm8k_test={GSM8K_TEST}"]
    args += ["--no-embeddings", "--cache-dir", tmp_path / "cache", "--no-progress"]
    code, output = invoke(*args)
    assert code == 0, output
    assert "2 of 3 records match" in output
    results = {r["id"]: r for r in read_jsonl(out / "contamination.jsonl")}
    assert set(results) == {"copy", "clean", "chat"}
    assert results["copy"]["contaminated"] and not results["clean"]["contaminated"]
    assert {m["method"] for m in results["copy"]["matches"]} == {"ngram13", "ngram8"}
    assert results["chat"]["matches"][0] == {
        "benchmark": "gsm8k_test",
        "benchmark_id": "9",
        "method": "exact",
        "score": 1.0,
        "level": "same_problem",
    }
    assert results["chat"]["level"] == "same_problem"
    report = json.loads((out / "contamination_report.json").read_text())
    assert report["checked"] == 3 and report["contaminated"] == 2
    assert report["found"]["gsm8k_test"]["exact"] == 1 and report["found"]["gsm8k_test"]["ngram13"] == 2
    assert "| gsm8k_test |" in (out / "contamination_report.md").read_text()

    code, output = invoke(*args, "--fail-on-match")
    assert code == 1


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"question": "no id here"}, "no 'id' field"),
        ({"id": "x", "answer": "42"}, "name the text field with --field"),
    ],
)
def test_check_contamination_bad_input(tmp_path: Path, row: dict[str, Any], message: str) -> None:
    need_data()
    data = tmp_path / "records.jsonl"
    data.write_text(json.dumps(row) + "\n")
    # the input is checked first, before any benchmark or model loads (this benchmark does not exist)
    args = ["check-contamination", data, "--out", tmp_path / "o", "--benchmark", "mmlu"]
    code, output = invoke(*args, "--no-progress")
    assert code != 0 and message in output and f"{data}:1" in output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1


def test_unknown_benchmark_and_missing_file_are_one_line_errors(tmp_path: Path) -> None:
    data = tmp_path / "r.jsonl"
    data.write_text('{"id": "a", "question": "q"}\n')
    code, output = invoke("check-contamination", data, "--out", tmp_path / "o", "--benchmark", "mmlu")
    assert code != 0 and "unknown benchmark 'mmlu'" in output and len(output.strip().splitlines()) == 1
    code, output = invoke(
        "check-contamination", data, "--out", tmp_path / "o", "--benchmark", "x=/nope.jsonl"
    )
    assert code != 0 and "/nope.jsonl" in output and len(output.strip().splitlines()) == 1


@pytest.fixture
def seeds_with_a_test_item(tmp_path: Path, math_seeds_file: Path) -> tuple[Path, Path, str]:
    """Seeds whose first problem also appears, reworded by the fake server, in a small 'benchmark'."""
    seeds = read_jsonl(math_seeds_file)[:6]
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"id": "leaked", "problem": seeds[0]["problem"]}) + "\n")
    path = tmp_path / "seeds6.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in seeds))
    return path, bench, seeds[0]["id"]


@pytest.mark.parametrize("mode", ["drop", "flag", "fail"])
def test_build_gate(
    tmp_path: Path, seeds_with_a_test_item: tuple[Path, Path, str], math_seeds: list[SeedProblem], mode: str
) -> None:
    seeds_path, bench, leaked_seed = seeds_with_a_test_item
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as server:
        out = tmp_path / mode
        code, output = invoke(
            "build-instruct", "--seeds", seeds_path, "--base-url", server.url, "--out", out, "--no-progress",
            "--benchmark", f"mine={bench}", "--no-embeddings", "--on-contamination", mode,
        )  # fmt: skip
    if mode == "fail":  # stops at the first match, before any request for it
        assert code == 1 and leaked_seed in output and "mine item" in output
        assert not (out / "summary.json").exists()
        assert json.loads((out / "summary.json.partial").read_text())["finished"] is False
        return
    assert code == 0, output
    records = read_jsonl(out / "instruct.jsonl")
    rejects = [r for r in read_jsonl(out / "rejects.jsonl") if r["stage"] == "contamination"]
    summary = json.loads((out / "summary.json").read_text())
    gate = summary["contamination"]
    assert gate["seeds_contaminated"] == 1 and gate["seeds_checked"] == summary["seeds"]["processed"]
    rows = read_jsonl(out / "contamination.jsonl")
    assert [r["id"] for r in rows if r["kind"] == "seed" and r["contaminated"]] == [leaked_seed]
    assert sum(r["kind"] == "question" for r in rows) == gate["questions_checked"] > 0
    if mode == "drop":
        assert all(r["seed_id"] != leaked_seed for r in records)
        seed_rejects = [r for r in rejects if r["reason"] == "contaminated_seed"]
        assert [r["seed_id"] for r in seed_rejects] == [leaked_seed]
        assert "mine item leaked" in seed_rejects[0]["detail"]
        assert summary["seeds"]["contaminated"] == 1
    else:
        assert not rejects
        assert {r["seed_id"] for r in records if r["contaminated"]} == {leaked_seed}
        assert summary["records"] == len(records)
    assert re.search(r"\| mine \| \d+ \|", (out / "contamination_report.md").read_text())


def test_a_gate_that_cannot_be_built_stops_the_build_before_any_request(
    tmp_path: Path, seeds_with_a_test_item: tuple[Path, Path, str], math_seeds: list[SeedProblem]
) -> None:
    """The workers build the checker while the engine starts; an error in it still ends the build, in
    one line, before any request is sent."""
    seeds_path, bench, _ = seeds_with_a_test_item
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"contamination_cache: {blocked / 'index'}\n")
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as server:
        code, output = invoke(
            "build-instruct", "--config", cfg, "--seeds", seeds_path, "--base-url", server.url,
            "--out", tmp_path / "out", "--no-progress", "--benchmark", f"mine={bench}", "--no-embeddings",
        )  # fmt: skip
    assert code == 1 and "Not a directory" in output and str(blocked) in output
    assert server.requests == []


def test_merge_joins_the_shards_contamination_files(
    tmp_path: Path, seeds_with_a_test_item: tuple[Path, Path, str], math_seeds: list[SeedProblem]
) -> None:
    seeds_path, bench, leaked_seed = seeds_with_a_test_item
    with FakeOpenAIServer(MathRephraser(math_seeds), models=["m"]) as server:
        for i in range(2):
            code, output = invoke(
                "build-dpo", "--seeds", seeds_path, "--base-url", server.url, "--no-progress",
                "--shard", f"{i}/2", "--out", tmp_path / f"s{i}",
                "--benchmark", f"mine={bench}", "--no-embeddings",
            )  # fmt: skip
            assert code == 0, output
    code, output = invoke("merge", tmp_path / "s0", tmp_path / "s1", "--out", tmp_path / "all")
    assert code == 0, output
    summary = json.loads((tmp_path / "all" / "summary.json").read_text())
    rows = read_jsonl(tmp_path / "all" / "contamination.jsonl")
    assert sum(r["kind"] == "seed" for r in rows) == summary["contamination"]["seeds_checked"] == 6
    assert summary["contamination"]["seeds_contaminated"] == 1
    assert summary["contamination"]["benchmarks"] == {"mine": 1}
    report = json.loads((tmp_path / "all" / "contamination_report.json").read_text())
    assert report["seeds_checked"] + report["questions_checked"] == len(rows)
    assert [r["id"] for r in rows if r["kind"] == "seed" and r["contaminated"]] == [leaked_seed]


@pytest.mark.skipif(not HAS_EMBED, reason="needs synthmath[embed]")
def test_build_gate_with_the_judge(
    tmp_path: Path, math_seeds_file: Path, math_seeds: list[SeedProblem]
) -> None:
    """The judge sees the embedding stage's near misses, in both orders, through the build's server."""
    seeds = read_jsonl(math_seeds_file)[:6]
    assert seeds[3]["problem"].startswith("What is the sum of $1+2+4+8+16+")
    bench = tmp_path / "bench.jsonl"
    # a sibling with other numbers, which the checker cannot settle alone: the (fake) judge decides
    item = "Find the value of the sum $1 + 3 + 9 + 27 + \\cdots + 729$."
    bench.write_text(json.dumps({"id": "geometric", "problem": item}) + "\n")
    seeds_path = tmp_path / "seeds.jsonl"
    seeds_path.write_text("".join(json.dumps(s) + "\n" for s in seeds))
    rephraser = MathRephraser(math_seeds)
    judged: list[str] = []
    # honest rewordings of the geometric-sum seed, close enough in meaning for the embedding stage
    series = seeds[3]["problem"].split("$")[1]
    honest = [f"Compute the total ${series}$.", f"Find the value of ${series}$.", f"Evaluate ${series}$."]
    geometric = next(s for s in math_seeds if s.id == seeds[3]["id"])

    def handler(request: dict[str, Any]) -> Reply | str:
        n = int(request.get("n") or 1)
        last = request["messages"][-1]["content"]
        if "same problem, same template, different" in request["messages"][0]["content"]:
            judged.append(last)
            # right about the pair it was written for (the item and the geometric sum), "different" else
            pair = "729" in last and "1+2+4+8+16" in last.replace(" ", "")
            return Reply(["same problem" if pair else "different"])
        if any(q in last for q in honest):
            return Reply([rewritten_solution(geometric, i) for i in range(n)])
        if last.strip() == geometric.problem.strip():
            return Reply(honest[:n])
        return rephraser(request)

    with FakeOpenAIServer(handler, models=["m"]) as server:
        code, output = invoke(
            "build-instruct", "--seeds", seeds_path, "--base-url", server.url, "--out", tmp_path / "o",
            "--no-progress", "--benchmark", f"mine={bench}", "--judge",
        )  # fmt: skip
    assert code == 0, output
    rows = read_jsonl(tmp_path / "o" / "contamination.jsonl")
    judged_rows = [r for r in rows if any(m["method"] == "judge" for m in r["matches"])]
    assert judged_rows and all(r["contaminated"] for r in judged_rows)
    assert {r["id"] for r in judged_rows if r["kind"] == "seed"} == {seeds[3]["id"]}
    assert judged and len(judged) % 2 == 0  # each pair asked twice
    firsts = [t.split("Problem B:")[0] for t in judged if "729" in t]
    assert any("729" in f for f in firsts) and any("729" not in f for f in firsts)  # both orders
    rejects = [r for r in read_jsonl(tmp_path / "o" / "rejects.jsonl") if r["stage"] == "contamination"]
    assert {r["seed_id"] for r in rejects} == {seeds[3]["id"]}


# --- math-aware levels: rewordings are the same problem, template siblings are not ---------------------

MATH_REPHRASED = REPHRASED.with_name("math_test_rephrased.jsonl")


def _other_numbers(text: str, shift: int) -> str:
    """``text`` with every number outside diagram code changed (a template sibling)."""
    parts = re.split(r"(\[asy\].*?\[/asy\])", text, flags=re.S)
    return "".join(
        p
        if p.startswith("[asy]")
        else re.sub(r"(?<![\\a-zA-Z])\d+", lambda m: str(int(m.group()) + shift), p)
        for p in parts
    )


@pytest.fixture(scope="module")
def math_items() -> dict[str, str]:
    need_data()
    return {r["id"]: r["problem"] for r in read_jsonl(MATH_TEST)}


@pytest.fixture(scope="module")
def small_math(math_items: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A benchmark of 120 real MATH test items: the sources of 40 hand-written rewordings and 80 others."""
    sources = [r["source_id"] for r in read_jsonl(MATH_REPHRASED)[:40]]
    others = [i for i in list(math_items)[::41] if i not in sources][:80]
    path = tmp_path_factory.mktemp("bench") / "math_small.jsonl"
    path.write_text("".join(json.dumps({"id": i, "problem": math_items[i]}) + "\n" for i in sources + others))
    return path


def test_the_issues_template_siblings_are_not_the_same_problem() -> None:
    a = math_profile("Find the largest value of $x$ that satisfies the equation $|x-5|=12$.")
    b = math_profile("Find the largest value of $x$ that satisfies the equation $|5x-1|=x+3$.")
    assert not compare(a, b).same_math and not compare(b, a).same_math
    reworded = math_profile(r"What is the biggest $x$ with $\left| x - 5 \right| = 12$?")
    assert compare(reworded, a).same_math
    smallest = math_profile("Find the smallest value of $x$ that satisfies the equation $|x-5|=12$.")
    assert compare(smallest, a).ask_conflict and not compare(smallest, a).same_math


def test_math_in_words_keeps_the_math() -> None:
    item = math_profile(r"Compute $\dfrac{3}{4} + \sqrt{49}$, and round to the nearest hundredth.")
    words = math_profile(
        "Add three quarters to the square root of forty-nine; round to the nearest hundredth."
    )
    assert compare(words, item).same_math
    other = math_profile("Add three quarters to the square root of fifty; round to the nearest hundredth.")
    assert not compare(other, item).same_math


@pytest.mark.parametrize(
    ("one", "other", "sibling"),
    [
        (r"$\cos^{-1}\!\left(-1/\sqrt{2}\right)$", r"$\arccos \left(-\frac{1}{\sqrt{2}}\right)$",
         r"$\arcsin \left(-\frac{1}{\sqrt{2}}\right)$"),
        (r"$n \equiv 7 \ (\mathrm{mod}\ 18)$", r"$n\equiv 7\pmod{18}$", r"$n\equiv 7\pmod{19}$"),
        (r"$\hat\imath\times(\vec v-\hat\jmath)=\vec 0$", r"$\mathbf{i}\times(\mathbf{v}-\mathbf{j}) = 0$",
         r"$\mathbf{i}\times(\mathbf{v}+\mathbf{j}) = 0$"),
        (r"$a \div b = 3$", r"$a / b = 3$", r"$a \times b = 3$"),
        (r"$p^{-1}+q^{-1}=1$", r"$\frac{1}{p} + \frac{1}{q} = 1$", r"$\frac{1}{p} - \frac{1}{q} = 1$"),
        # words inside the math are prose ("if"); a domain in symbols is one said in words
        (r"$g(t)=\left\{\begin{array}{l} t+4 & \text{if } t<2, \\ 3t & \text{if } t\geq 2\end{array}\right.$",
         r"$g(t)=\begin{cases} t+4, & t<2,\\ 3t, & t\geq 2\end{cases}$",
         r"$g(t)=\begin{cases} t+4, & t<2,\\ 5t, & t\geq 2\end{cases}$"),
        (r"Let $m,n\in\mathbb{Z}$ with $m^2-n^2=15$.", r"Let $m$ and $n$ be integers with $m^2-n^2=15$.",
         r"Let $m$ and $n$ be integers with $m^2-n^2=17$."),
        # one relation written either way round; turned with its sides, a relation stays itself
        (r"Solve $14 = (2x+5)\cdot(x-3)$.", r"Solve $(2x+5)(x-3)=14$.", r"Solve $(2x+5)(x-3)=15$."),
        (r"The greatest integer with $-9 < 6 - x$.", r"The greatest integer with $6-x>-9$.",
         r"The greatest integer with $6-x<-9$."),
    ],
)  # fmt: skip
def test_one_notation_for_one_thing(one: str, other: str, sibling: str) -> None:
    a, b, c = math_profile(one), math_profile(other), math_profile(sibling)
    assert compare(a, b).same_math and compare(b, a).same_math
    assert not compare(c, b).same_math and not compare(a, c).same_math  # another function, number, sign


@pytest.mark.parametrize(
    ("item", "text", "same"),
    [
        (r"Let $f(x)=x^2+3x-5$. Find $f(2)$.", r"Let $g(t)=t^2+3t-5$. Find $g(2)$.", True),
        (r"In triangle $ABC$, $AB=5$, $BC=7$ and $\angle B=60^\circ$. Find $AC$.",
         r"In triangle $PQR$, $PQ=5$, $QR=7$ and $\angle Q=60^\circ$. Find $PR$.", True),
        # a letter renamed in one place but not in another, or two letters made one: no renaming
        (r"Let $f(x)=x^2+3x-5$. Find $f(2)$.", r"Let $g(t)=t^2+3x-5$. Find $g(2)$.", False),
        (r"If $a+b+c=10$ and $a-b=2$, find $c$.", r"If $x+y+y=10$ and $x-y=2$, find $y$.", False),
        (r"If $a+b+c=10$ and $a-b=2$, find $c$.", r"If $a+b+c=10$ and $a-b=2$, find $b$.", False),
        # renamed, and a number changed: still another problem
        (r"Let $f(x)=x^2+3x-5$. Find $f(2)$.", r"Let $g(t)=t^2+3t-5$. Find $g(4)$.", False),
        # renamed, with a little of the LaTeX said otherwise: a condition in symbols for words, the
        # terms of the asked sum in another order, a count said in words
        (r"Let $k=\frac{3}{2+5x}$, where $x$ is an integer greater than $1$. Find $k$ when $x=3$.",
         r"Let $m=\frac{3}{2+5n}$ for an integer $n>1$. Find $m$ when $n=3$.", True),
        (r"Find $p+q$, given that $(q+6)(p+2)-(q+1)(p+5)=35$.",
         r"Given that $(a+6)(b+2)-(a+1)(b+5)=35$, find $a+b$.", True),
        (r"Two reals $x$ and $y$ satisfy $x+y=9$ and $x^3+y^3=243$. Compute $xy$.",
         r"Real numbers $p$ and $q$ satisfy $p+q=9$ and $p^3+q^3=243$. Find $pq$.", True),
        # renamed, and an operator or a number changed: another problem
        (r"Find $p+q$, given that $(q+6)(p+2)-(q+1)(p+5)=35$.",
         r"Given that $(a+6)(b+2)+(a+1)(b+5)=35$, find $a+b$.", False),
        (r"Two reals $x$ and $y$ satisfy $x+y=9$ and $x^3+y^3=243$. Compute $xy$.",
         r"Real numbers $p$ and $q$ satisfy $p+q=9$ and $p^3+q^3=189$. Find $pq$.", False),
    ],
)  # fmt: skip
def test_letters_renamed_one_for_one_keep_the_math(item: str, text: str, same: bool) -> None:
    assert compare(math_profile(text), math_profile(item)).same_math is same


def test_the_cheap_test_of_a_replacement_never_says_more_than_the_comparison(
    math_items: dict[str, str],
) -> None:
    """``surely_replaced`` spares the nearest rule a whole comparison only where it would find
    something replaced too (pairs of MATH test items, and each item against a rewording of itself)."""
    texts = list(math_items.values())[::23][:120]
    profiles = [math_profile(t) for t in texts] + [math_profile(t.replace("$", " $ ")) for t in texts[:40]]
    sure = 0
    for k, a in enumerate(profiles):
        for b in profiles[k + 1 : k + 30]:
            if surely_replaced(a, b):
                sure += 1
                assert compare(a, b).replaced
    assert sure >= 500  # the test does spare comparisons


def test_latex_thousands_are_one_number() -> None:
    item = math_profile(r"It costs $\$10,\!000$ to install and $\$650$ a year; it saves $\$1{,}200$ a year.")
    words = math_profile(
        "Installing it costs 10,000 dollars, upkeep is 650 dollars a year, savings 1200 a year."
    )
    assert set(item.numbers) == {"10000", "650", "1200"}
    assert compare(words, item).same_math


@pytest.mark.parametrize(
    ("item", "text", "same"),
    [
        (r"In isosceles $\triangle PQR$ with $PQ = PR$, the altitude $PH = 18$ and $QH = 5$. Find the area of"
         r" $\triangle PQR$.",
         r"In the isosceles triangle $PQR$ with $PQ = PR$, the altitude $PH$ measures $18$ and $QH = 5$. What"
         r" is the area of the triangle $PQR$ with apex $P$?",
         True),  # a relation said in words, a triangle named in words, a point named once more
        ("A sequence has $20$ terms, and each term after the first is 3 larger than the one before. The sum"
         " of the $20$ terms is $650$. Find the first term.",
         "A sequence of $20$ terms, each $3$ larger than the term before it, has the sum $650$. Find its"
         " first term.", True),  # a number moved into the LaTeX, another written once less
        (r"The graph of $y = a \sin (bx + c)$ is shown for positive $a,$ $b,$ $c.$ Find $b.$",
         r"The graph of $y = a \sin (bx + c)$ is shown for positive $a,$ $b,$ $c.$ Find $c.$",
         False),  # another letter asked for
    ],
)  # fmt: skip
def test_names_and_relations_said_in_words_keep_the_math(item: str, text: str, same: bool) -> None:
    agreement = compare(math_profile(text), math_profile(item))
    assert agreement.replaced is not same


@pytest.mark.parametrize(
    ("item", "text", "same"),
    [
        ("A 6-foot man casts a shadow 4 feet long. How long is the shadow of a 21-foot pole?",
         "A man 72 inches tall has a shadow 4 feet long. How long, in feet, is the shadow of a 21-foot pole?",
         True),  # 6 feet stated as 72 inches
        ("A square tile has sides of 25 cm. What is the area of 8 tiles in square centimeters?",
         "A square tile has sides of 250 mm. What is the area of 8 tiles in square centimeters?", True),
        ("A tank holds 3 liters of water and loses 40 milliliters each hour. When is it empty?",
         "A tank holds 3000 milliliters of water and loses 40 milliliters each hour. When is it empty?",
         True),
        ("A square tile has sides of 25 cm. What is the area of 8 tiles in square centimeters?",
         "A square tile has sides of 35 cm. What is the area of 8 tiles in square centimeters?",
         False),  # another number in the same unit: a sibling
        ("A square tile has sides of 25 cm. What is the area of 8 tiles in square centimeters?",
         "A square tile has sides of 350 mm. What is the area of 8 tiles in square centimeters?",
         False),  # another unit, but not the same length
        (r"In $\triangle PQR$, $\angle P = 72^\circ$ and $\angle Q = 36^\circ$. Find $\angle R$.",
         r"In $\triangle PQR$, $\angle P = \frac{2\pi}{5}$ and $\angle Q = \frac{\pi}{5}$. Find $\angle R$.",
         True),  # angles in radians
        ("Each acute angle of a rhombus measures 50 degrees. How large is each obtuse angle?",
         r"Each acute angle of a rhombus measures $5\pi/18$ radians. How large is each obtuse angle?", True),
        (r"In $\triangle PQR$, $\angle P = 72^\circ$ and $\angle Q = 36^\circ$. Find $\angle R$.",
         r"In $\triangle PQR$, $\angle P = \frac{2\pi}{5}$ and $\angle Q = \frac{\pi}{6}$. Find $\angle R$.",
         False),  # 30 degrees, not 36
        # amounts in words and fractions, and units exchanged both ways in one text
        ("A pump fills 3 buckets in 20 minutes. How many buckets does it fill in 4 hours?",
         "Working for a third of an hour, a pump fills 3 buckets. At that rate, how many buckets does it fill"
         " in 240 minutes?", True),
        ("A rope 9 feet long is cut into pieces 6 inches long. How many pieces are there?",
         "How many pieces, each half a foot long, can a rope of 108 inches be cut into?", True),
        ("A snail crawls 2 meters in 90 seconds. How far does it crawl in 6 minutes?",
         "A snail crawls 2 meters in one and a half minutes. How far does it crawl in 360 seconds?", True),
        ("A pump fills 3 buckets in 20 minutes. How many buckets does it fill in 4 hours?",
         "Working for a quarter of an hour, a pump fills 3 buckets. At that rate, how many buckets does it"
         " fill in 240 minutes?", False),  # 15 minutes, not 20
        ("A rope 9 feet long is cut into pieces 6 inches long. How many pieces are there?",
         "How many pieces, each half a foot long, can a rope of 120 inches be cut into?", False),  # 10 feet
        # rates, amounts in two units, money written before its number, months and years
        ("A car travels at 42 miles per hour for 3 hours. How far does it go?",
         "A car keeps up 0.7 miles per minute for 3 hours. How far does it go?", True),
        ("A car travels at 42 miles per hour for 3 hours. How far does it go?",
         "A car keeps up 0.8 miles per minute for 3 hours. How far does it go?", False),
        (r"Ann earned $\$27.47$ and Bo earned $\$35.23$. How much did they earn in all?",
         "Ann earned 27 dollars and 47 cents and Bo earned 35 dollars and 23 cents. How much did they earn"
         " in all?", True),
        ("A father is five times as old as his son. Three years ago their ages added up to 30. How old is"
         " the son?", "A father is five times as old as his son. 36 months ago their ages added up to 30."
         " How old is the son?", True),
        ("A father is five times as old as his son. Three years ago their ages added up to 30. How old is"
         " the son?", "A father is five times as old as his son. 30 months ago their ages added up to 30."
         " How old is the son?", False),
    ],
)  # fmt: skip
def test_a_quantity_in_other_units_keeps_the_math(item: str, text: str, same: bool) -> None:
    agreement = compare(math_profile(text), math_profile(item))
    assert agreement.same_math is same and agreement.replaced is not same


_CHOICES = (
    r"Let $m$ and $n$ be odd integers with $n<m$. The largest integer that divides every number of the "
    r"form $m^2-n^2$ is $\textbf{(A)}\ 2\qquad\textbf{(B)}\ 4\qquad\textbf{(C)}\ 6\qquad\textbf{(D)}\ 8"
    r"\qquad\textbf{(E)}\ 16$"
)


@pytest.mark.parametrize(
    ("text", "same"),
    [
        # the answer choices dropped whole: the candidate answers, not the problem's data
        (
            r"For odd integers $m$ and $n$ with $n<m$, find the largest integer dividing every $m^2-n^2$.",
            True,
        ),
        (_CHOICES.replace(r"(D)}\ 8", r"(D)}\ 12"), False),  # a choice changed, the list kept
        (
            r"For odd integers $m$ and $n$ with $n<m$, find the largest integer dividing every $m^2-n^3$.",
            False,
        ),
    ],
)
def test_answer_choices_dropped_whole_keep_the_math(text: str, same: bool) -> None:
    item = math_profile(_CHOICES)
    assert item.choices is not None and (math_profile(text).choices is None) is ("(C)" not in text)
    assert compare(math_profile(text), item).same_math is same


def test_powers_said_in_words_are_numbers() -> None:
    """ "five to the fifth" is 5^5; "to the third floor" keeps its ordinal as a word."""
    said = compare(
        math_profile("Compute five to the fifth minus three to the minus fourth."),
        math_profile("Compute $5^5-3^{-4}$."),
    )
    assert said.same_math and not said.missing
    assert normalize_tokens("go up to the third floor")[-2:] == ["third", "floor"]


@pytest.mark.parametrize(
    ("item", "text", "same"),
    [
        (r"Compute $(-\sqrt{3} + \sqrt{5} + \sqrt{6})^2 + (\sqrt{3} - \sqrt{5} + \sqrt{6})^2$.",
         r"Compute $(\sqrt{3} + \sqrt{5} + \sqrt{6})^2 + (\sqrt{3} - \sqrt{5} + \sqrt{6})^2$.",
         False),  # a minus taken away
        (r"If $|a| = 6$ and $|b| = 4,$ then find $\left| \frac{a}{b} \right|.$",
         r"If $|a| = 6$ and $|b| = 4,$ then find $\left| ab \right|.$", False),  # a division taken away
        (r"If $|a| = 6$ and $|b| = 4,$ then find $\left| \frac{a}{b} \right|.$",
         r"Given $|a| = 6$ and $|b| = 4$, what is $|a/b|$?", True),  # the same division, written a/b
    ],
)  # fmt: skip
def test_a_sign_or_division_taken_away_is_another_problem(item: str, text: str, same: bool) -> None:
    agreement = compare(math_profile(text), math_profile(item))
    assert agreement.same_math is same and agreement.replaced is not same


@pytest.mark.parametrize(
    ("item", "text", "sibling"),
    [
        ("The function f has the property that for each real x in its domain, 1/x is in its domain.",
         "The function f satisfies the condition that for any real x in its domain, 1/x is in its domain.",
         False),  # plain words swapped: a rewording
        ("Find the sum of the nonzero roots of the quadratic equation below, written in simplest form.",
         "Find the sum of the non-zero solutions of the quadratic equation below, written in simplest form.",
         False),  # synonyms of one mathematical word, and "nonzero" / "non-zero"
        ("How many rectangles are in the figure below if each side has length 2 and the area is 8?",
         "How many squares are in the figure below if each side has length 2 and the area is 8?",
         True),  # one object for another
        ("If the sum is less than 220, what is the greatest possible value for the largest of them?",
         "If the sum is greater than 220, what is the greatest possible value for the largest of them?",
         True),  # a relation turned round
        ("How many of the shaded triangles in the figure below have an area of at least 4 square units?",
         "How many of the non shaded triangles in the figure below have an area of at least 4 square units?",
         True),  # a negation
        ("What is the least positive integer that has exactly 10 divisors, one of them 7?",
         "What is the least integer that has exactly 10 divisors, one of them 7?",
         True),  # a condition dropped
        ("A fair coin is flipped 6 times. What is the probability of exactly 2 tails?",
         "A fair coin is flipped 6 times. What is the probability of at least 2 tails?", True),  # replaced
        ("A jar holds 3 red marbles and 7 blue marbles. What share of the marbles is red?",
         "A jar holds 7 red marbles and 3 blue marbles. What share of the marbles is red?",
         True),  # numbers exchanged in place
        ("Let $p(x)=x+1$ and $q(x)=3x-2$. What is $p(q(4))$?",
         "Let $p(x)=x+1$ and $q(x)=3x-2$. What is $q(p(4))$?", True),  # functions composed the other way
        ("In the figure, $PQRS$ is a square. What is the measure of angle $QPR$ in degrees?",
         "In the figure, $PQRS$ is a square. What is the measure of angle $PQR$ in degrees?",
         True),  # another angle of the same points
        ("In the figure, $PQRS$ is a square. What is the measure of $\\angle QPR$ in degrees?",
         "In the figure, $PQRS$ is a square. What is the measure of the angle $\\angle QPR$ in degrees?",
         False),  # an object named where the original implied it: a rewording
        ("Find the number of real solutions of $x^4 = 16$ and their sum.",
         "Find the number of real solutions of $x^4 = 16$ as well as their total.", False),
        ("Two circles of radii 3 and 5 have centers 12 apart. How long is a common internal tangent?",
         "Two circles of radii 3 and 5 have centers 12 apart. How long is a common external tangent?",
         True),  # another tangent
        ("How many integers from 1 to 60 are divisible by 4 or by 6?",
         "How many integers from 1 to 60 are divisible by 4 and by 6?", True),  # "or" for "and"
        ("A geometric sequence starts 3, 6, 12. What is its seventh term?",
         "A geometric sequence starts 3, 6, 12. What is its fourth term?", True),  # another term asked
        (r"Given $\mathbf{M} = \begin{pmatrix} 1 & 2 \\ 0 & 3 \end{pmatrix}$, find $\mathbf{M}\mathbf{N}$.",
         r"Given $\mathbf{M} = \begin{pmatrix} 1 & 2 \\ 0 & 3 \end{pmatrix}$, find $\mathbf{N}\mathbf{M}$.",
         True),  # typeset letters exchanged: the other product
        ("The scores were 71, 74, 74, 80 and 86. What is the sum of the median and the mode?",
         "The scores were 71, 74, 74, 80 and 86. What is the median minus the mode?", True),  # an operation
        (r"Let $\mathbf{P}$ be the matrix for projecting onto the vector $(3, 4)$. Find $\det \mathbf{P}$.",
         r"Let $\mathbf{P}$ be the matrix for reflecting over the vector $(3, 4)$. Find $\det \mathbf{P}$.",
         True),  # another transformation
        ("With rods of lengths 3, 4, 6, 9 and 13, how many different triangles can be formed?",
         "With rods of lengths 3, 4, 6 and 9, how many different triangles can be formed?", True),  # fewer
        ("Two fair dice are rolled. What is the chance that the sum of the two numbers showing is 9?",
         "Two fair dice are rolled. What is the chance that the sum of the numbers showing is 9?",
         False),  # a count left implied
        ("A dart hits a random point of the board. What is the probability that it lands in a shaded square?",
         "A dart hits a random point of the board. What is the probability that it lands in an unshaded "
         "square?", True),  # a negation by "un"
        # one word for another and the rest kept word for word: what the problem is about changed ...
        ("A bag holds 4 green and 5 yellow beads. Two are drawn. What is the probability both are green?",
         "A bag holds 4 green and 5 yellow beads. Two are drawn. What is the probability both are yellow?",
         True),
        ("A mother is three times as old as her daughter. In 12 years she will be twice as old. How old "
         "is the daughter now?",
         "A mother is three times as old as her daughter. In 12 years she will be twice as old. How old "
         "is the mother now?", True),
        # ... unless the word is one of how the problem is put
        ("A bag holds 4 green and 5 yellow beads. Two are drawn. Find the probability both are green.",
         "A bag holds 4 green and 5 yellow beads. Two are drawn. Determine the probability both are green.",
         False),
        ("A bag holds 4 green and 5 yellow beads. If two are drawn, what is the probability both are green?",
         "A bag holds 4 green and 5 yellow beads. Given two are drawn, what is the probability both are "
         "green?", False),
    ],
)  # fmt: skip
def test_a_sibling_swaps_a_mathematical_word(item: str, text: str, sibling: bool) -> None:
    assert wording_changed(normalize_tokens(text), normalize_tokens(item)) is sibling


def _exchange_numbers(text: str) -> str:
    """``text`` with its first two different numbers (outside diagram code) exchanged in place."""
    prose = re.split(r"\[asy\]", text)[0]
    numbers = list(dict.fromkeys(re.findall(r"(?<![\\a-zA-Z\d.])\d+(?![\d.])", prose)))
    if len(numbers) < 2:
        return text
    a, b = numbers[:2]
    swap = {a: b, b: a}
    return (
        re.sub(rf"(?<![\\a-zA-Z\d.])({a}|{b})(?![\d.])", lambda m: swap[m.group(1)], prose)
        + text[len(prose) :]
    )


def test_siblings_that_exchange_numbers_or_drop_a_condition_are_kept(
    embedded_math: ContaminationChecker, math_items: dict[str, str], small_math: Path
) -> None:
    """Near-copies of benchmark items whose numbers trade places, which lose a condition ("positive",
    "even") or whose first number changes sign have other answers: reported as same_template, not
    dropped, whichever stage proposes the item."""
    items = [json.loads(line)["problem"] for line in small_math.read_text().splitlines()]
    exchanged = [t for t in (_exchange_numbers(x) for x in items) if t not in items]
    loose = [re.sub(r"\b(positive|even|odd|consecutive) ", "", x, count=1) for x in items]
    loose = [t for t in loose if t not in items]
    negated = [re.sub(r"\$(\d)", r"$-\1", x, count=1) for x in items]  # a sign the words do not show
    negated = [t for t in negated if t not in items]
    siblings = [(f"sib{k}", t) for k, t in enumerate(exchanged + loose + negated)]
    results = list(embedded_math.check(siblings))
    assert len(exchanged) >= 40 and len(loose) >= 8 and len(negated) >= 20
    dropped = [r.id for r in results if r.contaminated]
    assert len(dropped) <= 0.05 * len(siblings), dropped


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_markup_never_changes_the_math(math_items: dict[str, str], data: st.DataObject) -> None:
    """Spacing, \\left/\\right and \\dfrac leave a problem the same problem as itself."""
    text = data.draw(st.sampled_from(list(math_items.values())[:2000]))
    marked = (
        text.replace("\\frac", "\\dfrac").replace("(", "\\left(").replace(")", "\\right)").replace("+", " + ")
    )
    assert compare(math_profile(marked), math_profile(text)).same_math
    assert compare(math_profile(text), math_profile(text)).same_math


_RESTATED = [  # (item, the item's words with a quantity or the letters written otherwise, a sibling)
    (
        "A rectangular garden measures 36 feet by 20 feet. If each side of the garden is lengthened by "
        "25$\\%$, by what percent does the area of the garden grow?",
        "A rectangular garden measures 12 yards by 20 feet. If each side of the garden is lengthened by "
        "25$\\%$, by what percent does the area of the garden grow?",
        "A rectangular garden measures 36 feet by 20 yards. If each side of the garden is lengthened by "
        "25$\\%$, by what percent does the area of the garden grow?",
    ),
    (
        "In triangle $ABC$ the angle $\\angle A = 60^\\circ$, the side $AB = 8$ and the side $AC = 5$. "
        "Find the length of the third side $BC$ of the triangle.",
        "In triangle $ABC$ the angle $\\angle A = \\frac{\\pi}{3}$, the side $AB = 8$ and the side $AC = 5$. "
        "Find the length of the third side $BC$ of the triangle.",
        "In triangle $ABC$ the angle $\\angle A = \\frac{\\pi}{2}$, the side $AB = 8$ and the side $AC = 5$. "
        "Find the length of the third side $BC$ of the triangle.",
    ),
    (
        "Three points in the coordinate plane are the vertices of a triangle, and we want to know how much "
        "room it covers. Let $P$ be the point $(1,7)$, let $Q$ be the point $(4,3)$ and let $R$ be the "
        "point $(9,3)$. What is the area of the triangle $PQR$? Express your answer as a decimal.",
        "Three points in the coordinate plane are the vertices of a triangle, and we want to know how much "
        "room it covers. Let $A$ be the point $(1,7)$, let $B$ be the point $(4,3)$ and let $C$ be the "
        "point $(9,3)$. What is the area of the triangle $ABC$? Express your answer as a decimal.",
        "Three points in the coordinate plane are the vertices of a triangle, and we want to know how much "
        "room it covers. Let $P$ be the point $(1,7)$, let $Q$ be the point $(4,3)$ and let $R$ be the "
        "point $(9,5)$. What is the area of the triangle $PQR$? Express your answer as a decimal.",
    ),
]


def test_a_copy_with_a_quantity_in_other_units_or_letters_renamed_is_the_same_problem(tmp_path: Path) -> None:
    """The item's words with a length in yards for feet, an angle in radians for degrees, or every
    point renamed: the same problem, though numbers and letters changed in the words. The same words
    with one of two lengths in another unit, or a coordinate changed, is another problem."""
    bench = tmp_path / "bench.jsonl"
    bench.write_text(
        "".join(json.dumps({"id": f"b{k}", "problem": r[0]}) + "\n" for k, r in enumerate(_RESTATED))
    )
    checker = ContaminationChecker(load_benchmarks([f"mine={bench}"]), cache_dir=tmp_path / "index")
    texts = [(f"same{k}", r[1]) for k, r in enumerate(_RESTATED)] + [
        (f"sib{k}", r[2]) for k, r in enumerate(_RESTATED)
    ]
    got = {r.id: r for r in checker.check(texts)}
    for k in range(len(_RESTATED)):
        assert got[f"same{k}"].level == "same_problem", k
        assert got[f"sib{k}"].matches and got[f"sib{k}"].level == "same_template", k


def test_lexical_matches_get_levels(small_math: Path, math_items: dict[str, str], tmp_path: Path) -> None:
    """Copies of MATH test items are dropped; the same wording with other numbers is reported and kept,
    unless ``drop`` lists same_template too."""
    bench = load_benchmarks([f"math_test={small_math}"])
    items = [
        it for it in bench[0].items if len(re.findall(r"\d+", it.text)) >= 2 and len(it.text.split()) >= 15
    ][:25]
    copies = [(f"copy/{it.id}", "Here is a problem. " + it.text.replace("\\frac", "\\dfrac")) for it in items]
    siblings = [(f"sib/{it.id}", _other_numbers(it.text, 3)) for it in items]
    checker = ContaminationChecker(bench, cache_dir=tmp_path)
    results = {r.id: r for r in checker.check(copies + siblings)}
    assert all(results[i].contaminated and results[i].level == "same_problem" for i, _ in copies)
    lexical = [results[i] for i, _ in siblings if results[i].matches]
    assert len(lexical) >= 5  # the n-gram stages still find some of them ...
    assert all(r.level == "same_template" and not r.contaminated for r in lexical)  # ... and keep them
    report = checker.report()
    assert report["levels"]["math_test"]["same_template"] == len(lexical)
    assert "same template" in report_markdown(report)
    strict = ContaminationChecker(
        bench, cache_dir=tmp_path, thresholds=Thresholds(drop=("same_problem", "same_template"))
    )
    assert all(r.contaminated for r in strict.check(siblings) if r.matches)


@pytest.fixture(scope="module")
def embedded_math(small_math: Path, tmp_path_factory: pytest.TempPathFactory) -> ContaminationChecker:
    if not HAS_EMBED:
        pytest.skip("needs synthmath[embed]")
    spec = CheckerSpec((f"math_test={small_math}",), cache_dir=tmp_path_factory.mktemp("index"), judge=True)
    return ContaminationChecker.from_spec(spec)


def test_rewordings_of_math_items_are_caught_and_siblings_kept(
    embedded_math: ContaminationChecker, math_items: dict[str, str]
) -> None:
    rows = read_jsonl(MATH_REPHRASED)[:40]
    caught = [
        r for r in embedded_math.check((r["id"], r["question"]) for r in rows) if r.level == "same_problem"
    ]
    assert len(caught) >= 0.9 * len(rows)
    source = {r["id"]: r["source_id"] for r in rows}
    assert all(any(m.benchmark_id == source[r.id] for m in r.matches) for r in caught)
    siblings = [(f"sib{k}", _other_numbers(math_items[r["source_id"]], 2)) for k, r in enumerate(rows)]
    siblings = [(i, t) for i, t in siblings if t != math_items[source[rows[int(i[3:])]["id"]]]]
    dropped = [r for r in embedded_math.check(siblings) if r.contaminated]
    assert len(siblings) >= 30 and len(dropped) <= 0.05 * len(siblings)


def test_the_judge_sees_a_story_that_keeps_the_math_however_far_in_words(
    small_math: Path, math_items: dict[str, str], tmp_path: Path
) -> None:
    """A rewording into a new setting sits far from its item in words (under ``judge_min``) but keeps
    its math: when the stages cannot decide (here the item is in the benchmark twice, so neither copy
    stands out), the judge is asked about it all the same. A sibling with another number is not."""
    if not HAS_EMBED:
        pytest.skip("needs synthmath[embed]")
    item = math_items["test/algebra/2357"]  # Alan and David lay 30 bricks an hour each ... 600 bricks
    bench = tmp_path / "bench.jsonl"
    bench.write_text(small_math.read_text() + json.dumps({"id": "copy", "problem": item}) + "\n")
    checker = ContaminationChecker.from_spec(
        CheckerSpec((f"math_test={bench}",), cache_dir=tmp_path / "index", judge=True)
    )
    story = "Ruth jars 30 per hour, as does Omar. Ruth's time is triple Omar's. The jars total 600. Omar's?"
    got, other = checker.screen([("story", story), ("sibling", story.replace("600", "480"))])
    assert not any(m.level == "same_problem" for m in got.matches)
    asked = {c.benchmark_id: c.cosine for c in got.judge}
    assert {"test/algebra/2357", "copy"} <= set(asked)
    assert max(asked["copy"], asked["test/algebra/2357"]) < checker.t.judge_min
    assert not {"test/algebra/2357", "copy"} & {c.benchmark_id for c in other.judge}


def test_a_rewording_is_caught_beside_template_twins_of_its_item(small_math: Path, tmp_path: Path) -> None:
    """An item with template twins in the benchmark (the same words, another operator or ask): a
    rewording that keeps the item's formula stands out over the twins, whose math it contradicts, even
    when their wording is as close as the item's."""
    if not HAS_EMBED:
        pytest.skip("needs synthmath[embed]")
    item = (
        "Let $x$, $y$, and $z$ be positive real numbers such that"
        " $(x \\cdot y) + z = (x + z) \\cdot (y + z)$. What is the maximum possible value of $xyz$?"
    )
    twins = [
        item.replace("(y + z)$", "(y - z)$"),
        item.replace("(x + z) \\cdot", "(x - z) \\cdot"),
        item.replace("maximum", "minimum").replace("+ z = ", "- z = "),
    ]
    rows = [json.loads(line) for line in small_math.read_text().splitlines()]
    rows += [{"id": "item", "problem": item}] + [
        {"id": f"twin{k}", "problem": t} for k, t in enumerate(twins)
    ]
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows))
    checker = ContaminationChecker.from_spec(
        CheckerSpec((f"math_test={bench}",), cache_dir=tmp_path / "index")
    )
    rewordings = [
        "For positive real numbers $x$, $y$, and $z$ satisfying $(x \\cdot y) + z = (x + z) \\cdot (y + z)$,"
        " what is the largest value that $xyz$ can take?",
        "Consider positive reals $x$, $y$, $z$ with $(x \\cdot y) + z = (x + z) \\cdot (y + z)$."
        " Determine the greatest possible value of the product $xyz$.",
    ]
    results = list(checker.check((f"r{k}", t) for k, t in enumerate(rewordings)))
    assert all(r.level == "same_problem" for r in results)
    assert all({m.benchmark_id for m in r.matches if m.level == "same_problem"} == {"item"} for r in results)


def test_a_rewording_that_renames_every_letter_is_found_by_its_formula(tmp_path: Path) -> None:
    """Among all 5,000 MATH test items, a rewording with new words and every letter renamed, whose
    numbers (1, 2, 3) hundreds of items share, is found by its formula's shape and caught; the same
    rewording with a number or a sign changed is another problem."""
    need_data()
    if not HAS_EMBED:
        pytest.skip("needs synthmath[embed]")
    checker = ContaminationChecker.from_spec(CheckerSpec((f"math_test={MATH_TEST}",), cache_dir=tmp_path))
    rewordings = {
        "test/algebra/616": r"Take $p(t)=t^3+2t+1$ and $q(t)=t-1$. Evaluate $p(q(1))$.",
        "test/algebra/267": r"Find $y$ if $\frac{y+1}{y-1} = \frac{y-2}{y+2}$.",
    }
    siblings = [
        r"Take $p(t)=t^3+2t+1$ and $q(t)=t-1$. Evaluate $p(q(2))$.",
        r"Take $p(t)=t^3+2t+1$ and $q(t)=t+1$. Evaluate $p(q(1))$.",
        r"Find $y$ if $\frac{y+1}{y-1} = \frac{y-3}{y+3}$.",
        r"Find $y$ if $\frac{y+1}{y-1} = \frac{y+2}{y-2}$.",
    ]
    caught = {r.id: r for r in checker.check(rewordings.items())}
    assert {i: r.level for i, r in caught.items()} == dict.fromkeys(rewordings, "same_problem")
    assert all(
        {m.benchmark_id for m in r.matches if m.level == "same_problem"} == {i} for i, r in caught.items()
    )
    assert not any(r.contaminated for r in checker.check((f"s{k}", t) for k, t in enumerate(siblings)))


_FIGURE = (
    "[asy] size(4cm); pair P=(0,0), Q=(14,0), R=(11,6), S=(3,6); draw(P--Q--R--S--cycle); draw(S--(3,0));"
    ' label("$P$",P,SW); label("$Q$",Q,SE); label("$R$",R,NE); label("$S$",S,NW); label("14",(7,0),S);'
    ' label("8",(7,6),N); label("6",(3,3),E); [/asy]'
)


def test_a_figure_kept_whole_keeps_the_math(embedded_math: ContaminationChecker) -> None:
    """The nearest rule's "kept math" needs something specific of the item in the text: numbers worth
    something, most of its LaTeX, or its figure kept whole. A reworded question about the same figure
    has it; the same words without the figure do not."""
    item = embedded_math.profile(
        f"What is the number of square centimeters in the area of this trapezoid? {_FIGURE}"
    )
    stats = embedded_math.stats["math_test"]
    with_figure = embedded_math.profile(
        f"Determine the area, in square centimeters, of the trapezoid below. {_FIGURE}"
    )
    without = embedded_math.profile("Determine the area, in square centimeters, of the trapezoid below.")
    kept = kept_math(compare(with_figure.math, item.math), with_figure, item, stats, 8.0)
    assert kept and not kept_math(compare(without.math, item.math), without, item, stats, 8.0)


def test_screen_in_a_worker_then_judge_and_resolve(embedded_math: ContaminationChecker) -> None:
    """The two-phase API: screenings pickle, the judge's requests come in pairs, and resolve takes the
    weaker verdict of the two orders."""
    import pickle

    unrelated = "A bag holds 4 red and 6 blue marbles. Two are drawn. What is the probability both are red?"
    texts = [("a", unrelated), ("b", read_jsonl(MATH_REPHRASED)[0]["question"])]
    screenings = pickle.loads(pickle.dumps(embedded_math.screen(texts)))
    assert [s.id for s in screenings] == ["a", "b"]
    requests = judge_requests(screenings)
    assert len(requests) == 2 * sum(len(s.judge) for s in screenings)
    assert all(r.temperature == 0.0 and r.step == "contamination_judge" for r in requests)
    plain = resolve(screenings, drop=("same_problem",))
    assert plain[1].level == "same_problem" and not plain[0].contaminated
    if screenings[0].needs_judge:
        replies = ["same problem" if k % 2 == 0 else "Same template." for k in range(len(requests))]
        judged = resolve(screenings, replies)
        assert judged[0].level == "same_template" and not judged[0].contaminated
        assert {m.method for m in judged[0].matches} == {"judge"}
    assert pickle.loads(pickle.dumps(CheckerSpec(("math_test",)))) == CheckerSpec(("math_test",))


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("same problem", "same_problem"), ("Same template.", "same_template"), ("**Different**", "different"),
     ("same_problem", "same_problem"), ("same", None), ("", None), (None, None)],
)  # fmt: skip
def test_judge_verdicts(reply: str | None, expected: str | None) -> None:
    assert verdict(reply) == expected


@pytest.mark.parametrize(
    ("reply", "sibling_dropped"),
    [("same template", False), ("Different.", False), ("same problem", True), (None, True)],
)
def test_the_judge_confirms_what_the_stages_call_the_same_problem(
    tmp_path: Path, reply: str | None, sibling_dropped: bool
) -> None:
    """A near-copy the stages take for the item (its words kept, "twice" made "half") is put to the
    judge, which confirms or demotes it; an exact copy is not asked about; an unread reply leaves the
    stages' verdict."""
    item = (
        "At each practice last week, Ana made twice as many baskets as at the practice before. At her "
        "fourth practice she made 40 baskets. How many baskets did she make at her first practice?"
    )
    bench = tmp_path / "bench.jsonl"
    rows = [
        {"id": "ana", "problem": item},
        {"id": "odd", "problem": "What is the sum of the first 10 odd numbers?"},
    ]
    bench.write_text("".join(json.dumps(r) + "\n" for r in rows))
    asked: list[ChatRequest] = []

    def judge(requests: list[ChatRequest]) -> list[str | None]:
        asked.extend(requests)
        return [reply] * len(requests)

    checker = ContaminationChecker(load_benchmarks([f"mine={bench}"]), cache_dir=tmp_path / "ix", judge=judge)
    sibling, copy = checker.check(
        [("sibling", item.replace("twice as many", "half as many")), ("copy", item)]
    )
    assert len(asked) == 2 and all(
        "half as many" in str(r.messages) for r in asked
    )  # both ways, sibling only
    assert sibling.contaminated is sibling_dropped
    assert sibling.level == ("same_problem" if sibling_dropped else "same_template")
    assert copy.contaminated and copy.level == "same_problem"


def test_llm_judge_asks_the_engine(tmp_path: Path) -> None:
    """LLMJudge sends each request through the engine and counts what it heard."""
    from synthmath.contamination.results import JudgeCandidate, Screening

    def handler(request: dict[str, Any]) -> Reply:
        first = request["messages"][-1]["content"].split("Problem B:")[0]
        return Reply(["same problem" if "RECORD" in first or "apples" in first else "different"])

    s = [
        Screening("p", "RECORD about pears", judge=[JudgeCandidate("b", "1", "item about pears", 0.9)]),
        Screening("a", "RECORD about apples", judge=[JudgeCandidate("b", "2", "item about apples", 0.9)]),
    ]
    with FakeOpenAIServer(handler, models=["judge"]) as server:
        judge = LLMJudge(OpenAIServerEngine([server.url], api_key="EMPTY", concurrency=4))
        try:
            results = resolve(s, judge(judge.requests(s)))
        finally:
            judge.close()
    assert [r.contaminated for r in results] == [False, True]
    assert len(server.requests) == 4 and judge.info()["asked"] == 4
    assert judge.info()["verdicts"] == {"same_problem": 3, "same_template": 0, "different": 1}


@pytest.mark.skipif(
    not (os.environ.get("SYNTHMATH_TEST_BASE_URL") and HAS_EMBED),
    reason="opt-in: set SYNTHMATH_TEST_BASE_URL to a running vLLM server (../shared/tools/vllm-cpu-serve.sh)",
)
def test_judge_against_a_real_vllm_server(tmp_path: Path, small_math: Path) -> None:
    """check-contamination --judge against a real server: every near miss is asked in both orders, and
    the verdicts land in the report (JSON and Markdown, the card's section)."""
    rows = read_jsonl(MATH_REPHRASED)[:40]
    texts = [{"id": f"sib{k}", "question": _other_numbers(r["question"], 1)} for k, r in enumerate(rows[:8])]
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in texts))
    out = tmp_path / "out"
    code, output = invoke(
        "check-contamination", data, "--out", out, "--benchmark", f"math_test={small_math}", "--judge",
        "--base-url", os.environ["SYNTHMATH_TEST_BASE_URL"], "--cache-dir", tmp_path / "cache",
        "--no-progress",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads((out / "contamination_report.json").read_text())
    judge = report["judge"]
    assert judge["asked"] > 0 and judge["asked"] % 2 == 0
    assert sum(judge["verdicts"].values()) + judge["unclear"] == judge["asked"]
    assert "Judge:" in (out / "contamination_report.md").read_text()
    results = read_jsonl(out / "contamination.jsonl")
    assert len(results) == len(texts) and all("level" in r for r in results)


def test_the_math_decides_the_level(embedded_math: ContaminationChecker, math_items: dict[str, str]) -> None:
    """Retrieval proposes, the math comparison decides: the same mathematics in new words is the same
    problem; one changed operator, relation or number in the same words is a template sibling, whatever
    the embedding distance says."""
    assert math_items["test/algebra/138"].startswith("Find the distance between the vertex of the graph")
    reworded = {
        "new_words": "Take the parabola $y=x^2 + 2x - 6$ and its vertex. How far is that vertex from "
        "$(4, 5)$?",
        "latex_restyled": "How far is the point $(4,5)$ from the vertex of the graph of "
        "$y = x^{2}+2\\cdot x-6$?",
    }
    siblings = {
        "operator": math_items["test/algebra/138"].replace("2x - 6", "2x + 6"),
        "number": math_items["test/algebra/138"].replace("(4, 5)", "(4, 7)"),
        "relation": math_items["test/algebra/872"].replace("< 0", "> 0").replace("greatest", "least"),
    }
    results = {r.id: r for r in embedded_math.check([*reworded.items(), *siblings.items()])}
    for key in reworded:
        assert results[key].level == "same_problem" and results[key].contaminated, key
        assert any(m.benchmark_id == "test/algebra/138" for m in results[key].matches)
    for key in siblings:
        assert results[key].level == "same_template" and not results[key].contaminated, key


_SCREEN_IN_A_PROCESS = """
import json, sys
from pathlib import Path
from synthmath.contamination.benchmarks import load_benchmarks
from synthmath.contamination.check import ContaminationChecker
from synthmath.contamination.embeddings import load_model
bench, texts, cache = sys.argv[1:4]
checker = ContaminationChecker(load_benchmarks([bench]), embedder=load_model(), cache_dir=Path(cache))
rows = [json.loads(line) for line in open(texts, encoding="utf-8")]
results = checker.check((r["id"], r["text"]) for r in rows)
print(json.dumps([r.to_json_dict() for r in results], sort_keys=True))
"""


def test_the_same_screenings_in_any_process(tmp_path: Path) -> None:
    """Local tasks and Ray workers are separate processes with their own string hashing: every sum and
    every tie must come out the same in all of them (a set's order once changed the nearest GSM8K item
    of MATH train row 1106)."""
    import subprocess
    import sys

    if not HAS_EMBED:
        pytest.skip("needs synthmath[embed]")
    need_data()
    rows = read_jsonl(MATH_TRAIN)[1090:1120]
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"id": r["id"], "text": r["problem"]}) + "\n" for r in rows))
    bench = f"gsm8k_test={DATA / 'gsm8k' / 'test.jsonl'}"
    outs = []
    for seed in ("1", "3"):
        args = [sys.executable, "-c", _SCREEN_IN_A_PROCESS, bench, str(texts), str(tmp_path / "cache")]
        done = subprocess.run(
            args, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed}
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outs.append(json.loads(done.stdout))
    assert len(outs[0]) == len(rows) and all(r["nearest"] for r in outs[0])  # it screened
    assert outs[0] == outs[1]


@pytest.fixture(scope="module")
def math_and_words(small_math: Path, tmp_path_factory: pytest.TempPathFactory) -> CheckerSpec:
    """A MATH-style benchmark (``small_math``) and a word-problem one (200 GSM8K test items), indexed."""
    if not HAS_EMBED:
        pytest.skip("needs synthmath[embed]")
    folder = tmp_path_factory.mktemp("words")
    gsm8k = folder / "gsm8k_small.jsonl"
    gsm8k.write_text("".join(GSM8K_TEST.read_text(encoding="utf-8").splitlines(keepends=True)[:200]))
    return CheckerSpec((f"math_test={small_math}", f"gsm8k_test={gsm8k}"), cache_dir=folder / "index")


def test_a_build_screens_as_if_every_pair_were_scored(
    math_and_words: CheckerSpec, math_items: dict[str, str]
) -> None:
    """A build's screening scores only the pairs whose scores the decision rules read (bounds first,
    :func:`best_scores`); listing the judge's candidates scores every pair. Both decide the same:
    matches, levels, scores and the nearest item, in a MATH-style and a word-problem benchmark."""
    spec = math_and_words
    build = ContaminationChecker.from_spec(spec)
    every = ContaminationChecker.from_spec(CheckerSpec(spec.benchmarks, cache_dir=spec.cache_dir, judge=True))
    rows = read_jsonl(MATH_REPHRASED)[:40]
    texts = [(r["id"], r["question"]) for r in rows]
    texts += [(f"sib{k}", _other_numbers(math_items[r["source_id"]], 2)) for k, r in enumerate(rows)]
    texts += [(r["id"], r["problem"]) for r in read_jsonl(MATH_TRAIN)[:60]]
    texts += [(r["id"], r["question"]) for r in read_jsonl(REPHRASED)[:40]]
    texts += [(f"gsm8k_train/{k}", r["question"]) for k, r in enumerate(read_jsonl(GSM8K_TRAIN)[:40])]
    got, want = build.screen(texts), every.screen(texts)
    assert sum(bool(s.matches) for s in want) >= 40 and sum(bool(s.judge) for s in want) >= 10  # it decided
    assert [(s.matches, s.nearest) for s in got] == [(s.matches, s.nearest) for s in want]
    assert not any(s.judge for s in got)


def test_score_bounds_are_never_under_the_scores(math_and_words: CheckerSpec) -> None:
    """The batch's score bounds (NumPy, bounds.py) repeat the match score's sum: a change to one that
    the other misses would drop pairs the rules read. Every bound is at least its exact score."""
    from synthmath.contamination.scoring import match_score

    checker = ContaminationChecker.from_spec(math_and_words)
    texts = [r["problem"] for r in read_jsonl(MATH_TRAIN)[:40]] + [
        r["question"] for r in read_jsonl(REPHRASED)[:40]
    ]
    profiles = [checker.profile(t) for t in texts]
    assert checker.embeddings is not None
    sims = checker.embeddings.encode(texts) @ checker.embeddings.matrix.T
    checked = 0
    for b, (lo, hi) in checker.rows.items():
        ks = [k for k in range(len(texts)) for _ in range(lo, hi)]
        rows = [j for _ in texts for j in range(lo, hi)]
        bounds = checker.bounds.bounds(profiles, b, ks, rows, sims)
        for k, j, bound in zip(ks, rows, bounds, strict=True):
            score = match_score(profiles[k], checker.profiles[j], float(sims[k, j]), b, checker.stats[b])
            assert bound >= score, (b, k, j)
            checked += 1
    assert checked == len(texts) * len(checker.items)
