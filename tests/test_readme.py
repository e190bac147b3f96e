"""Every Python snippet of the README runs as a script, against the fake model.

Each ```python block is run in a fresh interpreter, as a user would paste it into a file, with three
changes for a machine without a GPU or the Hub: the Hub seed source reads the 40 test problems, the
server URL is the fake model's, and the contamination gate is off (its benchmarks come from the Hub).
The gate is switched off by adding ``contamination=False`` to the calls that build, so the snippet's
text is otherwise run as written."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthmath.testing import FakeMathModel, FakeOpenAIServer

from .conftest import ROOT, SAMPLE

README = (ROOT / "README.md").read_text(encoding="utf-8")
SNIPPETS = re.findall(r"```python\n(.*?)```", README, re.S)
RUN_YAML = re.search(r"With a `run.yaml` such as\n\n```yaml\n(.*?)```", README, re.S)
_BUILDERS = {"build_instruct", "build_dpo", "abuild_instruct", "abuild_dpo", "load"}


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    with FakeOpenAIServer(FakeMathModel(), models=["fake-math"]) as server:
        yield server.url


def _offline(text: str, url: str) -> str:
    return text.replace("EleutherAI/hendrycks_math", str(SAMPLE)).replace("http://localhost:8000/v1", url)


def _gate_off(code: str) -> str:
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in _BUILDERS and not any(k.arg == "contamination" for k in node.keywords):
                node.keywords.append(ast.keyword("contamination", ast.Constant(False)))
    return ast.unparse(tree)


def test_the_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 3 and RUN_YAML is not None


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs_as_a_script(index: int, fake_url: str, tmp_path: Path) -> None:
    assert RUN_YAML is not None
    (tmp_path / "run.yaml").write_text(_offline(RUN_YAML.group(1), fake_url))
    script = tmp_path / f"snippet_{index}.py"
    script.write_text(_gate_off(_offline(SNIPPETS[index], fake_url)))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=240, env=env
    )
    assert done.returncode == 0, f"README snippet {index}:\n{SNIPPETS[index]}\n{done.stderr}"
    assert done.stdout.strip(), "the snippet printed nothing"
