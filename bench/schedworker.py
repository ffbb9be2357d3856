"""The scheduler scenario's worker process: a herald worker with a no-op source.

Run as ``python -m bench.schedworker REDIS_URL PREFIX SECONDS OUT_JSON``. It records every
poll's schedule lag (actual start - planned start) by standing in for the
``herald_schedule_lag_seconds`` histogram, and its own CPU over the run.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

from herald import metrics, runtime
from herald.config import Settings
from herald.service import Herald
from herald.sources.base import FetchResult, PollContext


class NoopSource:
    """Answers every poll at once with nothing new: what is left is herald's own cost."""

    stream_types: tuple[str, ...] = ("tweet",)

    async def fetch(self, ctx: PollContext) -> FetchResult:
        return FetchResult()

    async def aclose(self) -> None:
        return None


class LagRecorder:
    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []

    def observe(self, value: float) -> None:
        self.samples.append((time.time(), value))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(url: str, prefix: str, seconds: float, out: str) -> None:
    recorder = LagRecorder()
    metrics.SCHEDULE_LAG = recorder  # type: ignore[assignment]  # read at call time by the worker
    settings = Settings(redis_url=url, redis_prefix=prefix)
    async with Herald(settings, sources=[NoopSource()], delivery=False, worker=True):
        print(json.dumps({"ready": time.time()}), flush=True)
        cpu0, wall0 = _cpu(), time.time()
        await asyncio.sleep(seconds)
        cpu, wall = _cpu() - cpu0, time.time() - wall0
        data = {"cpu": cpu, "wall": wall, "start": wall0, "samples": recorder.samples}
        await asyncio.to_thread(Path(out).write_text, json.dumps(data))
        # The parent stops this process now: a graceful worker stop is not what is measured.
        print(json.dumps({"done": True}), flush=True)
        await asyncio.sleep(3600)


if __name__ == "__main__":
    runtime.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]))
