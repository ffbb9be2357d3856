"""Worker kill: how long streams stall when a worker dies with polls in flight.

Two worker processes (``bench.killworker``: herald's worker, a source that answers after
300 ms as X does) poll N streams every 2 s on one Redis, with herald's default settings.
Every 7 s one of them is killed with SIGKILL and a fresh one started, as a crash-looping
host would. A sampler reads every stream's ``lastPoll`` every 50 ms. For each stream whose
poll was in flight at a kill (its lock was held), recovery is the time from the kill to the
stream's next completed poll; the longest gap between two polls of any stream is the
worst stall a client saw.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from typing import Any

from redis.asyncio import Redis

from bench.common import Options, delete_prefix, percentile, progress, record
from bench.procs import Child, Children, python_module
from bench.schedworker import NoopSource
from herald.config import Settings
from herald.service import Herald
from herald.store.keys import Keys

NAME = "workerkill"
INTERVAL = 2.0
LATENCY = 0.3
KILL_EVERY = 7.0
SAMPLE = 0.05
TAIL_LIMIT = 150.0


class Sampler:
    """Every stream's completed polls, from ``lastPoll`` read every ``SAMPLE`` seconds."""

    def __init__(self, redis: Redis, keys: Keys, ids: list[str]) -> None:
        self._redis, self._keys, self.ids = redis, keys, ids
        self.polls: dict[str, list[float]] = {sid: [] for sid in ids}

    async def run(self) -> None:
        while True:
            async with self._redis.pipeline(transaction=False) as pipe:
                for sid in self.ids:
                    pipe.hget(self._keys.state(sid), "lastPoll")
                values = await pipe.execute()
            for sid, raw in zip(self.ids, values, strict=True):
                at = float(raw) if raw else 0.0
                seen = self.polls[sid]
                if at and (not seen or at > seen[-1]):
                    seen.append(at)
            await asyncio.sleep(SAMPLE)

    async def in_flight(self) -> list[str]:
        """Streams whose poll lock is held right now: a poll of theirs is running."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in self.ids:
                pipe.exists(self._keys.lock(sid))
            held = await pipe.execute()
        return [sid for sid, n in zip(self.ids, held, strict=True) if n]

    def next_poll(self, sid: str, after: float) -> float | None:
        return next((t for t in self.polls[sid] if t > after), None)


async def _create(h: Herald, count: int) -> list[str]:
    """``count`` streams, not polled until :func:`_spread` plans them."""
    later = time.time() + 3600
    ids = []
    for i in range(count):
        sid = str((await h.manager.create("tweet", f"user{i}", INTERVAL))["id"])
        await h.scheduler.reschedule(sid, later)
        ids.append(sid)
    return ids


async def _spread(h: Herald, ids: list[str]) -> None:
    """First polls spread evenly over one interval, as after running a while: no bursts."""
    begin = time.time() + 0.5
    for i, sid in enumerate(ids):
        await h.scheduler.reschedule(sid, begin + INTERVAL * i / len(ids))


async def _worker(children: Children, env: dict[str, str]) -> Child:
    argv = python_module("bench.killworker", str(LATENCY))
    child = await children.start("worker", argv, env=env, control=True)
    await child.receive(60)
    return child


async def run(opts: Options) -> dict[str, Any]:
    count, kills = (40, 3) if opts.quick else (100, 8)
    prefix = opts.prefix(NAME)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "REDIS_"))}
    env.update(REDIS_URL=opts.redis_url, HERALD_REDIS_PREFIX=prefix, HERALD_MIN_INTERVAL="1")
    settings = Settings(redis_url=opts.redis_url, redis_prefix=prefix, min_interval=1)
    redis = Redis.from_url(opts.redis_url)
    recoveries: list[float] = []
    unrecovered = 0
    control = Herald(settings, sources=[NoopSource()], worker=False, delivery=False)
    try:
        await control.start()
        ids = await _create(control, count)
        sampler = Sampler(redis, Keys(prefix), ids)
        async with Children() as children:
            workers = [await _worker(children, env), await _worker(children, env)]
            await _spread(control, ids)
            sampling = asyncio.create_task(sampler.run())
            await asyncio.sleep(2 * INTERVAL)  # every stream past its baseline
            begin = time.time()
            kills_at: list[tuple[float, list[str]]] = []
            for k in range(kills):
                await asyncio.sleep(KILL_EVERY)
                victim = workers[k % 2]
                held = await sampler.in_flight()
                os.killpg(victim.pid, signal.SIGKILL)
                killed = time.time()
                await victim.proc.wait()
                kills_at.append((killed, held))
                workers[k % 2] = await _worker(children, env)
                progress(NAME, f"kill {k + 1}/{kills}: {len(held)} polls were in flight")
            deadline = time.monotonic() + TAIL_LIMIT
            while time.monotonic() < deadline and any(
                sampler.next_poll(sid, at) is None for at, held in kills_at for sid in held
            ):
                await asyncio.sleep(0.5)
            end = time.time()
            sampling.cancel()
    finally:
        await control.stop()
        await redis.aclose()
        await delete_prefix(opts.redis_url, prefix)
    for at, held in kills_at:
        for sid in held:
            done = sampler.next_poll(sid, at)
            recoveries.append((done if done is not None else end) - at)
            unrecovered += done is None
    gaps = [
        b - a
        for sid in ids
        for a, b in itertools.pairwise(t for t in sampler.polls[sid] if begin <= t)
    ]
    results = {
        "streams": count,
        "interval_s": INTERVAL,
        "source_latency_s": LATENCY,
        "kills": kills,
        "kill_every_s": KILL_EVERY,
        "in_flight_at_kills": sum(len(h) for _, h in kills_at),
        "recovery_p50_s": round(percentile(recoveries, 50) or 0, 2),
        "recovery_p99_s": round(percentile(recoveries, 99) or 0, 2),
        "recovery_max_s": round(max(recoveries, default=0), 2),
        "unrecovered": unrecovered,
        "gap_p99_s": round(percentile(gaps, 99) or 0, 2),
        "gap_max_s": round(max(gaps, default=0), 2),
    }
    progress(
        NAME,
        f"recovery p50 {results['recovery_p50_s']}s p99 {results['recovery_p99_s']}s "
        f"max {results['recovery_max_s']}s; longest gap between polls {results['gap_max_s']}s",
    )
    record(opts, NAME, results)
    return results
