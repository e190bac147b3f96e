"""Bad input and faults, as a user meets them through the CLI: one line that says what to do, no traceback.

Each failure listed in docs/errors.md has a test here (or beside the code it covers).
"""

from __future__ import annotations

import codecs
import errno
import json
import logging
import re
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import assume, given
from hypothesis import strategies as st

from synthmath import (
    ConfigError,
    HubError,
    HubUnreachableError,
    NoSeedsError,
    TextEncodingError,
    iter_seed_stream,
    load_seeds,
    push_to_hub,
)
from synthmath.cli import _Group, main
from synthmath.contamination.benchmarks import load_benchmarks, parse_benchmark_spec
from synthmath.logs import configure_logging
from synthmath.prompts import PromptSet
from synthmath.records import Reject, SeedProblem
from synthmath.testing import FakeOpenAIServer
from synthmath.textio import decode_utf8

from .conftest import DATA, MATH_TRAIN, need_data, read_jsonl
from .fakes import MathRephraser

MATH_SUBJECTS = [
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
]


def run(*args: object, env: dict[str, str] | None = None) -> tuple[int, str]:
    """The CLI's exit code and its combined output; builds skip the contamination gate unless asked."""
    argv = [str(a) for a in args]
    if argv[0].startswith("build-") and not any(
        a.startswith(("--contamination", "--benchmark")) for a in argv
    ):
        argv.append("--no-contamination")
    result = CliRunner().invoke(main, argv, env=env, catch_exceptions=False)
    return result.exit_code, result.output


def one_line_error(code: int, output: str) -> str:
    """The single ``Error: ...`` line of a failed command; fails on a traceback or a second line."""
    assert code == 1, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert "Traceback" not in output
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, output
    return errors[0].removeprefix("Error: ")


