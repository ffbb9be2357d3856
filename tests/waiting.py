"""Waiting on a condition, never on the clock: ``await wait_until(lambda: ..., timeout)``."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]],
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str = "condition",
) -> None:
    """Check ``predicate`` (plain or async) every ``interval`` s until it holds.

    Fails the test with an AssertionError naming ``what`` if ``timeout`` passes first, so a
    busy machine only makes a test slower, never wrong.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout:g}s")
        await asyncio.sleep(interval)
