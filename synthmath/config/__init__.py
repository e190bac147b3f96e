"""One validated config object per command.

CLI flags, config files (``--config run.yaml``) and library keyword arguments all map one to one onto
the fields of :class:`BuildConfig`. Precedence: library/CLI values over the file over the defaults.

The config is made of parts, one module each, named after what they decide:

- ``seeds``: the seed source and the selection from it;
- ``output``: where the build writes, and the request cache;
- ``execution``: executor, shard tasks, CPU workers, failure rules;
- ``generation``: prompts, rephrasings, kinds of data, rounds, voted gold answers;
- ``checks``: the question and answer checks;
- ``gate``: the contamination gate;
- ``sampling``: run-wide and per-step sampling;
- ``engine``: servers, in-process vLLM, a managed server, concurrency and retries.

``io`` reads what becomes a config (files, ``KEY=VALUE`` flags) and words validation errors.
"""

from .build import PARTS, BuildConfig
from .engine import DEFAULT_BASE_URL, LOCAL_CONCURRENCY
from .execution import TaskSlice
from .sampling import StepSampling

__all__ = ["DEFAULT_BASE_URL", "LOCAL_CONCURRENCY", "PARTS", "BuildConfig", "StepSampling", "TaskSlice"]
