"""The async API, for Jupyter and other code that already runs an event loop.

``build_instruct`` / ``build_dpo`` refuse to run inside a running event loop (they raise a ConfigError
that names the functions below). ``abuild_instruct`` / ``abuild_dpo`` take the same arguments and are
async generators. This script uses the fake server and model of build_with_fake_server.py, so it needs
no GPU:

    python examples/async_with_fake_server.py

In a Jupyter cell, where a loop is already running, write the body of ``collect`` directly:
``records = [r async for r in abuild_dpo(...)]``.
"""

from __future__ import annotations

import asyncio

from build_with_fake_server import SEEDS, FakeModel

from synthmath import ConfigError, DPORecord, abuild_dpo, build_dpo
from synthmath.testing import FakeOpenAIServer


async def collect(url: str) -> list[DPORecord]:
    return [record async for record in abuild_dpo(SEEDS, base_url=url, rephrasings=2, contamination=False)]


async def sync_api_inside_a_loop(url: str) -> None:
    try:
        list(build_dpo(SEEDS, base_url=url, contamination=False))
    except ConfigError as e:
        print(f"build_dpo inside a running loop: {e}")


def main() -> None:
    with FakeOpenAIServer(FakeModel(SEEDS), models=["fake-math-model"]) as server:
        records = asyncio.run(collect(server.url))
        asyncio.run(sync_api_inside_a_loop(server.url))
    for record in records:
        print(f"{record.id}: {record.prompt!r}")
    print(f"{len(records)} DPO records")


if __name__ == "__main__":
    main()