def seed_rows(n: int) -> list[dict[str, Any]]:
    need_data()
    rows = read_jsonl(MATH_TRAIN)
    return rows[:: max(1, len(rows) // n)][:n]


def write_jsonl(
    path: Path, rows: list[dict[str, Any]], *, encoding: str = "utf-8", bom: bool = False
) -> Path:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode(encoding))
    return path


def expected_encoding_error(path: Path, data: bytes) -> str:
    """The message for the first byte of ``data`` that is not UTF-8, computed from the bytes themselves."""
    try:
        data.decode("utf-8")
        raise AssertionError("the test file is valid UTF-8")
    except UnicodeDecodeError as e:
        line_start = data.rfind(b"\n", 0, e.start) + 1
        lineno = data.count(b"\n", 0, e.start) + 1
        column = len(data[line_start : e.start].decode("utf-8")) + 1
        return (
            f"{path}:{lineno}: not UTF-8 text (byte 0x{data[e.start]:02x} at column {column}) "
            "- convert the file to UTF-8"
        )


# --- input decoding ------------------------------------------------------------------------------------


def test_latin1_seeds_name_file_line_and_column(tmp_path: Path, server: FakeOpenAIServer) -> None:
    rows = seed_rows(3)
    rows[1]["problem"] = "Caf\u00e9 prices: " + rows[1]["problem"]  # é is one byte, 0xe9, in latin-1
    path = write_jsonl(tmp_path / "seeds.jsonl", rows, encoding="latin-1")
    line = one_line_error(
        *run("build-instruct", "--seeds", path, "--base-url", server.url, "--out", tmp_path / "out")
    )
    assert line == expected_encoding_error(path, path.read_bytes())
    assert f"{path}:2:" in line and "0xe9" in line


def test_utf16_seeds_get_the_same_one_line_error(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "seeds.jsonl", seed_rows(2), encoding="utf-16")
    line = one_line_error(*run("seeds", path))
    assert line.startswith(f"{path}:1: not UTF-8 text (byte 0x")
    assert line.endswith("- convert the file to UTF-8")
    no_bom = write_jsonl(tmp_path / "le.jsonl", seed_rows(2), encoding="utf-16-le")  # NUL bytes, no BOM
    assert "not UTF-8 text (byte 0x00 at column" in one_line_error(*run("seeds", no_bom))


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_a_file_with_a_bom_is_read(tmp_path: Path, suffix: str) -> None:
    rows = seed_rows(5)
    path = tmp_path / f"seeds{suffix}"
    if suffix == ".json":
        path.write_bytes(codecs.BOM_UTF8 + json.dumps(rows).encode())
    else:
        write_jsonl(path, rows, bom=True)
    code, output = run("seeds", path)
    assert code == 0, output
    assert output.startswith("5 usable seeds")
    assert [s.id for s in load_seeds(path)] == [r["id"] for r in rows]


@given(st.text(), st.booleans())
def test_utf8_text_reads_back_with_or_without_a_bom(text: str, bom: bool) -> None:
    assume("\x00" not in text)
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode()
    assert decode_utf8(data, "f.txt") == text


@given(st.binary(max_size=200))
def test_any_bytes_are_text_or_name_their_first_bad_byte(data: bytes) -> None:
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = decode_utf8(data, "f.txt")
    except TextEncodingError as e:
        m = re.fullmatch(
            r"f\.txt:(\d+): not UTF-8 text \(byte 0x(..) at column (\d+)\) - convert the file to UTF-8",
            str(e),
        )
        assert m is not None, str(e)
        bad = _first_bad_byte(body)
        assert int(m.group(1)) == body.count(b"\n", 0, bad) + 1
        assert int(m.group(2), 16) == body[bad]
        line = body[body.rfind(b"\n", 0, bad) + 1 : bad]
        assert int(m.group(3)) == len(line.decode()) + 1
    else:
        assert text == body.decode() and "\x00" not in text


def _first_bad_byte(body: bytes) -> int:
    """The first NUL, or the first byte that cannot start or continue a UTF-8 character."""
    positions = [body.index(b"\0")] if b"\0" in body else []
    try:
        body.decode()
    except UnicodeDecodeError as e:
        positions.append(e.start)
    return min(positions)


def test_math_directory_file_not_utf8(tmp_path: Path) -> None:
    need_data()
    root = tmp_path / "MATH"
    shutil.copytree(DATA / "math" / "MATH_dir_sample", root)
    victim = sorted((root / "train" / "geometry").glob("*.json"))[0]
    row = json.loads(victim.read_text())
    row["problem"] = "\u00bfQu\u00e9? " + row["problem"]
    victim.write_bytes(json.dumps(row, ensure_ascii=False).encode("latin-1"))
    line = one_line_error(*run("seeds", root))
    assert line == expected_encoding_error(victim, victim.read_bytes())
    # a BOM in a MATH directory file is fine
    victim.write_bytes(codecs.BOM_UTF8 + json.dumps(row).encode())
    assert run("seeds", root)[0] == 0


def test_check_contamination_input_and_benchmark_not_utf8(tmp_path: Path) -> None:
    need_data()
    bench = DATA / "math" / "math500_test.jsonl"
    records = write_jsonl(
        tmp_path / "records.jsonl", [{"id": "a", "question": "Qu\u00e9 es 2+2?"}], encoding="latin-1"
    )
    args = ["--out", tmp_path / "out", "--no-embeddings", "--no-progress"]
    line = one_line_error(*run("check-contamination", records, "--benchmark", f"math500={bench}", *args))
    assert line == expected_encoding_error(records, records.read_bytes())

    good = write_jsonl(tmp_path / "good.jsonl", [{"id": "a", "question": "What is 2+2?"}])
    bad_bench = write_jsonl(
        tmp_path / "bench.jsonl", [{"id": "b", "problem": "\u00bfCu\u00e1nto?"}], encoding="latin-1"
    )
    line = one_line_error(*run("check-contamination", good, "--benchmark", f"mine={bad_bench}", *args))
    assert line == expected_encoding_error(bad_bench, bad_bench.read_bytes())


def test_prompt_file_not_utf8(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(PromptSet().directory, prompts)
    target = prompts / "rephrase_question.yaml"
    target.write_bytes(target.read_text().replace("math problems", "math probl\u00e8mes").encode("latin-1"))
    with pytest.raises(
        TextEncodingError, match=rf"^{target}:\d+: not UTF-8 text \(byte 0xe8 at column \d+\)"
    ):
        PromptSet(prompts).check(["rephrase_question"])
    line = one_line_error(
        *run("build-instruct", "--seeds", MATH_TRAIN, "--prompts-dir", prompts, "--out", tmp_path / "o")
    )
    assert line == expected_encoding_error(target, target.read_bytes())


# --- strict seed fields and prompt placeholders ---------------------------------------------------------


def test_non_string_problem_is_a_counted_reject_never_sent(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    rows = read_jsonl(math_seeds_file)[:4]
    bad: list[dict[str, Any]] = [
        {"id": "bad/list", "problem": ["a", "b"], "solution": "$\\boxed{1}$"},
        {"id": "bad/number", "problem": "What is 1+1?", "solution": 2},
    ]
    seeds = write_jsonl(tmp_path / "seeds.jsonl", rows[:2] + bad + rows[2:])
    out = tmp_path / "out"
    code, output = run(
        "build-instruct", "--seeds", seeds, "--base-url", server.url, "--out", out, "--no-progress"
    )
    assert code == 0, output
    rejects = [Reject.model_validate(r) for r in read_jsonl(out / "rejects.jsonl")]
    typed = {r.seed_id: r for r in rejects if r.reason == "bad_field_type"}
    assert set(typed) == {"bad/list", "bad/number"}
    assert all(r.stage == "seed" for r in typed.values())
    assert f"{seeds}:3: 'problem' is a list" in typed["bad/list"].detail
    assert f"{seeds}:4: 'solution' is a number" in typed["bad/number"].detail
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"]["skipped_by_reason"]["bad_field_type"] == 2
    sent = json.dumps(server.requests)
    assert "['a', 'b']" not in sent and "What is 1+1?" not in sent

    stream = list(iter_seed_stream(seeds))  # the library stream yields the rejects in source order
    assert [getattr(i, "reason", "seed") for i in stream] == [
        "seed",
        "seed",
        "bad_field_type",
        "bad_field_type",
        "seed",
        "seed",
    ]


def test_prompt_without_its_placeholder_fails_before_any_request(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path
) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(PromptSet().directory, prompts)
    target = prompts / "rephrase_question.yaml"
    target.write_text(target.read_text().replace("{{problem}}", "the problem").replace("problem]", "]"))
    line = one_line_error(
        *run(
            "build-instruct",
            "--seeds",
            math_seeds_file,
            "--base-url",
            server.url,
            "--prompts-dir",
            prompts,
            "--out",
            tmp_path / "o",
        )
    )
    assert line.startswith(f"{target}: the prompt never uses {{{{problem}}}}")
    assert server.requests == []
    unknown = prompts / "solve.yaml"
    shutil.copy(PromptSet().directory / "solve.yaml", unknown)
    unknown.write_text(
        unknown.read_text()
        .replace("{{question}}", "{{question}} {{hint}}")
        .replace("[question]", "[question, hint]")
    )
    with pytest.raises(ConfigError, match=r"\{\{hint\}\} is not filled in for this prompt"):
        PromptSet(prompts).check(["solve"])


# --- zero seeds -----------------------------------------------------------------------------------------


def test_empty_seeds_file_is_an_error(tmp_path: Path, server: FakeOpenAIServer) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    line = one_line_error(
        *run("build-instruct", "--seeds", empty, "--base-url", server.url, "--out", tmp_path / "o")
    )
    assert line == f"no seeds: {empty} holds no rows - check --from"
    with pytest.raises(NoSeedsError, match=r"check seeds$"):
        list(load_seeds(empty))


def test_a_filter_matching_nothing_names_the_filter_and_the_values(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    need_data()
    line = one_line_error(
        *run(
            "build-instruct",
            "--seeds",
            MATH_TRAIN,
            "--subjects",
            "algbra",
            "--base-url",
            server.url,
            "--out",
            tmp_path / "o",
        )
    )
    assert line.startswith(f"no seeds: --subjects algbra matched none of {', '.join(MATH_SUBJECTS)}")
    line = one_line_error(*run("seeds", MATH_TRAIN, "--subjects", "geometry", "--levels", "7,9"))
    assert line.startswith(
        "no seeds: --levels 7,9 matched none of the levels of the --subjects geometry seeds"
    )
    assert line.endswith("1, 2, 3, 4, 5")
    # the library names its own arguments
    with pytest.raises(
        NoSeedsError, match=r"^no seeds: subjects=\['algbra'\] matched none of algebra, "
    ) as info:
        next(iter_seed_stream(MATH_TRAIN, subjects=["algbra"]))
    assert info.value.filter_field == "subjects"


def test_no_seeds_is_raised_while_streaming() -> None:
    """The error comes when the stream ends empty; a source with seeds streams its first at once."""
    from synthmath.seeds import shard_of

    need_data()
    started = time.monotonic()
    first = next(iter_seed_stream(MATH_TRAIN))
    assert isinstance(first, SeedProblem) and time.monotonic() - started < 1.0
    other = (shard_of(first.id, 4) + 1) % 4
    with pytest.raises(
        NoSeedsError, match=rf"^no seeds: shard='{other}/4' holds none of the 1 selected seeds"
    ):
        list(load_seeds(MATH_TRAIN, limit=1, shard=(other, 4)))


# --- offline first --------------------------------------------------------------------------------------


def test_hub_seeds_offline_fail_fast_and_suggest_a_local_path(monkeypatch: pytest.MonkeyPatch) -> None:
    for offline in ("1", ""):  # offline mode set; then unset, with the network off (the test suite's guard)
        env = {"HF_HUB_OFFLINE": offline, "HF_DATASETS_OFFLINE": offline}
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
        monkeypatch.setenv("HF_DATASETS_OFFLINE", offline)
        started = time.monotonic()
        line = one_line_error(*run("seeds", "EleutherAI/hendrycks_math", env=env))
        assert time.monotonic() - started < 5
        assert "EleutherAI/hendrycks_math" in line and "local seeds path" in line


def test_a_missing_local_path_is_never_looked_up_on_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    line = one_line_error(*run("seeds", "data/seeds"))
    assert line == "data/seeds: no such file or directory - check the path given to --from"


def test_every_log_line_is_printed_once(capsys: pytest.CaptureFixture[str]) -> None:
    """datasets prints its retry lines through its own handler; the CLI must not print them again."""
    from datasets.utils import logging as datasets_logging

    configure_logging()
    retry_logger = datasets_logging.get_logger("datasets.load")
    assert logging.getLogger("datasets").handlers  # datasets' own handler prints the line once
    retry_logger.warning("Retrying in 1s [Retry 1/5].")
    logging.getLogger("synthmath.seeds").warning("ours")
    err = capsys.readouterr().err
    assert "synthmath: Retrying" not in err
    assert err.count("synthmath: ours") == 1


# --- benchmark specs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [("=path.jsonl", "has no name"), ("mine=", "has an empty path"), ("nope", "unknown benchmark 'nope'")],
)
def test_bad_benchmark_specs_are_one_line(tmp_path: Path, spec: str, message: str) -> None:
    records = write_jsonl(tmp_path / "r.jsonl", [{"id": "a", "question": "What is 2+2?"}])
    line = one_line_error(
        *run("check-contamination", records, "--benchmark", spec, "--out", tmp_path / "o", "--no-embeddings")
    )
    assert message in line
    with pytest.raises(ConfigError, match=message):
        parse_benchmark_spec(spec)


def test_settings_are_named_as_fields_in_python_and_as_flags_on_the_cli(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"e\.g\. benchmarks=\['math_test=PATH'\]$"):
        load_benchmarks(["=x.jsonl"])
    records = write_jsonl(tmp_path / "r.jsonl", [{"id": "a", "question": "What is 2+2?"}])
    line = one_line_error(*run("check-contamination", records, "--benchmark", "=x", "--out", tmp_path / "o"))
    assert line.endswith("e.g. --benchmark math_test=PATH")


# --- OS errors ------------------------------------------------------------------------------------------


def _failing_cli(exc: BaseException) -> click.Group:
    @click.group(cls=_Group)
    def cli() -> None:
        pass

    @cli.command()
    @click.option("-v", "--verbose", is_flag=True)
    def go(verbose: bool) -> None:
        raise exc

    return cli


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "out/instruct.jsonl.partial"), "the disk is full"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
        (OSError(errno.EROFS, "Read-only file system", "/ro/cache"), "read-only file system (/ro/cache)"),
        (PermissionError(errno.EACCES, "Permission denied", "/root/x"), "permission denied (/root/x)"),
    ],
)
def test_os_errors_are_one_line_and_a_traceback_only_with_verbose(exc: BaseException, expected: str) -> None:
    result = CliRunner().invoke(_failing_cli(exc), ["go"])
    line = one_line_error(result.exit_code, result.output)
    assert line.startswith(expected)
    verbose = CliRunner().invoke(_failing_cli(exc), ["go", "--verbose"])
    assert verbose.exit_code == 1 and "Traceback" in verbose.output


