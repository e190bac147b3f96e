"""Ordering and driving async streams: ``ordered_map`` keeps seed order with bounded concurrency;
``started_ahead`` starts a job for each item some items before the item is taken;
``with_ticks`` interleaves a stream with ticks while it is quiet; ``iterate_sync`` drives an async
iterator from synchronous code."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

from ..errors import ConfigError

__all__ = ["iterate_sync", "ordered_map", "started_ahead", "with_ticks"]

T = TypeVar("T")
R = TypeVar("R")


async def ordered_map(items: Iterator[T], fn: Callable[[T], Awaitable[R]], window: int) -> AsyncIterator[R]:
    """``fn`` over ``items`` with at most ``window`` calls running, results yielded in input order.

    A slow item does not stall the others: new items are admitted as any call finishes, up to
    ``4 * window`` finished-but-unyielded results (which bounds memory).
    """
    pending: deque[asyncio.Task[R]] = deque()
    running = 0
    wake = asyncio.Event()
    exhausted = False

    def done(_: asyncio.Task[R]) -> None:
        nonlocal running
        running -= 1
        wake.set()

    try:
        while True:
            while not exhausted and running < window and len(pending) < 4 * window:
                try:
                    item = next(items)
                except StopIteration:
                    exhausted = True
                    break
                task = asyncio.ensure_future(fn(item))
                running += 1
                task.add_done_callback(done)
                pending.append(task)
            if pending and pending[0].done():
                yield pending.popleft().result()
                continue
            if not pending:
                return
            if wake.is_set():  # something finished since the last look: admit more before waiting
                wake.clear()
                continue
            await wake.wait()
    finally:
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def started_ahead(
    items: Iterator[T], ahead: int, start: Callable[[T], asyncio.Future[R] | None]
) -> Iterator[tuple[T, asyncio.Future[R] | None]]:
    """Each item with the job ``start`` began for it (or None) ``ahead`` items before the item is
    taken. A job nobody reads has its result or error swallowed; the jobs of items never taken (the
    consumer stopped early) are cancelled."""
    queue: deque[tuple[T, asyncio.Future[R] | None]] = deque()
    try:
        for item in items:
            job = start(item)
            if job is not None:
                job.add_done_callback(lambda f: f.cancelled() or f.exception())
            queue.append((item, job))
            if len(queue) > ahead:
                yield queue.popleft()
        while queue:
            yield queue.popleft()
    finally:
        for _, job in queue:
            if job is not None:
                job.cancel()


async def with_ticks(stream: AsyncIterator[T], every: float) -> AsyncIterator[T | None]:
    """``stream``'s items, and a None each time ``every`` seconds pass without one: a progress display
    stays live while a long step (a model loading, a slow batch) produces nothing."""
    step: asyncio.Future[T] | None = None
    try:
        while True:
            if step is None:
                step = asyncio.ensure_future(stream.__anext__())
            done, _ = await asyncio.wait({step}, timeout=every)
            if not done:
                yield None
                continue
            finished, step = step, None
            try:
                item = finished.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if step is not None and not step.done():  # stopped early: let the stream run its own cleanup
            step.cancel()
            with contextlib.suppress(BaseException):
                await step
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def iterate_sync(agen: AsyncIterator[T]) -> Iterator[T]:
    """Drive an async iterator from synchronous code, on a private event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise ConfigError(
            "build_instruct/build_dpo cannot run inside a running event loop (Jupyter, async code) - "
            "use `async for record in abuild_instruct(...)` (or abuild_dpo) there"
        )
    loop = asyncio.new_event_loop()
    step: asyncio.Future[T] | None = None
    try:
        while True:
            step = asyncio.ensure_future(agen.__anext__(), loop=loop)
            try:
                item = loop.run_until_complete(step)
            except StopAsyncIteration:
                return
            yield item
    finally:
        if step is not None and not step.done():
            # Ctrl-C or SIGTERM stopped the loop inside the generator: cancel the step so the generator
            # runs its own cleanup (aclose() would fail: "asynchronous generator is already running")
            step.cancel()
            for _ in range(10):  # a task that took the same Ctrl-C raises it again from its callbacks
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(step)
                if step.done():
                    break
        aclose = getattr(agen, "aclose", None)
        if aclose is not None and (step is None or step.done()):  # a step still running cannot be closed
            loop.run_until_complete(aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
