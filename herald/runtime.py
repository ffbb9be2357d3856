"""Running herald's processes on the fastest event loop at hand.

uvloop's loop does the same work as asyncio's with much less overhead per callback, per
socket write and per Redis round trip — which is most of what a poll or a fan-out costs.
Where it is not installed (Windows), asyncio's own loop runs the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
        return asyncio.run(main)
    return uvloop.run(main)
