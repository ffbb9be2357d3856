"""Scheduler: N streams at a 15 s interval, a no-op source, one worker process.

The streams are created beforehand (through herald's own manager) and their first polls
spread evenly over one interval, as they would be after running a while; then a separate
worker process (pinned to the server core) polls them. Lag is actual start - planned
start of every poll, recorded in the worker; CPU is the worker's user+sys over its run.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from redis.asyncio import Redis

from bench.common import SERVER_CORE, Options, delete_prefix, percentile, progress, record
from bench.procs import Children, pinned, python_module
from bench.schedworker import NoopSource
from herald.config import Settings
from herald.service import Herald

NAME = "scheduler"
INTERVAL = 15.0
GOAL_P99_S = 1.0


async def _create(opts: Options, prefix: str, count: int) -> float:
    """Create ``count`` streams; returns when their polls begin (spread over one interval)."""
    settings = Settings(redis_url=opts.redis_url, redis_prefix=prefix)
    async with Herald(settings, sources=[NoopSource()], worker=False, delivery=False) as h:
        gate = asyncio.Semaphore(64)

        async def one(i: int) -> str:
            async with gate:
                return str((await h.manager.create("tweet", f"user{i}", INTERVAL))["id"])

        ids = await asyncio.gather(*(one(i) for i in range(count)))
        begin = time.time() + 5.0

        async def spread(i: int, sid: str) -> None:
            async with gate:
                await h.scheduler.reschedule(sid, begin + INTERVAL * i / count)

        await asyncio.gather(*(spread(i, sid) for i, sid in enumerate(ids)))
    return begin


async def _redis_cpu(url: str) -> float:
    client = Redis.from_url(url)
    try:
        info = await client.info("cpu")
        return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
    finally:
        await client.aclose()


async def _one(opts: Options, count: int, seconds: float) -> dict[str, Any]:
    prefix = opts.prefix(f"{NAME}{count}")
    out = opts.results_dir / f"scheduler-{count}.json.tmp"
    try:
        progress(NAME, f"creating {count} streams at {INTERVAL:g}s")
        t = time.perf_counter()
        begin = await _create(opts, prefix, count)
        created = time.perf_counter() - t
        progress(NAME, f"{count} streams created in {created:.1f}s; worker runs {seconds:g}s")
        async with Children() as children:
            argv = python_module(
                "bench.schedworker", opts.redis_url, prefix, str(seconds), str(out)
            )
            worker = await children.start("worker", pinned(SERVER_CORE, argv), control=True)
            await worker.receive(60)
            redis0 = await _redis_cpu(opts.redis_url)
            await worker.receive(seconds + 120)
            redis_cpu = await _redis_cpu(opts.redis_url) - redis0
        data = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
        await delete_prefix(opts.redis_url, prefix)
    lags = [lag for at, lag in data["samples"] if at >= begin]
    wall = data["wall"]
    due = count * max(0.0, min(wall, data["start"] + wall - begin)) / INTERVAL
    return {
        "streams": count,
        "seconds": round(wall, 1),
        "create_seconds": round(created, 1),
        "polls": len(lags),
        "polls_due": round(due),
        "lag_p50_s": round(percentile(lags, 50) or 0, 3),
        "lag_p99_s": round(percentile(lags, 99) or 0, 3),
        "lag_max_s": round(max(lags, default=0), 3),
        "worker_cpu": round(data["cpu"] / wall, 3),
        "redis_cpu": round(redis_cpu / wall, 3),
    }


async def run(opts: Options) -> dict[str, Any]:
    plan = [(1000, 20.0)] if opts.quick else [(1000, 35.0), (10000, 50.0)]
    rows = []
    for count, seconds in plan:
        row = await _one(opts, count, seconds)
        progress(
            NAME,
            f"{count} streams: lag p50 {row['lag_p50_s']}s p99 {row['lag_p99_s']}s, "
            f"{row['polls']}/{row['polls_due']} polls, worker CPU {row['worker_cpu']}",
        )
        rows.append(row)
    results = {"interval": INTERVAL, "rows": rows, "goal": {"streams": 10000, "p99_s": GOAL_P99_S}}
    record(opts, NAME, results)
    return results
