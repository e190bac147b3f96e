"""A scriptable OpenAI-compatible HTTP server for tests, examples and benchmarks (standard library only).

    def handler(request: dict) -> Reply | HTTPFailure | CutConnection | str | list[str]:
        return Reply(["a rephrasing"] * request.get("n", 1))

    with FakeOpenAIServer(handler, models=["fake"]) as server:
        build_instruct(seeds, base_url=server.url)

The handler sees each ``/v1/chat/completions`` body and returns the reply: one text per requested
choice, an HTTP error, or a dropped connection. The server answers ``/v1/models`` with ``models``, fills
in ``usage`` (whitespace-separated words as tokens), and keeps every request body in ``requests``.

:func:`reword` is a mechanical stand-in for a model's rewording (formulas and numbers kept, the other
words changed), for handlers that must pass synthmath's copy checks.

:class:`~synthmath.fake_engine.FunctionEngine` serves the same handlers in process, with no HTTP
(for tests that are not about the client). :class:`~synthmath.fake_model.FakeMathModel` is a handler
that rewords and solves MATH-like problems by rule, enough for a build to keep records: ``synthmath
fake-server`` (or ``python -m synthmath.testing``) serves it until stopped (``--echo``: a handler that
sends each prompt back instead). The module takes
the command lines of ``vllm serve MODEL`` and of ``python -m llama_cpp.server`` (flags it does not know
are ignored), so tests can stand it in for either as a managed server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .fake_engine import FunctionEngine
from .fake_model import FakeMathModel
from .fake_replies import CutConnection, Handler, HTTPFailure, RawReply, Reply
from .mathtext import NUMBER_WORDS
from .steps.conditions import CONDITIONS

__all__ = [
    "CutConnection",
    "FakeMathModel",
    "FakeOpenAIServer",
    "FunctionEngine",
    "HTTPFailure",
    "RawReply",
    "Reply",
    "reword",
    "serve",
]

# what reword leaves alone: math, diagrams, LaTeX commands with their arguments
_KEEP = re.compile(
    r"(\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)|\[asy\].*?\[/asy\]|\\[a-zA-Z]+(?:\{[^{}]*\})*)", re.S
)
_PROSE_WORD = re.compile(r"(?<![\\\w])[A-Za-z]{3,}(?![\w{])")
# number words (and words that hint at a number) carry the numbers the question checks look for
_SPARE = NUMBER_WORDS | {"once", "pair", "square", "squared", "cube", "cubed", "first", "second", "third"}
_SPARE |= {"thirds", "fourth", "quarters", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"}
# and the words that state a condition ("distinct", "relatively prime", "product"), which the condition
# check looks for
_CONDITION = re.compile("(" + "|".join(t for trigger, _ in CONDITIONS.values() for t in trigger) + ")", re.I)


def _respell(word: str, variant: int) -> str:
    if word.lower() in _SPARE:
        return word
    cut = len(word) // (2 if variant % 6 < 4 else 3)
    turned = word[cut:] + word[:cut]
    return [turned, word[::-1], turned[::-1], "".join(sorted(word)), turned, turned[::-1]][variant % 6]


def reword(text: str, variant: int = 0, *, rewrap_math: bool = False) -> str:
    """A mechanical "rewording" for fake models: every prose word of three or more letters is
    respelled (one of six ways, by ``variant``), while math, diagrams, LaTeX commands, digits, number
    words and the words that state a condition ("distinct", "product") are kept. Unreadable, but it
    passes the copy checks as an honest rewording would.

    ``rewrap_math`` writes inline ``$...$`` math as ``\\(...\\)``, as a rewritten solution would not
    carry a formula-only original verbatim.
    """
    respell = lambda m: _respell(m.group(0), variant)  # noqa: E731

    def prose(p: str) -> str:
        words = _CONDITION.split(p)
        return "".join(w if j % 2 else _PROSE_WORD.sub(respell, w) for j, w in enumerate(words))

    parts = _KEEP.split(text)
    out = "".join(p if i % 2 else prose(p) for i, p in enumerate(parts))
    pieces = out.split("$")
    if not rewrap_math or "$$" in out or len(pieces) % 2 == 0:
        return out
    return "".join(p if k % 2 == 0 else f"\\({p}\\)" for k, p in enumerate(pieces))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default backlog of 5 refuses connections under real concurrency

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that went away (a build stopping): not the server's fault, no traceback
        super().handle_error(request, client_address)


def echo_handler(request: dict[str, Any]) -> Reply:
    last = request["messages"][-1]["content"]
    return Reply([last] * int(request.get("n") or 1))


@dataclass
class FakeOpenAIServer:
    handler: Handler = echo_handler
    models: list[str] = field(default_factory=lambda: ["fake-model"])
    latency: float = 0.0
    version: str = "0.0.0-fake"
    host: str = "127.0.0.1"
    port: int = 0
    max_model_len: int | None = None  # said in /v1/models, as vLLM does
    requests: list[dict[str, Any]] = field(default_factory=list)
    # called for each GET /v1/models: a RawReply replaces the model list (it may also block: a hang)
    models_reply: Callable[[], RawReply | None] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    @property
    def url(self) -> str:
        """The base URL to give as ``--base-url`` (ends in ``/v1``)."""
        assert self._server is not None, "start the server first"
        return f"http://{self.host}:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAIServer:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake._connections.add(self.connection)

            def finish(self) -> None:
                with fake._lock:
                    fake._connections.discard(self.connection)
                super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any] | bytes, cut_after: int | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if cut_after is None:
                    self.wfile.write(data)
                    return
                self.wfile.write(data[:cut_after])
                self.wfile.flush()
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/version":
                    self._send(200, {"version": fake.version})
                elif self.path.rstrip("/").endswith("/models"):
                    raw = fake.models_reply() if fake.models_reply is not None else None
                    if raw is not None:
                        self._send(raw.status, raw.body, raw.cut_after)
                        return
                    data: list[dict[str, Any]] = [
                        {"id": m, "object": "model", "owned_by": "fake"} for m in fake.models
                    ]
                    if fake.max_model_len is not None:
                        data = [{**d, "max_model_len": fake.max_model_len} for d in data]
                    self._send(200, {"object": "list", "data": data})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if len(raw) < length:  # the client went away mid-request: nothing was asked
                    self.close_connection = True
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send(400, {"error": {"message": "the request body is not JSON"}})
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                with fake._lock:
                    fake.requests.append(body)
                if body.get("model") not in fake.models:
                    self._send(
                        404, {"error": {"message": f"The model `{body.get('model')}` does not exist."}}
                    )
                    return
                if fake.latency:
                    time.sleep(fake.latency)
                result = fake.handler(body)
                if isinstance(result, CutConnection):
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(result, HTTPFailure):
                    self._send(result.status, {"error": {"message": result.message, "code": result.status}})
                    return
                if isinstance(result, RawReply):
                    self._send(result.status, result.body, result.cut_after)
                    return
                if isinstance(result, str):
                    result = Reply([result] * int(body.get("n") or 1))
                elif isinstance(result, list):
                    result = Reply([*result])
                reasons = result.finish_reasons or ["stop"] * len(result.texts)
                prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
                completion_tokens = sum(len((t or "").split()) for t in result.texts)
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body["model"],
                        "choices": [
                            {
                                "index": i,
                                "message": {"role": "assistant", "content": t},
                                "finish_reason": reasons[i],
                            }
                            for i, t in enumerate(result.texts)
                        ],
                        "usage": {
                            "prompt_tokens": prompt_tokens,
                            "completion_tokens": completion_tokens,
                            "total_tokens": prompt_tokens + completion_tokens,
                        },
                    },
                )

        self._server = _Server((self.host, self.port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close the open connections, as a server that exits does."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    model: str = "fake-math",
    echo: bool = False,
    latency: float = 0.0,
    on_request: Callable[[dict[str, Any]], None] | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve :class:`FakeMathModel` (or, with ``echo``, the prompts sent back) at ``host:port`` until
    SIGINT or SIGTERM. ``on_ready`` gets the base URL once the server listens."""
    model_handler: Handler = echo_handler if echo else FakeMathModel()

    def handler(request: dict[str, Any]) -> Any:
        if on_request is not None:
            on_request(request)
        if latency:
            time.sleep(latency)
        return model_handler(request)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    try:
        with FakeOpenAIServer(handler, models=[model], host=host, port=port) as s:
            if on_ready is not None:
                on_ready(s.url)
            threading.Event().wait()
    except KeyboardInterrupt:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the fake math model (FakeMathModel) until SIGINT or SIGTERM; print one line per request."""
    parser = argparse.ArgumentParser(prog="python -m synthmath.testing", description=main.__doc__)
    parser.add_argument("words", nargs="*", help="as `vllm serve MODEL` gets them")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", help="llama_cpp.server's model file (its name is served)")
    parser.add_argument("--model_alias", "--served-model-name", dest="alias", help="the served name")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    parser.add_argument("--startup-delay", type=float, default=0.0, help="seconds before listening")
    parser.add_argument("--echo", action="store_true", help="send each prompt back instead")
    args, _ = parser.parse_known_args(argv)
    words = [w for w in args.words if w != "serve"]
    name = args.alias or (words[0] if words else None) or args.model or "fake-math"
    time.sleep(args.startup_delay)
    serve(
        host=args.host,
        port=args.port,
        model=name,
        echo=args.echo,
        latency=args.latency,
        on_request=lambda r: print(f"request {r.get('model')} n={r.get('n', 1)}", flush=True),
        on_ready=lambda url: print(f"serving {name} at {url}", flush=True),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
