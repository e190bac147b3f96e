"""How to install an extra, said for this installation: from a checkout (an editable install),
``pip install -e '.[hub]'`` (``pip install 'synthmath[hub]'`` fails there: synthmath is not on a package
index); from a package index, ``pip install 'synthmath[hub]'``."""

from __future__ import annotations

from pathlib import Path

__all__ = ["install_hint"]


def install_hint(extra: str) -> str:
    """The command that installs ``synthmath[extra]`` where this synthmath was installed from."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file():  # a checkout: the package sits beside its pyproject.toml
        target = "." if Path.cwd().resolve() == root else str(root)
        return f"pip install -e '{target}[{extra}]'"
    return f"pip install 'synthmath[{extra}]'"
