"""Ingest: events appended to the log per second from one process, by batch size.

Each call is ``EventLog.append`` (one Lua script per batch: ``ZADD NX`` for idempotency,
then ``XADD`` to the global log and the stream's history), with several calls in flight at
once on the connection pool, the way a busy worker's concurrent polls overlap. Building
and encoding the events is inside the timed loop. A second pass re-appends events that are
already in the log, to show that a duplicate costs a no-op.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from redis.asyncio import Redis

from bench.common import Options, delete_prefix, progress, record
from bench.events import tweet_event
from herald.store.eventlog import EventLog
from herald.store.keys import Keys

NAME = "ingest"
GOAL = 50_000
STREAMS = [f"ingest{i:02d}" for i in range(50)]


def in_flight(batch: int) -> int:
    """Concurrent appends: enough to keep Redis busy while Python builds the next batch."""
    return max(2, min(32, 4000 // batch))


async def _measure(log: EventLog, batch: int, seconds: float, tag: str) -> dict[str, Any]:
    ids = itertools.count()
    new = sent = 0
    stop = time.perf_counter() + seconds

    async def lane(lane_no: int) -> None:
        nonlocal new, sent
        streams = itertools.cycle(STREAMS[lane_no::4] or STREAMS)
        while time.perf_counter() < stop:
            sid = next(streams)
            events = [tweet_event(sid, f"{tag}{next(ids)}") for _ in range(batch)]
            appended = await log.append(sid, events)  # await first: `new +=` must not straddle it
            new += len(appended)
            sent += batch

    lanes = in_flight(batch)
    start = time.perf_counter()
    await asyncio.gather(*(lane(i) for i in range(lanes)))
    elapsed = time.perf_counter() - start
    return {
        "batch": batch,
        "in_flight": lanes,
        "events": sent,
        "new": new,
        "seconds": round(elapsed, 3),
        "per_second": round(new / elapsed),
    }


async def _duplicates(log: EventLog, batch: int, rounds: int) -> dict[str, Any]:
    sid = STREAMS[0]
    events = [tweet_event(sid, f"dup{i}") for i in range(batch)]
    await log.append(sid, events)
    start = time.perf_counter()
    new = 0
    for _ in range(rounds):
        new += len(await log.append(sid, events))
    elapsed = time.perf_counter() - start
    return {
        "batch": batch,
        "events": batch * rounds,
        "new": new,
        "per_second": round(batch * rounds / elapsed),
    }


async def run(opts: Options, *, seconds: float | None = None) -> dict[str, Any]:
    seconds = seconds or (1.0 if opts.quick else 4.0)
    prefix = opts.prefix(NAME)
    redis = Redis.from_url(opts.redis_url, max_connections=64)
    rows = []
    try:
        log = EventLog(redis, Keys(prefix))
        for n, batch in enumerate((1, 10, 100, 1000)):
            progress(
                NAME, f"batch size {batch}, {in_flight(batch)} appends in flight, {seconds:g}s"
            )
            row = await _measure(log, batch, seconds, f"b{n}-")
            progress(NAME, f"batch {batch}: {row['per_second']} events/s")
            rows.append(row)
        progress(NAME, "re-appending 100-event batches that are already logged")
        dup = await _duplicates(log, 100, 20 if opts.quick else 100)
    finally:
        await redis.aclose()
        await delete_prefix(opts.redis_url, prefix)
    results = {
        "rows": rows,
        "duplicates": dup,
        "goal": GOAL,
        "best": max(r["per_second"] for r in rows),
    }
    record(opts, NAME, results)
    return results
