"""Replay: a recorded log at x10 gives the same window outputs as the live run, paced by
the gaps between entry ids on an injected clock (no test sleeps); bounds and speeds parse."""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest
from redis.asyncio import Redis

from herald.errors import ValidationError
from herald.pipeline import Agg, Flow, Pipeline, Tumbling
from herald.pipeline.runtime import PipelineRunner, PipelineSpec, parse_bound, parse_speed, replay
from herald.pipeline.runtime.spec import output_event_id
from herald.store.keys import Keys
from herald.store.pipelines import PipelineStore
from tests.pipeline.runtime.support import T0, outputs, tweet
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(60)
START_MS = 1_700_000_000_000


class JumpClock:
    """A clock whose waits return at once, moving time to the moment waited for."""

    def __init__(self) -> None:
        self.t = 0.0
        self.waits: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep_until(self, when: float) -> None:
        self.waits.append(when - self.t)
        self.t = max(self.t, when)
        await asyncio.sleep(0)


def spec() -> PipelineSpec:
    flow = Flow().window(Tumbling(60), key=lambda e: e["streamId"]).aggregate(Agg.count())
    return PipelineSpec(
        name="perminute",
        build=lambda: Pipeline("perminute", flow, output="count"),
        watermark="events",
        skew=5,
        start="0",
    )


async def record_log(redis: Redis, keys: Keys) -> int:
    """An hour of tweets from two streams, appended with the ids they were recorded under
    (irregular gaps: bursts and quiet minutes)."""
    at_ms = START_MS
    n = 0
    for minute in range(60):
        burst = 3 + (minute * 7) % 11 if minute % 9 else 0
        for i in range(burst):
            at_ms += 1000 + (i * 137) % 900
            sid = f"s{(minute + i) % 2}"
            event = tweet(sid, n, at=T0 + (at_ms - START_MS) / 1000)
            await redis.xadd(
                keys.events,
                {"t": event.type.value, "s": sid, "e": event.encode()},
                id=f"{at_ms}-0",
            )
            n += 1
        at_ms += 60_000 - burst * 1000
    return n


async def test_replay_at_x10_gives_the_live_windows(
    external_redis: Redis, keys: Keys, store: PipelineStore
) -> None:
    total = await record_log(external_redis, keys)
    # live: the runner over the log
    runner = PipelineRunner(spec(), store, None, batch_size=37, lease_ttl=2)
    await store.ensure_group("perminute", "0")
    task = asyncio.create_task(runner.run())
    try:
        await wait_until(lambda: _in(store, total), 30, what="the hour processed live")
    finally:
        runner.stop()
        await asyncio.wait_for(task, 10)
    live = {e["eventId"]: e["data"] for e in await outputs(external_redis, keys, "perminute")}
    assert len(live) > 50

    # replay at x10 through a fresh pipeline, in batches of another size
    clock = JumpClock()
    pipeline = spec().build()
    replayed: dict[str, object] = {}
    first = last = None
    offsets: list[int] = []
    batch = []
    newest = -math.inf
    async for record in replay(store, "-", "+", parse_speed("x10"), clock=clock, page=50):
        first = first or record.offset
        last = record.offset
        offsets.append(int(record.offset.split("-")[0]))
        if record.event.get("type") != "stream:tweet:new":
            continue
        batch.append(record)
        newest = max(newest, record.time)
        if len(batch) == 23:
            for out in await pipeline.process(batch, newest - 5):
                replayed[output_event_id("perminute", out.key)] = dict(out.data)
            batch = []
    for out in await pipeline.process(batch, newest - 5):
        replayed[output_event_id("perminute", out.key)] = dict(out.data)
    assert live == {k: v for k, v in replayed.items() if k in live}
    assert set(live) == set(replayed)  # the same windows closed
    assert first is not None and last is not None
    span = (int(last.split("-")[0]) - int(first.split("-")[0])) / 1000
    assert clock.t == pytest.approx(span / 10)  # paced x10 by the gaps between ids
    gaps = [(b - a) / 1000 / 10 for a, b in itertools.pairwise(offsets)]
    assert max(clock.waits) == pytest.approx(max(gaps))  # the quiet minutes, 10x shorter


async def _in(store: PipelineStore, count: int) -> bool:
    return (await store.load("perminute")).counters["in"] >= count


def test_bounds_and_speeds() -> None:
    assert parse_bound("1700000000000-5", "from", end=False) == "1700000000000-5"
    assert parse_bound("2023-11-14T22:13:20Z", "from", end=False) == "1700000000000-0"
    assert parse_bound(1_700_000_000, "to", end=True) == "1700000000000-18446744073709551615"
    assert parse_bound("-1h", "from", end=False, now=1_700_003_600) == "1700000000000-0"
    assert parse_bound("24h", "from", end=False, now=1_700_086_400) == "1700000000000-0"
    with pytest.raises(ValidationError, match="from must be a log offset"):
        parse_bound("yesterday", "from", end=False)
    assert parse_speed("realtime") == 1 and parse_speed("x10") == 10 and parse_speed("10x") == 10
    assert parse_speed("max") == math.inf
    for bad in ("fast", "x0", "-2"):
        with pytest.raises(ValidationError):
            parse_speed(bad)
