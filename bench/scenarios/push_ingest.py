"""Push ingest: frames per second one core takes from a push connection to the log.

One process, one ``benchfeed:item`` stream on herald's in-memory push source (no network:
what is measured is herald's side — buffer, decode, event building, the batch script with
the cursor). Once the stream's connection is open, N items are published at once; the clock
runs from then to the last event in the log (publishing them is inside the span). CPU is
the process's own time over the same span (Redis's CPU is not counted).
"""

from __future__ import annotations

import asyncio
import time

from bench.common import Options, progress, record
from bench.pushfeed import TYPE
from herald.config import Settings
from herald.push.memory import MemoryFeed, MemoryPushSource
from herald.service import Herald
from herald.sources import catalog

NAME = "push_ingest"


async def run(opts: Options) -> None:
    count = 5_000 if opts.quick else 100_000
    feed = MemoryFeed()
    source = MemoryPushSource(feed, stream_types=(TYPE,))
    settings = Settings(
        redis_url=opts.redis_url,
        redis_prefix=opts.prefix(NAME),
        push_check_interval=0.05,
        log_maxlen=max(count * 2, 100_000),
    )
    with catalog.platform("bench.pushfeed"):
        async with Herald(settings, sources=[source], delivery=False) as herald:
            body = await herald.manager.create(TYPE, target="news")
            while not source.connections:
                await asyncio.sleep(0.01)  # until the connection is open
            t0, cpu0 = time.perf_counter(), time.process_time()
            for i in range(count):  # all at once: the connection reads as fast as it can
                feed.publish("news", f"item {i}")
            progress(NAME, f"{count} frames published; waiting for the log")
            while True:
                got = await herald.store.get(body["id"])
                if got is not None and got.counts.get("stream:message:new", 0) >= count:
                    break
                await asyncio.sleep(0.01)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    record(
        opts,
        NAME,
        {
            "frames": count,
            "seconds": round(wall, 3),
            "framesPerSecond": round(count / wall),
            "cpuSeconds": round(cpu, 3),
            "cpuMsPer1000Frames": round(cpu / count * 1_000_000, 1),
        },
    )
