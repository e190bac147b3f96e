"""The in-process vLLM backend: batching and records, with vllm.LLM faked at its boundary (and for real
when vllm is installed and SYNTHMATH_VLLM_MODEL names a model to load)."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from typing import Any

import pytest

from synthmath import BuildConfig, ConfigError, SeedProblem, build_instruct
from synthmath.engine.vllm_engine import VLLMEngine
from synthmath.install import install_hint
from synthmath.pipeline import Pipeline
from synthmath.testing import FakeOpenAIServer

from .fakes import MathRephraser


@dataclass
class _Out:
    text: str
    finish_reason: str
    token_ids: list[int]


@dataclass
class _RequestOutput:
    outputs: list[_Out]
    prompt_token_ids: list[int]


@dataclass
class FakeLLM:
    """``vllm.LLM.chat`` answered by a FakeOpenAIServer-style handler; records its batch sizes."""

    handler: Any
    batches: list[int] = field(default_factory=list)

    def chat(self, messages: list[Any], sampling_params: list[dict[str, Any]], use_tqdm: bool) -> list[Any]:
        self.batches.append(len(messages))
        outs = []
        for m, p in zip(messages, sampling_params, strict=True):
            reply = self.handler({"messages": m, **p})
            outs.append(_RequestOutput([_Out(t, "stop", t.split()) for t in reply.texts], [0] * 10))
        return outs


def test_vllm_backend_gives_the_same_records_as_a_server(math_seeds: list[SeedProblem]) -> None:
    seeds = math_seeds[:12]
    with FakeOpenAIServer(MathRephraser(seeds), models=["m"]) as server:
        via_server = [
            r.model_dump(exclude={"meta"})
            for r in build_instruct(seeds, base_url=server.url, contamination=False)
        ]
    llm = FakeLLM(MathRephraser(seeds))
    engine = VLLMEngine("m", llm=llm, sampling_params=dict)
    pipeline = Pipeline(BuildConfig.load(backend="vllm", model="m", contamination=False), "instruct", engine)

    async def run() -> list[dict[str, Any]]:
        await engine.start()
        try:
            rows = [json.loads(e.line) async for e in pipeline.run(seeds) if e.kind == "record"]
        finally:
            await engine.close()
        return [{k: v for k, v in r.items() if k != "meta"} for r in rows]

    via_vllm = asyncio.run(run())
    assert via_vllm == via_server and via_vllm
    assert max(llm.batches) > 1  # pending requests go to vLLM together
    assert sum(llm.batches) == engine.stats.requests == 36


def test_vllm_backend_needs_vllm_or_a_model() -> None:
    with pytest.raises(ConfigError, match="needs model=HF_ID_OR_PATH"):
        VLLMEngine(None)
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError) as e:
            list(build_instruct([], backend="vllm", model="x"))
        assert install_hint("vllm") in str(e.value)


def test_vllm_args_parse_key_values() -> None:
    cfg = BuildConfig.load(vllm_args=["tensor_parallel_size=2", "enforce-eager=true", "dtype=bfloat16"])
    assert cfg.vllm_args == {"tensor_parallel_size": 2, "enforce_eager": True, "dtype": "bfloat16"}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        BuildConfig.load(vllm_args=["oops"])


@pytest.mark.skipif(not os.environ.get("SYNTHMATH_VLLM_MODEL"), reason="set SYNTHMATH_VLLM_MODEL to run vLLM")
def test_real_vllm_in_process(math_seeds: list[SeedProblem]) -> None:  # pragma: no cover - opt-in
    pytest.importorskip("vllm")
    rejects: list[Any] = []
    records = list(
        build_instruct(
            math_seeds[:2],
            backend="vllm",
            model=os.environ["SYNTHMATH_VLLM_MODEL"],
            max_tokens=256,
            vllm_args={"max_model_len": 2048},
            on_reject=rejects.append,
        )
    )
    assert len(records) + len(rejects) >= 2
