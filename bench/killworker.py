"""The workerkill scenario's worker: ``herald worker`` with a source that answers after a
delay, as X does, so that a worker killed at any moment holds polls in flight.

Run as ``python -m bench.killworker DELAY``, with herald's settings in the environment. It
prints one JSON line once it polls, then runs until it is killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from herald import runtime
from herald.config import Settings
from herald.service import Herald
from herald.sources.base import FetchResult, PollContext


class SlowSource:
    """Nothing new, after ``delay`` seconds: a poll's cost is herald's and the wait."""

    stream_types: tuple[str, ...] = ("tweet",)

    def __init__(self, delay: float) -> None:
        self._delay = delay

    async def fetch(self, ctx: PollContext) -> FetchResult:
        await asyncio.sleep(self._delay)
        return FetchResult()

    async def aclose(self) -> None:
        return None


async def main(delay: float) -> None:
    async with Herald(Settings(), sources=[SlowSource(delay)], delivery=False):
        print(json.dumps({"ready": os.getpid()}), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    runtime.run(main(float(sys.argv[1])))
