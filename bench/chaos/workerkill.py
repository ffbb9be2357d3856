"""kill -9 of random workers every few seconds while tweets are posted to the stand-in.

External Redis (a key prefix of the run's own), one ``herald serve --no-worker`` for the
API, several ``herald worker`` processes polling 20 tweet streams at a 1 s interval. A
random worker is SIGKILLed every ``kill_every`` seconds and a new one started, so the
number of workers stays the same. At the end one more tweet per user (a sentinel) is
posted; once the log holds every posted tweet (or the settle time is up) the log is
counted against what was posted.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bench.chaos.logreader import LogReader, tweet_ids
from bench.chaos.options import ChaosOptions, outcome
from bench.chaos.stack import Proc, Stack, herald_env
from bench.chaos.tally import posted_vs_log
from bench.chaos.world import World
from bench.common import progress

NAME = "workerkill"


async def _killer(stack: Stack, workers: list[Proc], every: float, rng: random.Random) -> int:
    """Kill a random worker every ``every`` seconds and start another; returns the kills.

    The replacement starts in the background, so that a slow start (a loaded machine) does
    not stretch the time between kills.
    """
    kills = 0
    starting: set[asyncio.Task[None]] = set()

    async def replace() -> None:
        try:
            workers.append(await stack.start_worker())
        except (RuntimeError, TimeoutError) as exc:  # one fewer worker; the run goes on
            progress(NAME, f"a replacement worker did not start: {exc}")

    try:
        while True:
            await asyncio.sleep(every * rng.uniform(0.6, 1.4))  # pacing the kills
            if not workers:
                continue
            victim = rng.choice(workers)
            workers.remove(victim)
            await stack.kill9(victim)
            kills += 1
            task = asyncio.create_task(replace())
            starting.add(task)
            task.add_done_callback(starting.discard)
    except asyncio.CancelledError:
        if starting:
            await asyncio.wait(starting, timeout=60)  # the workers that stay, started
        return kills


async def settle(world: World, reader: LogReader, seconds: float) -> bool:
    """Post one sentinel per user; wait until the log holds every posted tweet."""
    for user in world.users:
        await world.burst(user, 1)
    want = set(world.posted)
    return await reader.wait_for(lambda events: want <= tweet_ids(events), seconds)


async def run(opts: ChaosOptions) -> dict[str, Any]:
    streams = opts.size("streams", 20, 20)
    workers_n = opts.size("workers", 2, 3)
    rate = opts.size("rate", 40, 40)
    seconds = opts.size("seconds", 40, 150)
    every = opts.size("kill_every", 5.0, 5.0)
    rng = random.Random(opts.seed)
    env = herald_env(
        REDIS_URL=opts.redis_url,
        HERALD_REDIS_PREFIX=opts.prefix(NAME),
        HERALD_RECONCILE_INTERVAL="2",
    )
    notes: list[str] = []
    async with Stack(env) as stack:
        await stack.start_fakex()
        await stack.start_serve("--no-worker")
        workers = [await stack.start_worker() for _ in range(workers_n)]
        reader = LogReader(stack.base)
        await reader.start()
        try:
            world = World(stack.fakex, stack.base, streams, "wk")
            await world.create(interval=1)
            await world.wait_baselines(60)
            progress(
                NAME, f"{streams} streams, {workers_n} workers; {rate} tweets/s for {seconds}s"
            )
            killer = asyncio.create_task(_killer(stack, workers, every, rng))
            await world.post_at(rate, seconds, rng)
            killer.cancel()
            kills = await killer
            if not await settle(world, reader, opts.size("settle", 30, 60)):
                notes.append("not every posted tweet reached the log within the settle time")
        finally:
            await reader.close()
    row = posted_vs_log(
        f"{workers_n} workers, kill -9 every ~{every:g}s",
        world.posted,
        reader.events,
        set(world.streams),
    )
    row.kills = kills
    params = {"streams": streams, "workers": workers_n, "tweets_per_s": rate, "seconds": seconds,
              "interval_s": 1, "kill_every_s": every}  # fmt: skip
    return outcome([row], params, notes)
