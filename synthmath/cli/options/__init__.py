"""The flags every build command shares, as decorator bundles, and how they become one BuildConfig:
``--help`` sections (:mod:`.grouped`), then one module per part of the config the flags set."""

from .augment import augment_options
from .gate import contamination_options
from .generation import generation_options
from .grouped import SECTIONS, GroupedCommand, GroupedOption
from .run import _config, run_options
from .seeds import seed_options
from .steps import step_options

__all__ = [
    "SECTIONS",
    "GroupedCommand",
    "GroupedOption",
    "_config",
    "augment_options",
    "contamination_options",
    "generation_options",
    "run_options",
    "seed_options",
    "step_options",
]
