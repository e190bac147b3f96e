"""synthmath: synthetic math training data from MATH seeds, following SOLAR's Synth. Math-Instruct and
Synth. Math-Alignment recipe (MetaMath-style rephrasing with an LLM served by vLLM)."""

from ._version import __version__
from .answers import (
    GoldAnswer,
    VerificationTimeout,
    answers_equivalent,
    extract_boxed,
    extract_gsm8k_answer,
    gold_answer,
)
from .build import BuildStats, Pipeline, abuild_dpo, abuild_instruct, build_dpo, build_instruct
from .config import BuildConfig
from .contamination.benchmarks import load_benchmarks
from .contamination.check import ContaminationChecker
from .contamination.run import check_files, make_checker
from .errors import (
    BenchmarkUnavailableError,
    ConfigError,
    ContaminationError,
    ModelNotFoundError,
    OutputError,
    SeedError,
    ServerError,
    ServerUnreachableError,
    SynthmathError,
)
from .output import build_to_dir
from .prompts import PromptSet
from .publish import push_to_hub
from .records import DPORecord, InstructRecord, Message, Meta, Reject, SeedProblem
from .seeds import load_seeds

__all__ = [
    "BenchmarkUnavailableError",
    "BuildConfig",
    "BuildStats",
    "ConfigError",
    "ContaminationChecker",
    "ContaminationError",
    "DPORecord",
    "GoldAnswer",
    "InstructRecord",
    "Message",
    "Meta",
    "ModelNotFoundError",
    "OutputError",
    "Pipeline",
    "PromptSet",
    "Reject",
    "SeedError",
    "SeedProblem",
    "ServerError",
    "ServerUnreachableError",
    "SynthmathError",
    "VerificationTimeout",
    "__version__",
    "abuild_dpo",
    "abuild_instruct",
    "answers_equivalent",
    "build_dpo",
    "build_instruct",
    "build_to_dir",
    "check_files",
    "extract_boxed",
    "extract_gsm8k_answer",
    "gold_answer",
    "load_benchmarks",
    "load_seeds",
    "make_checker",
    "push_to_hub",
]
