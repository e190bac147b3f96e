"""The package as users get it: public names, the wheel's contents, help text and docs for every command."""

from __future__ import annotations

import inspect
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import synthmath
from synthmath.cli import main

from .conftest import ROOT


def test_public_names_are_exported() -> None:
    for name in synthmath.__all__:
        assert hasattr(synthmath, name), name
    imported = {n for n, v in vars(synthmath).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert imported == set(synthmath.__all__) - {"__version__"}


def test_wheel_ships_the_prompts(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {proc.stderr.strip()[-300:]}")
    [wheel] = tmp_path.glob("synthmath-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for prompt in (ROOT / "prompts").glob("*.yaml"):
        assert f"synthmath/_prompts/{prompt.name}" in names
    assert "synthmath/py.typed" in names


def test_every_command_has_help_and_docs() -> None:
    docs = (ROOT / "README.md").read_text() + "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    runner = CliRunner()
    for name, command in main.commands.items():
        assert command.help, name
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        assert f"synthmath {name}" in docs, f"{name} is not documented"


def test_install_hints_work_from_a_checkout() -> None:
    """From a checkout synthmath is not on any package index: the hint installs the checkout itself."""
    from synthmath.install import install_hint

    hint = install_hint("hub")
    assert hint.startswith("pip install -e '") and hint.endswith("[hub]'")
    target = hint.removeprefix("pip install -e '").removesuffix("[hub]'")
    assert (Path(target) / "pyproject.toml").is_file()
