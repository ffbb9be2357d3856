"""Bursts larger than a page between two polls: X's timeline page holds 20 tweets.

One tweet stream per burst size, on an interval long enough (an hour) that only the
polls asked for through ``POST /api/streams/{id}/poll`` happen. After the baseline, the
burst is posted, then one poll; then a sentinel tweet and one more poll, so that a second
look could add what the first missed (or repeat what it had). Every tweet of the burst must
be one ``stream:tweet:new``; a ``stream:gap`` is counted and shown, but a loss stays a loss.
herald pages back at most ``HERALD_MAX_PAGES`` pages and says ``stream:gap`` past that (the
engine tests cover that edge); here the bound is set above the largest burst, so every burst
must arrive whole.
"""

from __future__ import annotations

from typing import Any

import httpx

from bench.chaos.logreader import LogReader, tweet_ids
from bench.chaos.options import ChaosOptions, outcome
from bench.chaos.stack import Stack, herald_env
from bench.chaos.tally import Row, posted_vs_log
from bench.chaos.world import World
from bench.common import progress

NAME = "burst"
BUSY_TRIES = 50
PAGE = 20


async def _poll(base: str, stream_id: str) -> None:
    """One poll now; a poll already running ("busy") is asked again, a bounded number of times."""
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(BUSY_TRIES):
            answer = await client.post(f"{base}/api/streams/{stream_id}/poll")
            if answer.status_code == 409 and answer.json().get("error") == "poll_busy":
                continue
            if answer.is_error:
                raise RuntimeError(f"poll of {stream_id}: {answer.status_code} {answer.text[:200]}")
            return
    raise RuntimeError(f"stream {stream_id} stayed busy for {BUSY_TRIES} poll requests")


async def _one(world: World, reader: LogReader, stream_id: str, size: int, settle: float) -> Row:
    user = world.streams[stream_id]
    burst = await world.burst(user, size)
    await _poll(world.herald, stream_id)
    sentinel = await world.burst(user, 1)
    await _poll(world.herald, stream_id)
    want = {*burst, *sentinel}
    notes = []
    if not await reader.wait_for(lambda events: want <= tweet_ids(events), settle):
        notes.append("the burst had not all reached the log")
    posted = {t: world.posted[t] for t in burst}
    events = [e for e in reader.events if e.get("streamId") == stream_id and _not(e, sentinel)]
    row = posted_vs_log(f"{size} tweets between two polls", posted, events, {stream_id})
    row.notes += notes
    return row


def _not(event: dict[str, Any], ids: list[str]) -> bool:
    tweet = event.get("tweet")
    return not (isinstance(tweet, dict) and str(tweet.get("id")) in ids)


async def run(opts: ChaosOptions) -> dict[str, Any]:
    sizes: list[int] = opts.size("sizes", [21, 45, 100], [21, 45, 100, 200])
    settle = opts.size("settle", 5, 20)  # a poll-now returns once its events are in the log
    pages = max(sizes) // PAGE + 2
    env = herald_env(
        REDIS_URL=opts.redis_url,
        HERALD_REDIS_PREFIX=opts.prefix(NAME),
        HERALD_MAX_PAGES=str(pages),
    )
    async with Stack(env) as stack:
        await stack.start_fakex()
        await stack.start_serve()
        reader = LogReader(stack.base)
        await reader.start()
        try:
            world = World(stack.fakex, stack.base, len(sizes), "bu")
            await world.create(interval=3600)
            await world.wait_baselines(60)
            rows = []
            for stream_id, size in zip(world.streams, sizes, strict=True):
                progress(NAME, f"{size} tweets between two polls")
                rows.append(await _one(world, reader, stream_id, size, settle))
        finally:
            await reader.close()
    return outcome(rows, {"sizes": sizes, "page": PAGE, "maxPages": pages})
