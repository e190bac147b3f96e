"""The contamination check: stages on real benchmark files, the CLI, the build gate and the judge."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthmath.cli import main
from synthmath.contamination.benchmarks import load_benchmarks
from synthmath.contamination.check import ContaminationChecker
from synthmath.contamination.judge import LLMJudge
from synthmath.contamination.ngrams import normalize_tokens
from synthmath.engine.openai_server import OpenAIServerEngine
from synthmath.records import SeedProblem
from synthmath.testing import FakeOpenAIServer, Reply

from .conftest import DATA, MATH_TRAIN, need_data, read_jsonl
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


def invoke(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


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
        runs.append((flagged, checker.report()["found"]))
    assert runs[0] == runs[1] == runs[2]
    assert len(list(tmp_path.glob("ngrams-*.pkl"))) == 1
    flagged = runs[0][0]
    # MATH train holds copies and rewordings of MATH test items (1.6% to 14% by published LLM-judged
    # checks); GSM8K train almost none
    math_share = sum(not k.startswith("g") for k in flagged) / 3000
    assert 0.01 < math_share < 0.1
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
    }
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


def test_judge_asks_both_orders_and_needs_both(math_seeds_file: Path) -> None:
    def handler(request: dict[str, Any]) -> Reply:
        text = request["messages"][-1]["content"]
        first = text.split("Problem B:")[0]
        # "same" only when the benchmark item comes second, or when the pair is about apples
        return Reply(["same" if "apples" in text or "RECORD" in first else "Different."])

    with FakeOpenAIServer(handler, models=["judge"]) as server:
        judge = LLMJudge(OpenAIServerEngine([server.url], api_key="EMPTY", concurrency=4))
        try:
            verdicts = judge(
                [("RECORD about pears", "item about pears"), ("RECORD about apples", "item about apples")]
            )
        finally:
            judge.close()
    assert verdicts == [False, True]
    assert len(server.requests) == 4 and judge.info()["asked"] == 4
    assert all(r["temperature"] == 0.0 for r in server.requests)


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
    item = "Find the value of the sum $1 + 3 + 9 + 27 + \\cdots + 729$."  # same problem, other numbers
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
        if "decide whether they are the same problem" in request["messages"][0]["content"]:
            judged.append(last)
            return Reply(["same" if "729" in last else "different"])
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
