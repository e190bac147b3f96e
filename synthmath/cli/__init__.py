"""The ``synthmath`` command: parses flags into a config and calls the library.

``_app`` holds the group and the error handling, ``options`` the shared flags, ``build`` the two build
commands, ``tools`` the others (push, check-contamination, merge, seeds).
"""

from . import build, fake, show, tools  # noqa: F401  (registers the commands)
from ._app import _Group, main

__all__ = ["_Group", "main"]