def test_a_full_disk_under_the_request_cache_is_one_line(tmp_path: Path, math_seeds_file: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    line = one_line_error(
        *run("build-instruct", "--seeds", math_seeds_file, "--cache", "/dev/full", "--out", tmp_path / "o")
    )
    assert "database or disk is full" in line and "free some space" in line and "--no-cache" in line


def test_a_cache_in_a_folder_that_cannot_be_written_says_why(tmp_path: Path, math_seeds_file: Path) -> None:
    try:
        Path("/sys/synthmath-probe").touch()
    except OSError:
        pass
    else:
        pytest.skip("/sys can be written here")
    line = one_line_error(
        *run(
            "build-instruct",
            "--seeds",
            math_seeds_file,
            "--cache",
            "/sys/synthmath.sqlite",
            "--out",
            tmp_path,
        )
    )
    assert line.startswith("cannot open the request cache /sys/synthmath.sqlite (")
    assert line.endswith(
        ": /sys cannot be written) - pass --cache PATH in a folder you can write, or --no-cache"
    )
    assert "unable to open database file" not in line


@pytest.mark.parametrize(
    ("flags", "cli", "library"),
    [
        (
            {"limit": -1},
            "--limit -1 is out of range - give --limit a value of at least 0",
            "limit=-1 is out of range - give limit a value of at least 0",
        ),
        (
            {"question_sampling": {"max_tokens": 0}},
            "--question-max-tokens 0 is out of range - give --question-max-tokens a value of at least 1",
            "question_sampling.max_tokens=0 is out of range - give question_sampling.max_tokens a value of "
            "at least 1",
        ),
    ],
)
def test_a_value_out_of_range_names_the_flag(
    tmp_path: Path, math_seeds_file: Path, flags: dict[str, Any], cli: str, library: str
) -> None:
    from synthmath import BuildConfig

    with pytest.raises(ConfigError) as caught:
        BuildConfig.load(**flags)
    assert str(caught.value) == library
    argv = [f"--{k.replace('_', '-')}" for k in flags]
    if "question_sampling" in flags:
        argv = ["--question-max-tokens", "0"]
    else:
        argv += [str(v) for v in flags.values()]
    assert one_line_error(*run("build-instruct", "--seeds", math_seeds_file, "--out", tmp_path, *argv)) == cli


def test_long_values_are_cut_in_messages(
    tmp_path: Path, math_seeds_file: Path, server: FakeOpenAIServer, math_seeds: list[SeedProblem]
) -> None:
    model = "m" * 100_000
    args = ["--seeds", math_seeds_file, "--base-url", server.url, "--model", model, "--out", tmp_path / "o"]
    line = one_line_error(*run("build-instruct", *args, "--limit", 1))
    assert line.startswith("model 'mmm") and "... (100002 characters) is not served at " in line
    assert len(line) < 400 and line.endswith("(served: fake-math) - set --model to one of these")
    from synthmath import ModelNotFoundError, build_instruct

    with pytest.raises(ModelNotFoundError) as caught:
        list(build_instruct(math_seeds[:1], base_url=server.url, model=model, contamination=False))
    assert len(str(caught.value)) < 400
    out = tmp_path / ("o" * 300)
    line = one_line_error(*run("build-instruct", "--seeds", math_seeds_file, "--out", out, "--limit", 1))
    assert line.startswith(f"a path is too long ({str(out)[:80]}")
    assert line.endswith(
        "characters)): a file or folder name may have at most 255 bytes - choose a shorter --out (or --cache)"
    )


# --- push -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small real build (8 seeds, fake server), shared by the push tests; each test copies it."""
    root = tmp_path_factory.mktemp("build")
    seeds_file = write_jsonl(root / "seeds.jsonl", seed_rows(8))
    with FakeOpenAIServer(MathRephraser(list(load_seeds(seeds_file))), models=["fake-math"]) as server:
        code, output = run(
            "build-instruct",
            "--seeds",
            seeds_file,
            "--base-url",
            server.url,
            "--out",
            root / "out",
            "--no-progress",
        )
    assert code == 0, output
    return root / "out"


def _copy_of(root: Path, finished_build: Path) -> Path:
    shutil.copytree(finished_build, root)
    return root


def test_push_with_no_network_fails_fast_in_one_line(tmp_path: Path, finished_build: Path) -> None:
    build = _copy_of(tmp_path / "b", finished_build)
    for env in ({"HF_HUB_OFFLINE": "1"}, {"HF_HUB_OFFLINE": "", "HF_DATASETS_OFFLINE": ""}):
        started = time.monotonic()
        result = CliRunner().invoke(
            main, ["push", str(build), "--repo-id", "someone/x"], env={"HF_TOKEN": "hf_fake", **env}
        )
        line = one_line_error(result.exit_code, result.output)
        assert time.monotonic() - started < 5
        assert line.startswith("cannot push to someone/x: the Hugging Face Hub is unreachable")
        assert line.endswith("or use --dry-run to stage the upload locally")
        assert not (build / "_hub").exists()  # nothing staged, nothing sent


def test_push_refuses_bad_local_state_before_the_hub(tmp_path: Path, finished_build: Path) -> None:
    build = _copy_of(tmp_path / "b", finished_build)
    (build / "instruct.jsonl").unlink()  # a build whose records were deleted

    class NoHub:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the Hub was called ({name}) before the local checks")

    with pytest.raises(ConfigError, match="records file is missing"):
        push_to_hub(build, "someone/x", api=NoHub())
    with pytest.raises(ConfigError, match="not a valid Hub name"):
        push_to_hub(build, "someone/bad name!", api=NoHub())


class _HTTPError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.response = type("R", (), {"status_code": status})()


def _dns_failure() -> Exception:
    """A host name that does not resolve, wrapped as HTTP clients wrap it."""
    import socket

    error = ConnectionError("cannot connect to huggingface.co")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    return error


def _offline() -> Exception:
    from huggingface_hub.errors import OfflineModeIsEnabled

    return OfflineModeIsEnabled("Cannot reach https://huggingface.co: offline mode is enabled.")


@pytest.mark.parametrize(
    ("make_error", "expected"),
    [
        (lambda: _HTTPError(401), "the Hub refused the token (HTTP 401)"),
        (lambda: _HTTPError(403), "the token may not write to someone/x (HTTP 403)"),
        (_dns_failure, "the Hugging Face Hub is unreachable"),
        (_offline, "the Hugging Face Hub is unreachable"),
    ],
)
def test_push_never_retries_what_cannot_heal(
    tmp_path: Path, finished_build: Path, make_error: Any, expected: str
) -> None:
    build = _copy_of(tmp_path / "b", finished_build)
    calls: list[str] = []

    class Api:
        def list_repo_files(self, *a: Any, **k: Any) -> list[str]:
            calls.append("list")
            raise make_error()

        def create_repo(self, *a: Any, **k: Any) -> None:
            raise AssertionError("the repository must not be created after a failure")

    with pytest.raises(HubError) as info:
        push_to_hub(build, "someone/x", api=Api(), backoff=0.01)
    assert calls == ["list"]  # tried once, never retried
    assert str(info.value).startswith("could not list the repository") and expected in str(info.value)
    assert isinstance(info.value, HubUnreachableError) == ("unreachable" in expected)


def test_push_retries_what_can_heal(tmp_path: Path, finished_build: Path) -> None:
    build = _copy_of(tmp_path / "b", finished_build)
    calls: list[str] = []

    class Flaky:
        def list_repo_files(self, *a: Any, **k: Any) -> list[str]:
            calls.append("list")
            if len(calls) < 3:
                raise _HTTPError(503)
            return []

        def create_repo(self, *a: Any, **k: Any) -> None:
            calls.append("create")

        def create_commit(self, *a: Any, **k: Any) -> None:
            calls.append("commit")

    push_to_hub(build, "someone/x", api=Flaky(), backoff=0.001)
    assert calls == ["list", "list", "list", "create", "commit"]


def test_dry_run_without_matplotlib_skips_the_plots_and_says_so(
    tmp_path: Path, server: FakeOpenAIServer, math_seeds_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "build"
    code, output = run(
        "build-instruct", "--seeds", math_seeds_file, "--base-url", server.url, "--out", out, "--no-progress"
    )
    assert code == 0, output
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    result = CliRunner().invoke(
        main, ["push", str(out), "--repo-id", "someone/x", "--dry-run"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    card = (out / "_hub" / "README.md").read_text()
    assert "were skipped: matplotlib is not installed" in card
    assert not (out / "_hub" / "plots").exists()
    assert sorted(p.name for p in (out / "_hub" / "data").iterdir()) == ["instruct-00000-of-00001.parquet"]


def test_every_setting_named_in_an_error_is_a_flag_and_a_library_name() -> None:
    """Each ``opt(field)`` in the package names a CLI option and a config field or keyword argument,
    so the same error reads right from Python and from the command line."""
    import inspect

    import synthmath
    from synthmath import BuildConfig

    source = "".join(p.read_text() for p in Path(synthmath.__file__).parent.rglob("*.py"))
    fields = set(re.findall(r"\bopt\(['\"]([a-z_]+)['\"]", source))
    assert len(fields) > 10
    options = {p.name for c in main.commands.values() for p in c.params if isinstance(p, click.Option)}
    library = set(BuildConfig.model_fields) | set(inspect.signature(push_to_hub).parameters)
    assert fields - options == set()
    assert fields - library == set()
