"""Watermark refreshes at 10,000 streams (part of the ``alerts`` scenario).

The runtime refreshes a pipeline's watermark (every stream's mark) every 0.25 s while it
runs, for every pipeline and the alerts evaluator. Before: every stream's whole record
(``StreamStore.all``: both hashes of every stream, decoded). Now: the four state fields a
mark needs, in one pipelined round trip (``StreamStore.mark_states``, types cached), and the
marks per stream the alerts evaluator scopes its rules with. Also: the CPU of handing those
marks to the evaluator with 1,000 rules (each rule's mark over its scope) when they move.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from redis.asyncio import Redis

from bench.common import Options, delete_prefix, progress
from herald.store.keys import Keys
from herald.store.streams import ACTIVE, StreamRecord, StreamStore

STREAMS = 10_000
ROUNDS = 20
T0 = 1_767_225_600.0
PLATFORM_TYPES = ("tweet", "mastodon:status", "rss:feed")


async def _fill(streams: StreamStore, redis: Redis, keys: Keys) -> None:
    """10,000 streams as the poller leaves them: meta with options, state with counts."""
    batch = 500
    for first in range(0, STREAMS, batch):
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(first, min(first + batch, STREAMS)):
                sid = f"s{i}"
                meta = {
                    "type": PLATFORM_TYPES[i % 3],
                    "username": f"user{i}",
                    "interval": "60.0",
                    "createdAt": repr(T0),
                    "accountId": "",
                    "userId": "",
                    "options": '{"keywords":["a","b"]}',
                }
                state = {
                    "status": ACTIVE,
                    "lastPoll": repr(T0 + i % 60),
                    "nextPoll": repr(T0 + 60 + i % 60),
                    "consecutiveErrors": "0",
                    "lastError": "",
                    "highWater": str(10**18 + i),
                    "baselined": "1",
                    "seq": "12",
                    "polls": "340",
                    "events:stream:tweet:new": "120",
                    "events:stream:error": "2",
                    "cursor": '{"top":"DAABCgABF"}',
                }
                pipe.hset(keys.meta(sid), mapping=meta)
                pipe.hset(keys.state(sid), mapping=state)
                pipe.zadd(keys.streams, {sid: T0 + i})
            await pipe.execute()


def _old_marks(records: list[StreamRecord], skew: float) -> dict[str, float]:
    """What one refresh computed before, from whole records."""
    out: dict[str, float] = {}
    for r in records:
        if r.status == ACTIVE and not r.last_error and not r.consecutive_errors and r.last_poll:
            out[r.id] = r.last_poll - skew
    return out


async def watermark_reads(opts: Options) -> dict[str, Any]:
    from bench.scenarios.alerts import make_rules
    from herald.alerts.model import parse_rule
    from herald.alerts.pipeline import AlertsPipeline, RuleBook
    from herald.pipeline import Flow, Pipeline
    from herald.pipeline.marks import StreamMarks
    from herald.pipeline.runtime import PipelineSpec
    from herald.pipeline.runtime.watermark import Watermarks

    prefix = opts.prefix("alerts-marks")
    redis = Redis.from_url(opts.redis_url)
    keys = Keys(prefix)
    streams = StreamStore(redis, keys, ttl=3600)
    try:
        progress("alerts", f"watermark reads: filling {STREAMS:,} streams")
        await _fill(streams, redis, keys)
        spec = PipelineSpec(name="w", build=lambda: Pipeline("w", Flow()), skew=10)
        marks = Watermarks(spec, streams, refresh=0.0)
        await marks.current([])  # warm: the types are cached from then on
        timings: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
        for _ in range(ROUNDS):
            w0, c0 = time.perf_counter(), time.process_time()
            _old_marks(await streams.all(), 10.0)
            timings["before"].append((time.perf_counter() - w0, time.process_time() - c0))
            w0, c0 = time.perf_counter(), time.process_time()
            await marks.current([])
            timings["after"].append((time.perf_counter() - w0, time.process_time() - c0))
        # handing moved marks to the evaluator: every rule's mark over its scope
        rules = [parse_rule(r, now="2026-01-01T00:00:00.000Z") for r in make_rules()]
        pipeline = AlertsPipeline(RuleBook.fixed(rules, []), publish=False)
        platform = {f"s{i}": ("x", "bsky", "mastodon")[i % 3] for i in range(STREAMS)}
        await pipeline.process([], T0)
        scoped: list[float] = []
        for n in range(1, ROUNDS + 1):
            moved = StreamMarks.of({sid: T0 + n for sid in platform}, platform)
            c0 = time.process_time()
            pipeline.set_marks(moved)
            await pipeline.process([], T0 + n)
            scoped.append(time.process_time() - c0)
    finally:
        await redis.aclose()
        await delete_prefix(opts.redis_url, prefix)

    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 2)

    out: dict[str, Any] = {"streams": STREAMS, "rounds": ROUNDS}
    for name, pairs in timings.items():
        out[name] = {"wall_ms": ms([p[0] for p in pairs]), "cpu_ms": ms([p[1] for p in pairs])}
    out["scoped_marks_cpu_ms"] = ms(scoped)
    out["rules"] = len(rules)
    return out
