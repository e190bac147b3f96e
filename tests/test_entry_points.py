"""The library where users call it: a script without a main guard, ``python -c``, code read from stdin (a
notebook's cells run in a ``__main__`` without a file), a thread; and what ``import synthmath`` loads.

Each case runs in a fresh interpreter, as a user's would: the worker processes must start without
running the caller's main module again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import ROOT, SAMPLE

# what a user writes: no `if __name__ == "__main__":` guard, functions defined in __main__
BUILD = textwrap.dedent(
    f"""
    import threading
    from synthmath import BuildConfig, build_instruct, load_seeds
    from synthmath.testing import FakeMathModel, FakeOpenAIServer

    def build(url):
        seeds = list(load_seeds({str(SAMPLE)!r}, limit=2))
        return list(build_instruct(seeds, base_url=url, contamination=False, workers=1))

    with FakeOpenAIServer(FakeMathModel()) as server:
        records = build(server.url)
        print("main thread:", len(records), "records")
        if WITH_THREAD:
            got = []
            worker = threading.Thread(target=lambda: got.append(build(server.url)))
            worker.start()
            worker.join()
            print("thread:", len(got[0]), "records")
            # shard tasks in processes of their own, each with its own workers
            config = BuildConfig.load(seeds={str(SAMPLE)!r}, limit=2, base_url=server.url,
                                      contamination=False, workers=1, tasks=2)
            print("tasks:", len(list(build_instruct(config=config))), "records")
    """
)


def _python(
    args: list[str], stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, timeout=240, env=env, cwd=cwd
    )


def _records(out: str, where: str) -> int:
    line = next(ln for ln in out.splitlines() if ln.startswith(where))
    return int(line.split()[-2])


def test_a_script_without_a_main_guard_builds_in_its_main_thread_a_thread_and_tasks(tmp_path: Path) -> None:
    script = tmp_path / "my_build.py"
    script.write_text("WITH_THREAD = True\n" + BUILD)
    done = _python([str(script)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "bootstrapping" not in done.stderr
    assert _records(done.stdout, "main thread:") > 0
    assert _records(done.stdout, "thread:") == _records(done.stdout, "main thread:")
    assert _records(done.stdout, "tasks:") == _records(done.stdout, "main thread:")


@pytest.mark.parametrize("how", ["-c", "stdin"])
def test_code_without_a_file_builds(how: str, tmp_path: Path) -> None:
    """``python -c`` and code from stdin: a ``__main__`` with no file, as in a notebook."""
    code = "WITH_THREAD = False\n" + BUILD
    done = _python(["-c", code], cwd=tmp_path) if how == "-c" else _python(["-"], stdin=code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _records(done.stdout, "main thread:") > 0


def test_import_synthmath_loads_neither_the_http_client_nor_sympy() -> None:
    probe = (
        "import sys, synthmath\n"
        "from synthmath.cli import main\n"
        "print(sorted(m for m in ('openai', 'httpx2', 'sympy', 'datasets', 'torch') if m in sys.modules))\n"
        "synthmath.BuildConfig\n"
        "print('openai' in sys.modules)\n"
    )
    done = _python(["-c", probe])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "False"]


def test_help_loads_no_build_machinery() -> None:
    probe = (
        "import sys\n"
        "from synthmath.cli import main\n"
        "try:\n"
        "    main(['build-dpo', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('openai', 'sympy', 'pydantic', 'synthmath.config') if m in sys.modules))\n"
    )
    done = _python(["-c", probe])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
