"""kill -9 of the worker that owns a pipeline, mid-batch, while events keep coming.

External Redis (the run's own key prefix), two or three ``herald worker`` processes that
declare the same pipeline (``HERALD_PIPELINES=bench.chaos.pipelinekill:pipeline``): per
stream a running count of the tweets seen (state that a lost or doubly applied batch would
visibly break) and a 10 s tumbling count. A producer appends tweets to the log at a steady
rate; every few seconds the worker that owns the pipeline (its lease) is SIGKILLed while it
holds a batch it has read but not committed, and a new worker is started.

The truth is an uninterrupted run: the same pipeline run fresh over the same log in this
process once the producer stops. Every per-tweet output must be in the log once, with the
same eventId and data, in input order; every window the live run closed must equal the
uninterrupted run's.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from typing import Any

import orjson

from bench.chaos.options import ChaosOptions, outcome
from bench.chaos.stack import Proc, Stack, herald_env
from bench.chaos.tally import Row, delivery
from bench.common import progress

NAME = "pipelinekill"
T0 = 1_700_000_000.0


def pipeline() -> Any:
    """The pipeline every worker declares (``module:function`` for ``HERALD_PIPELINES``)."""
    from herald.pipeline import Agg, Flow, Pipeline, Tumbling
    from herald.pipeline.runtime import PipelineSpec

    def count(state: Any, event: Any) -> tuple[Any, Any]:
        seen = int(state or 0) + 1
        return seen, {"eventId": event["eventId"], "seen": seen}

    def work(event: Any) -> Any:
        delay = float(os.environ.get("CHAOS_PIPELINE_ITEM_DELAY", "0"))
        if delay:
            time.sleep(delay)  # a user function with some cost: kills land mid-batch
        return event

    flow = (
        Flow()
        .map(work)
        .fork(
            seen=lambda f: f.stateful(lambda e: e["streamId"], count).emit("seen"),
            volume=lambda f: f.window(Tumbling(10)).aggregate(Agg.count()).emit("volume"),
        )
    )
    return PipelineSpec(
        name="chaos",
        build=lambda: Pipeline("chaos", flow),
        watermark="events",
        skew=0,
        start="0",
        types=frozenset({"stream:tweet:new"}),
    )


async def _produce(redis: Any, keys: Any, rate: float, seconds: float) -> int:
    """Tweets at ``rate``/s for ``seconds``, event times in log order; the count."""
    from herald.events import Event, EventType
    from herald.store.eventlog import EventLog

    log = EventLog(redis, keys, log_maxlen=1_000_000)
    n = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        due = int((time.monotonic() - started) * rate)
        while n < due:
            sid = f"s{(n // 10) % 5}"
            event = Event(
                EventType.TWEET_NEW,
                sid,
                f"user{sid}",
                str(n),
                {"tweet": {"id": str(n), "text": f"t{n}", "author": sid,
                           "timestamp": T0 + n * 0.05}},
            )  # fmt: skip
            await log.append(sid, [event])
            n += 1
        await asyncio.sleep(0.01)  # pacing the producer
    return n


async def _owner(store: Any, workers: list[Proc], timeout: float) -> Proc | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owner = await store.owner("chaos") or ""
        for proc in workers:
            if f":{proc.proc.pid}:" in owner:
                return proc
        await asyncio.sleep(0.05)  # polling the lease
    return None


async def _killer(
    stack: Stack, store: Any, workers: list[Proc], every: float, rng: random.Random
) -> tuple[int, int]:
    """Kill the owner while it holds an uncommitted batch; (kills, kills mid-batch)."""
    kills = mid = 0
    try:
        while True:
            await asyncio.sleep(every * rng.uniform(0.6, 1.4))  # pacing the kills
            victim = await _owner(store, workers, 10)
            if victim is None:
                continue
            for _ in range(200):  # until a batch is read and not yet committed
                info = await store.group_info("chaos")
                if info is not None and info.pending:
                    break
                await asyncio.sleep(0.005)
            workers.remove(victim)
            await stack.kill9(victim)
            info = await store.group_info("chaos")
            kills += 1
            mid += bool(info is not None and info.pending)
            workers.append(await stack.start_worker())
    except asyncio.CancelledError:
        return kills, mid


async def _settle(store: Any, total: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (await store.load("chaos")).counters["in"] >= total:
            return True
        await asyncio.sleep(0.1)  # polling the committed count
    return False


async def run(opts: ChaosOptions) -> dict[str, Any]:
    from redis.asyncio import Redis

    from herald.pipeline.runtime import dry_run
    from herald.pipeline.runtime.spec import output_event_id
    from herald.store.keys import Keys
    from herald.store.pipelines import PipelineStore

    workers_n = opts.size("workers", 2, 3)
    rate = opts.size("rate", 400, 1000)
    seconds = opts.size("seconds", 20, 60)
    every = opts.size("kill_every", 3.0, 4.0)
    rng = random.Random(opts.seed)
    prefix = opts.prefix(NAME)
    env = herald_env(
        REDIS_URL=opts.redis_url,
        HERALD_REDIS_PREFIX=prefix,
        HERALD_PIPELINES="bench.chaos.pipelinekill:pipeline",
        HERALD_PIPELINE_LEASE_TTL="1",
        HERALD_PIPELINE_BATCH="200",
        HERALD_LOG_MAXLEN="1000000",  # the whole run stays in the log for the comparison
        CHAOS_PIPELINE_ITEM_DELAY="0.0002",
    )
    notes: list[str] = []
    redis = Redis.from_url(opts.redis_url)
    keys = Keys(prefix)
    store = PipelineStore(redis, keys, log_maxlen=1_000_000)
    try:
        async with Stack(env) as stack:
            workers = [await stack.start_worker() for _ in range(workers_n)]
            progress(NAME, f"{workers_n} workers; {rate} tweets/s for {seconds}s")
            killer = asyncio.create_task(_killer(stack, store, workers, every, rng))
            total = await _produce(redis, keys, rate, seconds)
            killer.cancel()
            kills, mid = await killer
            if not await _settle(store, total, opts.size("settle", 60, 120)):
                notes.append("the pipeline did not commit every tweet within the settle time")
        live = [
            orjson.loads(fields[b"e"])
            for _, fields in await redis.xrange(keys.events)
            if fields.get(b"t") == b"pipeline:output"
        ]
        expected, _ = await dry_run(store, pipeline(), "-", "+")
    finally:
        await redis.aclose()
    by_id = {output_event_id("chaos", o.key): (o.name, dict(o.data)) for o in expected}
    want_seen = [eid for eid, (name, _) in by_id.items() if name == "seen"]
    got_seen = [e["eventId"] for e in live if e["output"] == "seen"]
    row = delivery(f"{workers_n} workers, owner kill -9 every ~{every:g}s", want_seen, got_seen)
    wrong = [e["eventId"] for e in live if by_id.get(e["eventId"], (None, None))[1] != e["data"]]
    windows = [e for e in live if e["output"] == "volume"]
    if wrong:
        row.lost += len(wrong)
        row.notes.append(f"{len(wrong)} outputs differ from the uninterrupted run, e.g. {wrong[0]}")
    row.kills = kills
    twice = [k for k, n in Counter(e["eventId"] for e in windows).items() if n > 1]
    row.duplicated += len(twice)
    notes.append(f"{mid} of {kills} kills landed mid-batch; {len(windows)} windows closed live")
    if kills and not mid:
        notes.append("no kill landed mid-batch")
    params = {"workers": workers_n, "tweets_per_s": rate, "seconds": seconds,
              "kill_every_s": every, "lease_ttl_s": 1, "batch": 200}  # fmt: skip
    result = outcome([row], params, notes)
    result["ok"] = result["ok"] and bool(kills) and bool(mid)
    return result


__all__ = ["NAME", "Row", "pipeline", "run"]
