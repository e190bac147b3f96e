from __future__ import annotations

import asyncio
from typing import Any

import pytest

from synthmath import ModelNotFoundError, ServerUnreachableError
from synthmath.engine import ChatRequest, ChatResult, OpenAIServerEngine, request_seed
from synthmath.testing import CutConnection, FakeOpenAIServer, HTTPFailure, Reply

from .conftest import free_port

REQ = ChatRequest(messages=[{"role": "user", "content": "hi"}], n=1, seed=11)


def run(engine: OpenAIServerEngine, *requests: ChatRequest) -> list[ChatResult]:
    async def go() -> list[ChatResult]:
        try:
            await engine.start()
            return list(await asyncio.gather(*(engine.complete(r) for r in requests)))
        finally:
            await engine.close()

    return asyncio.run(go())


def engine_for(*servers: FakeOpenAIServer, **kw: Any) -> OpenAIServerEngine:
    kw.setdefault("backoff_base", 0.001)
    return OpenAIServerEngine([s.url for s in servers], **kw)


def test_request_carries_sampling_parameters_and_vllm_extras() -> None:
    with FakeOpenAIServer(models=["m"]) as server:
        req = ChatRequest(
            messages=[{"role": "user", "content": "x"}],
            n=3,
            temperature=0.3,
            top_p=0.9,
            max_tokens=77,
            seed=5,
            extra_body={"top_k": 20, "min_p": 0.05},
        )
        [result] = run(engine_for(server), req)
    body = server.requests[0]
    assert body["model"] == "m" and body["n"] == 3 and body["seed"] == 5
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.3, 0.9, 77)
    assert body["top_k"] == 20 and body["min_p"] == 0.05
    assert len(result.choices) == 3 and result.completion_tokens == 3


def test_retries_500_and_cut_connections() -> None:
    script = iter([HTTPFailure(500), CutConnection(), HTTPFailure(429), Reply(["ok"])])
    with FakeOpenAIServer(lambda body: next(script), models=["m"]) as server:
        engine = engine_for(server)
        [result] = run(engine, REQ)
    assert result.error is None and result.choices[0].text == "ok"
    assert engine.stats.retries == 3 and engine.stats.requests == 1


def test_client_errors_are_not_retried_and_become_errors() -> None:
    with FakeOpenAIServer(lambda body: HTTPFailure(400, "prompt is too long"), models=["m"]) as server:
        engine = engine_for(server)
        [result] = run(engine, REQ)
    assert result.choices == [] and result.error is not None
    assert "HTTP 400" in result.error and "prompt is too long" in result.error
    assert len(server.requests) == 1


def test_persistent_500_gives_up_with_an_error_not_an_exception() -> None:
    with FakeOpenAIServer(lambda body: HTTPFailure(503), models=["m"]) as server:
        [result] = run(engine_for(server, max_retries=2), REQ)
    assert result.error is not None and "after 2 retries" in result.error
    assert len(server.requests) == 3


def test_missing_choices_are_requested_again() -> None:
    with FakeOpenAIServer(lambda body: Reply([f"s{body['seed']}"]), models=["m"]) as server:
        [result] = run(engine_for(server), ChatRequest(messages=REQ.messages, n=3, seed=100))
    assert [c.text for c in result.choices] == ["s100", "s101", "s102"]


def test_unreachable_server_fails_fast() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ServerUnreachableError, match=rf"no server at {url}.*vllm serve"):
        run(OpenAIServerEngine([url], max_retries=0), REQ)


def test_unknown_model_lists_the_served_ones() -> None:
    with FakeOpenAIServer(models=["a", "b"]) as server:
        with pytest.raises(ModelNotFoundError, match=r"'c' is not served.*served: a, b"):
            run(engine_for(server, model="c"), REQ)
        with pytest.raises(ModelNotFoundError, match="served: a, b"):
            run(engine_for(server), REQ)  # two models and no --model: the user must choose


def test_single_served_model_is_picked() -> None:
    with FakeOpenAIServer(models=["only"]) as server:
        engine = engine_for(server)
        run(engine, REQ)
    assert engine.model == "only"


def test_requests_spread_over_several_servers() -> None:
    with FakeOpenAIServer(models=["m"], latency=0.02) as a, FakeOpenAIServer(models=["m"], latency=0.02) as b:
        engine = engine_for(a, b, concurrency=8)
        run(engine, *[REQ] * 40)
    assert len(a.requests) + len(b.requests) == 40
    assert min(len(a.requests), len(b.requests)) >= 10
    assert sum(engine.stats.per_server.values()) == 40


def test_server_that_goes_away_stops_the_run() -> None:
    server = FakeOpenAIServer(models=["m"]).start()
    engine = engine_for(server, max_retries=2)

    async def go() -> None:
        await engine.start()
        server.stop()  # it no longer accepts connections: gone
        try:
            await engine.complete(REQ)
        finally:
            await engine.close()

    with pytest.raises(ServerUnreachableError, match="gave up after 2 retries"):
        asyncio.run(go())


def test_a_server_that_drops_connections_is_up_not_gone() -> None:
    with FakeOpenAIServer(lambda body: CutConnection(), models=["m"]) as server:
        [result] = run(engine_for(server, max_retries=1), REQ)
    assert result.server_failure and result.error is not None
    assert "closed the connection before its reply was complete" in result.error
    assert len(server.requests) == 2


def test_request_seed_is_stable_and_distinct() -> None:
    assert request_seed("train/algebra/0", "rephrase_question", 0, 0) == request_seed(
        "train/algebra/0", "rephrase_question", 0, 0
    )
    seeds = {request_seed("s", step, i, run) for step in ("a", "b") for i in range(3) for run in (0, 1)}
    assert len(seeds) == 12


def test_a_server_that_stops_answering_is_drained() -> None:
    dead = {"on": False}
    with (
        FakeOpenAIServer(models=["m"], latency=0.01) as a,
        FakeOpenAIServer(
            lambda body: CutConnection() if dead["on"] else Reply(["b"]), models=["m"], latency=0.01
        ) as b,
    ):
        engine = engine_for(a, b, concurrency=4)
        run(engine, *[REQ] * 20)
        before = len(b.requests)
        dead["on"] = True
        engine = engine_for(a, b, concurrency=4)
        results = run(engine, *[REQ] * 60)
        a_url = a.url
    assert before >= 5
    assert all(r.error is None for r in results)
    # once drained, b sees only the few requests that found it dead (and the probes)
    assert len(b.requests) - before <= 6
    assert engine.stats.per_server[a_url] == 60


def test_an_unreachable_server_among_several_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with FakeOpenAIServer(models=["m"]) as a:
        engine = OpenAIServerEngine([url, a.url])
        results = run(engine, *[REQ] * 5)
    assert all(r.error is None for r in results) and len(a.requests) == 5
    assert f"{url} does not answer" in caplog.text


def test_a_slow_request_becomes_an_error_not_a_stopped_run() -> None:
    with FakeOpenAIServer(models=["m"], latency=0.6) as server:
        engine = engine_for(server, timeout=0.2, max_retries=1)
        [result] = run(engine, REQ)
    assert result.error is not None and "after 1 retries" in result.error
