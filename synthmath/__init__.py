"""synthmath: synthetic math training data from MATH seeds, following SOLAR's Synth. Math-Instruct and
Synth. Math-Alignment recipe (MetaMath-style rephrasing with an LLM served by vLLM).

The names below are imported on first use (PEP 562), so that ``import synthmath`` and the ``synthmath``
command start in a fraction of a second: the HTTP client (openai), sympy and the contamination check load
only when a build or a check needs them.
"""

import importlib as _importlib
import typing as _typing

from ._version import __version__

if _typing.TYPE_CHECKING:
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
        OutputLockedError,
        SeedError,
        ServerError,
        ServerUnreachableError,
        SynthmathError,
        TextEncodingError,
    )
    from .inspection import BuildOverview, overview
    from .pipeline import BuildStats, Pipeline
    from .plan import BuildPlan, plan_build
    from .prompts import PromptSet
    from .publish import push_to_hub
    from .records import DPORecord, InstructRecord, Message, Meta, Reject, SeedProblem
    from .seeds import iter_seed_stream, load_seeds
    from .summary import Summary, read_summary

_LAZY = {
    "GoldAnswer": ".answers",
    "VerificationTimeout": ".answers",
    "answers_equivalent": ".answers",
    "extract_boxed": ".answers",
    "extract_gsm8k_answer": ".answers",
    "gold_answer": ".answers",
    "abuild_dpo": ".build",
    "abuild_instruct": ".build",
    "build_dpo": ".build",
    "build_instruct": ".build",
    "build_to_dir": ".build",
    "BuildConfig": ".config",
    "StepSampling": ".config",
    "load_benchmarks": ".contamination.benchmarks",
    "ContaminationChecker": ".contamination.check",
    "check_files": ".contamination.run",
    "make_checker": ".contamination.run",
    "open_engine": ".engine.factory",
    "BenchmarkUnavailableError": ".errors",
    "BuildFailedError": ".errors",
    "ConfigError": ".errors",
    "ContaminationError": ".errors",
    "HubError": ".errors",
    "HubUnreachableError": ".errors",
    "ModelNotFoundError": ".errors",
    "NoSeedsError": ".errors",
    "OutputError": ".errors",
    "OutputLockedError": ".errors",
    "SeedError": ".errors",
    "ServerError": ".errors",
    "ServerUnreachableError": ".errors",
    "SynthmathError": ".errors",
    "TextEncodingError": ".errors",
    "BuildOverview": ".inspection",
    "overview": ".inspection",
    "BuildPlan": ".plan",
    "plan_build": ".plan",
    "BuildStats": ".pipeline",
    "Pipeline": ".pipeline",
    "PromptSet": ".prompts",
    "push_to_hub": ".publish",
    "DPORecord": ".records",
    "InstructRecord": ".records",
    "Message": ".records",
    "Meta": ".records",
    "Reject": ".records",
    "SeedProblem": ".records",
    "iter_seed_stream": ".seeds",
    "load_seeds": ".seeds",
    "Summary": ".summary",
    "read_summary": ".summary",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'synthmath' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "BenchmarkUnavailableError",
    "BuildConfig",
    "BuildFailedError",
    "BuildOverview",
    "BuildPlan",
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
    "OutputLockedError",
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
    "overview",
    "plan_build",
    "push_to_hub",
    "read_summary",
]
