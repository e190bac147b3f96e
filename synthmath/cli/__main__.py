"""``python -m synthmath.cli``."""

from . import main

main()
