"""A fast OpenAI-compatible fake server for benchmarks: asyncio, HTTP/1.1 keep-alive, fixed latency.

It answers like a faithful rephrasing model that is always right, so that synthmath's pipeline keeps
every candidate: a question request gets the problem back reworded (synthmath.testing.reword) behind a
new opening; an answer request (synthmath's rephrase_answer prompt) gets the reference solution back,
reworded the same way, so that the copy checks pass it. Run it in its own process so it
does not share the client's interpreter:

    python benchmarks/fake_vllm.py --port 8100 --latency 0.05 [--record bodies.jsonl]

``GET /v1/stats`` returns (and resets) the number of chat requests answered and the monotonic times of
the first and last, for steady-state rates, and the most requests it held in flight at once;
``GET /v1/stats?peek`` the same without resetting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from synthmath.testing import reword

OPENINGS = ["Consider this problem. ", "Here is a question. ", "Work out the following. ", "Try this one. "]
SOLUTION = re.compile(r"Reference solution:\n(.*?)\n\nReworded problem:", re.S)


def reply(body: dict) -> dict:
    n = int(body.get("n") or 1)
    last = body["messages"][-1]["content"]
    m = SOLUTION.search(last)
    if m:
        opening = "Working through the reworded problem.\n\n"
        texts = [opening + reword(m.group(1), i, rewrap_math=True) for i in range(n)]
    else:
        texts = [OPENINGS[i % len(OPENINGS)] + reword(last.strip(), i) for i in range(n)]
    words = sum(len(str(x.get("content", "")).split()) for x in body["messages"])
    out = sum(len(t.split()) for t in texts)
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model"),
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
            for i, t in enumerate(texts)
        ],
        "usage": {"prompt_tokens": words, "completion_tokens": out, "total_tokens": words + out},
    }


STATS = {"requests": 0, "first": 0.0, "last": 0.0, "in_flight": 0, "max_in_flight": 0}


async def handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float, model: str, record: Any
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
            length = int(headers.get("content-length", 0))
            raw = await reader.readexactly(length) if length else b""
            if method == "GET" and "/stats?peek" in path:
                data = dict(STATS)
            elif method == "GET" and path.rstrip("/").endswith("/stats"):
                data = dict(STATS)
                STATS.update(requests=0, first=0.0, last=0.0, max_in_flight=STATS["in_flight"])
            elif method == "GET" and path.rstrip("/").endswith("/models"):
                data = {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "fake"}]}
            elif method == "POST" and path.rstrip("/").endswith("/chat/completions"):
                now = time.monotonic()
                STATS["first"] = STATS["first"] or now
                if record is not None:
                    record.write(raw.decode() + "\n")
                STATS["in_flight"] += 1
                STATS["max_in_flight"] = max(STATS["max_in_flight"], STATS["in_flight"])
                try:
                    if latency:
                        await asyncio.sleep(latency)
                    data = reply(json.loads(raw))
                finally:
                    STATS["in_flight"] -= 1
                STATS["requests"] += 1
                STATS["last"] = time.monotonic()
            else:
                data = {"error": {"message": f"no route {path}"}}
            payload = json.dumps(data).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(payload)).encode()
                + b"\r\n\r\n"
                + payload
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int, latency: float, model: str, record: str | None) -> None:
    sink = open(record, "w", encoding="utf-8") if record else None  # noqa: SIM115
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, latency, model, sink), "127.0.0.1", port, backlog=4096, limit=2**22
    )
    print(f"ready on http://127.0.0.1:{port}/v1", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8100)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--model", default="fake")
    ap.add_argument("--record", help="append every chat request body to this file (JSON lines)")
    args = ap.parse_args()
    asyncio.run(main(args.port, args.latency, args.model, args.record))
