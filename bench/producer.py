"""The producer process: appends events to herald's log (``EventLog.append``), on command.

Run as ``python -m bench.producer REDIS_URL PREFIX``; commands on stdin (JSON lines):
``{"cmd": "burst", "n": N, "batch": B}`` appends N events as fast as it can;
``{"cmd": "rate", "rate": R, "seconds": S}`` appends R events/s for S seconds (in 5 ms
ticks); ``{"cmd": "one", "seq": K}`` appends one event tagged ``benchSeq``. Each answers
with the wall-clock start and end of its appends and how many were new.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import sys
import time
from typing import Any

from redis.asyncio import Redis

from bench.events import STREAM_IDS, tweet_event
from herald.store.eventlog import EventLog
from herald.store.keys import Keys

TICK = 0.005


class Producer:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.log = EventLog(redis, Keys(prefix))
        self.ids = itertools.count()
        self.run = secrets.token_hex(3)
        self.streams = itertools.cycle(STREAM_IDS)

    async def append(self, n: int, seq: int | None = None) -> int:
        stream = next(self.streams)
        batch = [tweet_event(stream, f"{self.run}{next(self.ids)}", seq) for _ in range(n)]
        return len(await self.log.append(stream, batch))

    async def burst(self, n: int, batch: int) -> dict[str, Any]:
        t0 = time.time()
        new = 0
        while n > 0:
            new += await self.append(min(batch, n))
            n -= batch
        return {"t0": t0, "t1": time.time(), "new": new}

    async def rate(self, rate: float, seconds: float) -> dict[str, Any]:
        per_tick = rate * TICK
        t0 = time.time()
        loop = asyncio.get_running_loop()
        start = loop.time()
        owed = 0.0
        new = ticks = 0
        while loop.time() - start < seconds:
            owed += per_tick
            whole = int(owed)
            if whole:
                owed -= whole
                new += await self.append(whole)
            ticks += 1
            delay = start + ticks * TICK - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        return {"t0": t0, "t1": time.time(), "new": new}


async def main(url: str, prefix: str) -> None:
    redis = Redis.from_url(url)
    producer = Producer(redis, prefix)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": True}), flush=True)
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["cmd"] == "burst":
            reply = await producer.burst(int(cmd["n"]), int(cmd.get("batch", 100)))
        elif cmd["cmd"] == "rate":
            reply = await producer.rate(float(cmd["rate"]), float(cmd["seconds"]))
        elif cmd["cmd"] == "one":
            t0 = time.time()
            reply = {"t0": t0, "new": await producer.append(1, int(cmd["seq"]))}
        else:
            break
        print(json.dumps(reply), flush=True)
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
