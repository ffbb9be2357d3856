"""Pipelines: events/s through read + 3 operators + commit, and end-to-end lag at 10,000/s.

Throughput: the log is filled with tweets first; then one :class:`PipelineRunner` (one
asyncio process, so one core; Redis runs beside it) reads them through its consumer group,
runs filter (the subscription keyword filter) -> map (a projection) -> a 10 s tumbling
count per stream, and commits state, ack and outputs in one script per batch. The figure is
tweets committed per CPU second of this process (*per core*; Redis's own CPU is not in it)
and per second of wall time. Beside it, the ceiling: the same three operators run by
:class:`Pipeline.process` in one process on the same records, already decoded, no Redis.

Lag: a producer process on the other core appends tweets at 10,000/s (5 ms ticks) while
the runner runs;
each tweet's lag is the time from its append (its entry id, Redis's clock) to the moment
the commit that acknowledged it returned. Percentiles over every tweet.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

import orjson
from redis.asyncio import Redis

from bench.common import (
    CLIENT_CORE,
    SERVER_CORE,
    Options,
    delete_prefix,
    percentile,
    progress,
    record,
)
from bench.procs import Children, pinned, python_module
from herald.delivery.filters import parse_filter
from herald.events import Event, EventType
from herald.pipeline import Agg, Flow, Pipeline, Record, Tumbling
from herald.pipeline.runtime import PipelineRunner, PipelineSpec
from herald.store.keys import Keys
from herald.store.pipelines import PipelineStore

NAME = "pipeline_run"
GOAL_RATE = 100_000
GOAL_LAG_MS = 50.0
LAG_RATE = 10_000
T0 = 1_700_000_000.0


def spec(name: str = "bench") -> PipelineSpec:
    keep = parse_filter({"keywords": ["herald"]})
    assert keep is not None
    flow = (
        Flow()
        .filter(keep)
        .map(lambda e: {"streamId": e["streamId"], "text": e["tweet"]["text"]})
        .window(Tumbling(10), key=lambda v: v["streamId"])
        .aggregate(Agg.count())
    )
    return PipelineSpec(
        name=name,
        build=lambda: Pipeline(name, flow, output="count"),
        watermark="events",
        skew=1,
        start="0",
    )


def _body(n: int, at: float) -> bytes:
    sid = f"s{n % 20}"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"
    text = f"herald tweet {n}" if n % 4 else f"other tweet {n}"
    return Event(
        EventType.TWEET_NEW,
        sid,
        f"user{sid}",
        str(n),
        {"tweet": {"id": str(n), "text": text, "author": sid, "timestamp": stamp}},
    ).encode()


async def _fill(redis: Redis, keys: Keys, count: int) -> None:
    for first in range(0, count, 2000):
        async with redis.pipeline(transaction=False) as pipe:
            for n in range(first, min(first + 2000, count)):
                pipe.xadd(keys.events, {"t": "stream:tweet:new", "s": f"s{n % 20}",
                                        "e": _body(n, T0 + n * 0.001)})  # fmt: skip
            await pipe.execute()


def _ms(entry_id: str | bytes) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.partition("-")[0])


class _Timed(PipelineStore):
    """The store, noting when each commit returned and which entries it acknowledged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lags_ms: list[float] = []

    async def commit(self, name: str, owner: str, **kw: Any) -> int:
        done = await super().commit(name, owner, **kw)
        now_ms = time.time() * 1000
        self.lags_ms.extend(now_ms - _ms(a) for a in kw["acks"])
        return done


