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
from .build import abuild_dpo, abuild_instruct, build_dpo, build_instruct, build_to_dir
from .config import BuildConfig, StepSampling
from .contamination.benchmarks import load_benchmarks
from .contamination.check import ContaminationChecker
from .contamination.run import check_files, make_checker
from .engine.factory import open_engine
from .errors import (
    BenchmarkUnavailableError,
    BuildFailedError,
    ConfigError,
    ContaminationError,
    HubError,
    HubUnreachableError,
    ModelNotFoundError,
    NoSeedsError,
    OutputError,
    SeedError,
    ServerError,
    ServerUnreachableError,
    SynthmathError,
    TextEncodingError,
)
from .pipeline import BuildStats, Pipeline
from .prompts import PromptSet
from .publish import push_to_hub
from .records import DPORecord, InstructRecord, Message, Meta, Reject, SeedProblem
from .seeds import iter_seed_stream, load_seeds
from .summary import Summary, read_summary

__all__ = [
    "BenchmarkUnavailableError",
    "BuildConfig",
    "BuildFailedError",
    "BuildStats",
    "ConfigError",
    "ContaminationChecker",
    "ContaminationError",
    "DPORecord",
    "GoldAnswer",
    "HubError",
    "HubUnreachableError",
    "InstructRecord",
    "Message",
    "Meta",
    "ModelNotFoundError",
    "NoSeedsError",
    "OutputError",
    "Pipeline",
    "PromptSet",
    "Reject",
    "SeedError",
    "SeedProblem",
    "ServerError",
    "ServerUnreachableError",
    "StepSampling",
    "Summary",
    "SynthmathError",
    "TextEncodingError",
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
    "iter_seed_stream",
    "load_benchmarks",
    "load_seeds",
    "make_checker",
    "open_engine",
    "push_to_hub",
    "read_summary",
]
