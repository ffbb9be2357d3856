"""kill -9 of ``herald serve`` (embedded Valkey), again and again, while tweets are posted.

One ``herald serve`` with its in-process worker and the embedded Valkey in a temp data
dir; a few tweet streams on the stand-in at a 1 s interval. Every ``kill_every`` seconds
the whole process group is SIGKILLed and ``herald serve`` started again on the same data
dir and port (the embedded Valkey, which runs outside that group, is adopted again). The
log must hold every posted tweet once, no old tweet announced again, no second baseline;
"resumed" counts the streams whose sentinel tweet, posted after the last restart, arrived.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bench.chaos.clients import Client, Progress, SseClient, WsClient
from bench.chaos.logreader import LogReader, tweet_ids
from bench.chaos.options import ChaosOptions, outcome
from bench.chaos.stack import Proc, Stack, herald_env
from bench.chaos.storm import all_have
from bench.chaos.tally import Row, delivery, posted_vs_log
from bench.chaos.world import World
from bench.common import progress

NAME = "servekill"


async def _killer(stack: Stack, serve: list[Proc], every: float, rng: random.Random) -> int:
    """SIGKILL ``herald serve`` every ``every`` seconds and start it again; returns the kills."""
    kills = 0
    try:
        while True:
            await asyncio.sleep(every * rng.uniform(0.6, 1.4))  # pacing the kills
            await stack.kill9(serve.pop())
            kills += 1
            serve.append(await stack.start_serve())
    except asyncio.CancelledError:
        return kills


async def run(opts: ChaosOptions) -> dict[str, Any]:
    users = opts.size("streams", 5, 10)
    rate = opts.size("rate", 5, 5)
    seconds = opts.size("seconds", 40, 150)
    every = opts.size("kill_every", 8.0, 6.0)
    settle = opts.size("settle", 30, 60)
    rng = random.Random(opts.seed)
    notes: list[str] = []
    async with Stack(herald_env()) as stack:
        stack.env["HERALD_DATA_DIR"] = str(stack.dir / "data")
        await stack.start_fakex()
        serve = [await stack.start_serve()]
        reader = LogReader(stack.base)
        since = await reader.start()
        prog = Progress()
        clients: list[Client] = [
            WsClient(prog, stack.base, since),
            SseClient(prog, stack.base, since),
        ]
        try:
            for client in clients:
                await client.start()
            world = World(stack.fakex, stack.base, users, "sk")
            await world.create(interval=1)
            await world.wait_baselines(60)
            progress(
                NAME, f"{users} streams; {rate} tweets/s for {seconds}s, kill -9 every ~{every:g}s"
            )
            killer = asyncio.create_task(_killer(stack, serve, every, rng))
            await world.post_at(rate, seconds, rng)
            killer.cancel()
            kills = await killer
            if not serve:  # cancelled between the kill and the restart
                serve.append(await stack.start_serve())
            sentinels = {user: (await world.burst(user, 1))[0] for user in world.users}
            want = set(world.posted)
            if not await reader.wait_for(lambda events: want <= tweet_ids(events), settle):
                notes.append(f"not every posted tweet reached the log within {settle}s")
            expected = [str(e["offset"]) for e in reader.events]
            if not await all_have(prog, clients, expected[-1], settle):
                notes.append(f"a client never got the log's last event within {settle}s")
        finally:
            for client in clients:
                await client.end()
            await reader.close()
    seen = tweet_ids(reader.events)
    row = posted_vs_log(
        f"herald serve, kill -9 every ~{every:g}s", world.posted, reader.events, set(world.streams)
    )
    row.kills = kills
    row.resumed = f"{sum(1 for t in sentinels.values() if t in seen)}/{len(sentinels)} streams"
    rows = [row, *(_follower(c, expected) for c in clients)]
    params = {"streams": users, "tweets_per_s": rate, "seconds": seconds, "interval_s": 1,
              "kill_every_s": every, "storage": "embedded Valkey"}  # fmt: skip
    return outcome(rows, params, notes)


def _follower(client: Client, expected: list[str]) -> Row:
    """A client that followed the log across every restart: each event once, in order."""
    row = delivery(f"{client.name} across the restarts", expected, client.offsets)
    row.reconnects = client.reconnects
    return row