async def _run_until(
    runner: PipelineRunner, store: PipelineStore, count: int
) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) until ``count`` records are committed."""
    await store.ensure_group(runner.name, "0")
    task = asyncio.create_task(runner.run())
    started, cpu = time.perf_counter(), time.process_time()
    while (await store.load(runner.name)).counters["in"] < count:
        await asyncio.sleep(0.05)  # polling the committed count
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    runner.stop()
    await task
    return took, cpu


async def throughput(redis: Redis, keys: Keys, count: int, batch: int) -> dict[str, Any]:
    await _fill(redis, keys, count)
    store = PipelineStore(redis, keys, log_maxlen=10_000_000)
    runner = PipelineRunner(spec(f"tp{batch}"), store, None, batch_size=batch, lease_ttl=30)
    with _pinned(SERVER_CORE):
        took, cpu = await _run_until(runner, store, count)
    return {"batch": batch, "events": count, "seconds": round(took, 3),
            "cpu_seconds": round(cpu, 3), "per_second": round(count / took),
            "per_cpu_second": round(count / cpu)}  # fmt: skip


async def ceiling(count: int, batch: int) -> dict[str, Any]:
    """The same operators in one process on decoded records: no Redis, no commit."""
    records = [
        Record.of(f"{n}-0", {**orjson.loads(_body(n, T0 + n * 0.001)), "offset": f"{n}-0"})
        for n in range(count)
    ]
    pipeline = spec("ceiling").build()
    with _pinned(SERVER_CORE):
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(0, count, batch):
            chunk = records[i : i + batch]
            await pipeline.process(chunk, chunk[-1].time - 1)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"batch": batch, "events": count, "seconds": round(took, 3),
            "per_second": round(count / took), "per_cpu_second": round(count / cpu)}  # fmt: skip


async def lag(redis: Redis, opts: Options, prefix: str, seconds: float) -> dict[str, Any]:
    """The runner here (pinned to the server core), a producer process on the other core."""
    keys = Keys(prefix)
    store = _Timed(redis, keys, log_maxlen=10_000_000)
    runner = PipelineRunner(spec("lag"), store, None, batch_size=1000, lease_ttl=30, block=0.05)
    await store.ensure_group("lag", "$")
    async with Children() as children:
        producer = await children.start(
            "producer",
            pinned(CLIENT_CORE, python_module("bench.producer", opts.redis_url, prefix)),
            control=True,
        )
        await producer.receive(30)
        with _pinned(SERVER_CORE):
            task = asyncio.create_task(runner.run())
            try:
                warm = await producer.ask({"cmd": "rate", "rate": LAG_RATE, "seconds": 1.0}, 60)
                await _committed(store, "lag", warm["new"])
                store.lags_ms.clear()  # the warm-up second is not measured
                sent = await producer.ask(
                    {"cmd": "rate", "rate": LAG_RATE, "seconds": seconds}, 120
                )
                await _committed(store, "lag", warm["new"] + sent["new"])
            finally:
                runner.stop()
                await task
    lags = store.lags_ms
    return {
        "rate": LAG_RATE,
        "events": sent["new"],
        "achieved_rate": round(sent["new"] / (sent["t1"] - sent["t0"])),
        "p50_ms": round(percentile(lags, 50) or 0, 2),
        "p99_ms": round(percentile(lags, 99) or 0, 2),
        "max_ms": round(max(lags), 2),
    }


async def _committed(store: PipelineStore, name: str, count: int) -> None:
    while (await store.load(name)).counters["in"] < count:
        await asyncio.sleep(0.01)  # polling the committed count


@contextlib.contextmanager
def _pinned(core: str) -> Iterator[None]:
    """This process on one core while it measures (as the servers of other scenarios are)."""
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {int(core)})
    except OSError:
        yield
        return
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


async def run(opts: Options) -> dict[str, Any]:
    count = 30_000 if opts.quick else 200_000
    prefix = opts.prefix(NAME)
    redis = Redis.from_url(opts.redis_url, max_connections=16)
    rows = []
    try:
        for batch in (500, 2000):
            keys = Keys(f"{prefix}-b{batch}")
            progress(NAME, f"read + 3 operators + commit, batches of {batch}, {count} tweets")
            row = await throughput(redis, keys, count, batch)
            row["ceiling"] = (await ceiling(count, batch))["per_cpu_second"]
            progress(
                NAME,
                f"batch {batch}: {row['per_cpu_second']} events/s per core, "
                f"{row['per_second']} wall (in-process ceiling {row['ceiling']} per core)",
            )
            rows.append(row)
            await delete_prefix(opts.redis_url, keys.prefix)
        progress(NAME, f"end-to-end lag at {LAG_RATE} events/s")
        lagged = await lag(redis, opts, f"{prefix}-lag", 3.0 if opts.quick else 10.0)
        await delete_prefix(opts.redis_url, f"{prefix}-lag")
        progress(NAME, f"lag p50 {lagged['p50_ms']} ms, p99 {lagged['p99_ms']} ms")
    finally:
        await redis.aclose()
        await delete_prefix(opts.redis_url, prefix)
    results = {
        "rows": rows,
        "lag": lagged,
        "goal_rate": GOAL_RATE,
        "goal_lag_p99_ms": GOAL_LAG_MS,
        "best": max(r["per_cpu_second"] for r in rows),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    record(opts, NAME, results)
    return results
