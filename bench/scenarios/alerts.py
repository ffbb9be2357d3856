"""Alerts: evaluation cost of 1,000 rules over 10,000 streams, and event -> ``alert:firing``
latency after the window closes.

Cost (one process, no Redis): the alerts pipeline (:class:`AlertsPipeline`, the code the
runtime runs) holds 1,000 rules over 10,000 streams on three platforms: 800 scoped to 10
streams each (volume, sentiment, engagement), 150 to one platform (sentiment and volume), 50
keyword rules over every stream. It is fed tweets with sentiment and ``stream:tweet:metrics``
events spread over the streams, in batches of 500 records with a watermark trailing 1 s, 60 s
windows. Figures: events per CPU second through ``process`` (ingest and window closes
together), the CPU of one window close (every rule evaluated), and the size and encoding time
of the state snapshot that every commit writes.

Latency (Redis 7): the evaluator runs as the runtime runs it (an :class:`AlertsHost`, its
consumer group and one-script commits) with the same 1,000 rules; a volume rule on one stream
alternates between a window with a tweet and a quiet one. For each window the tweet is
appended, then the poll that closes the window is recorded (``lastPoll`` moves past its end,
as the poller does); the latency is from that moment to the ``alert:firing`` (or
``alert:resolved``) entry being readable in the log.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from redis.asyncio import Redis

from bench.common import Options, percentile, progress, record
from herald.alerts.model import parse_rule
from herald.alerts.pipeline import AlertsPipeline, RuleBook
from herald.events import Event, EventType
from herald.pipeline.core import Record

NAME = "alerts"
STREAMS = 10_000
RULES = 1_000
WINDOW = 60.0
BATCH = 500
T0 = 1_767_225_600.0
GOAL_LATENCY = 1.0
BLOCK = 0.25  # HERALD_ALERTS_BLOCK's default
NOW = "2026-01-01T00:00:00.000Z"
PLATFORMS = ("x", "bsky", "mastodon")


def make_rules(count: int = RULES, streams: int = STREAMS) -> list[dict[str, Any]]:
    rules = []
    scoped = count * 8 // 10
    by_platform = count * 15 // 100
    for i in range(scoped):
        kind = ("volume", "sentiment", "engagement")[i % 3]
        body: dict[str, Any] = {
            "id": f"scoped{i}",
            "type": kind,
            "condition": "below" if kind == "sentiment" else "above",
            "threshold": {"volume": 50, "sentiment": -0.5, "engagement": 10_000}[kind],
            "window": WINDOW,
            "for": 120,
            "scope": {"streams": [f"s{(i * 10 + j) % streams}" for j in range(10)]},
        }
        rules.append(parse_rule(body, now=NOW))
    for i in range(by_platform):
        kind = ("volume", "sentiment")[i % 2]
        body = {
            "id": f"platform{i}",
            "type": kind,
            "condition": "above" if kind == "volume" else "below",
            "threshold": 100_000 if kind == "volume" else -0.9,
            "window": WINDOW,
            "scope": {"platforms": [PLATFORMS[i % len(PLATFORMS)]]},
        }
        rules.append(parse_rule(body, now=NOW))
    for i in range(count - scoped - by_platform):
        body = {
            "id": f"keyword{i}",
            "type": "keyword",
            "condition": "contains",
            "threshold": f"rare{i}",
        }
        rules.append(parse_rule(body, now=NOW))
    return rules


def make_records(count: int, per_second: float) -> list[Record]:
    records = []
    for i in range(count):
        at = T0 + i / per_second
        sid = f"s{(i * 7919) % STREAMS}"
        platform = PLATFORMS[i % len(PLATFORMS)]
        if i % 10 == 9:
            event: dict[str, Any] = {
                "type": "stream:tweet:metrics",
                "streamId": sid,
                "platform": platform,
                "tweet": {"id": str(i), "url": "u", "author": "a"},
                "delta": {"likes": 3, "retweets": 1, "replies": 0, "quotes": 0},
                "detectedAt": at,
            }
        else:
            text = f"hello world {i}" + (" rare5" if i % 1000 == 0 else "")
            event = {
                "type": "stream:tweet:new",
                "streamId": sid,
                "platform": platform,
                "tweet": {
                    "id": str(i),
                    "text": text,
                    "timestamp": at,
                    "sentiment": {"compound": ((i % 21) - 10) / 10, "label": "neutral"},
                },
            }
        records.append(Record(f"{i}-0", event, at))
    return records


async def cost(events: int) -> dict[str, Any]:
    rules = make_rules()
    pipeline = AlertsPipeline(RuleBook.fixed(rules, []), publish=False)
    records = make_records(events, per_second=events / 600)  # ten minutes of event time
    work = [
        (records[i : i + BATCH], records[min(i + BATCH, len(records)) - 1].time - 1.0)
        for i in range(0, len(records), BATCH)
    ]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    fired = 0
    for batch, watermark in work:
        fired += len(await pipeline.process(batch, watermark))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    # one window close alone: every rule evaluated, no records
    close_cpu = []
    mark = records[-1].time
    for _ in range(5):
        mark += WINDOW
        c0 = time.process_time()
        await pipeline.process([], mark)
        close_cpu.append(time.process_time() - c0)
    s0 = time.process_time()
    snapshot = pipeline.snapshot()
    snap_cpu = time.process_time() - s0
    instances = sum(len(r["inst"]) for r in pipeline.evaluator.state["rules"].values())
    return {
        "rules": len(rules),
        "streams": STREAMS,
        "events": events,
        "per_cpu_second": round(events / cpu),
        "per_second": round(events / wall),
        "us_per_event": round(cpu / events * 1e6, 1),
        "window_close_ms": round(statistics.median(close_cpu) * 1000, 2),
        "snapshot_bytes": len(snapshot),
        "snapshot_ms": round(snap_cpu * 1000, 2),
        "instances": instances,
        "notified": fired,
    }


async def latency(opts: Options, rounds: int) -> dict[str, Any]:
    from herald.alerts.host import AlertsHost
    from herald.alerts.service import AlertsManager
    from herald.store.alerts import RedisAlertStore
    from herald.store.eventlog import EventLog
    from herald.store.keys import Keys
    from herald.store.pipelines import PipelineStore
    from herald.store.streams import StreamRecord, StreamStore

    redis = Redis.from_url(opts.redis_url)
    keys = Keys(opts.prefix(NAME))
    streams = StreamStore(redis, keys, ttl=3600)
    log = EventLog(redis, keys, log_maxlen=1_000_000)
    pipelines = PipelineStore(redis, keys, log_maxlen=1_000_000)
    rules = RedisAlertStore(redis, keys)
    service = AlertsManager(rules, pipelines)
    for body in make_rules(RULES, streams=100):
        await service.create_rule(body)
    await service.create_rule(
        {
            "id": "probe",
            "type": "volume",
            "condition": "above",
            "threshold": 0,
            "window": 1,
            "scope": {"streams": ["probe"]},
        }
    )
    await streams.create(StreamRecord("probe", "tweet", "probe", 60.0, 1.0))
    host = AlertsHost(rules, pipelines, streams, skew=0.0, block=BLOCK)
    await host.start()
    samples: list[float] = []
    try:
        last = await log.newest_offset()
        for i in range(rounds):
            start = T0 + i  # window i: a tweet in the even ones, quiet in the odd ones
            if i % 2 == 0:
                tweet = Event(
                    EventType.TWEET_NEW,
                    "probe",
                    "probe",
                    str(i),
                    {"tweet": {"id": str(i), "text": "x", "timestamp": start + 0.5}},
                )
                await log.append("probe", [tweet])
            began = time.perf_counter()
            await streams.set_state("probe", {"lastPoll": repr(start + 1.0)})
            while True:
                found = await redis.xread({keys.events: last}, block=5000, count=100)
                if not found:
                    raise AssertionError(f"no alert within 5 s of window {i} closing")
                entries = found[0][1]
                last = entries[-1][0].decode()
                if any(f[b"t"].startswith(b"alert:") for _, f in entries):
                    break
            samples.append(time.perf_counter() - began)
    finally:
        await host.stop()
        await redis.aclose()
    return {
        "rounds": rounds,
        "p50_ms": round((percentile(samples, 50) or 0) * 1000, 1),
        "p95_ms": round((percentile(samples, 95) or 0) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
        "block_s": BLOCK,
        "goal_s": GOAL_LATENCY,
    }


async def run(opts: Options) -> dict[str, Any]:
    events = 50_000 if opts.quick else 500_000
    progress(NAME, f"evaluation cost: {RULES} rules, {STREAMS:,} streams, {events:,} events")
    figures = await cost(events)
    progress(NAME, f"{figures['per_cpu_second']:,} events/s per core")
    rounds = 10 if opts.quick else 40
    progress(NAME, f"latency: {rounds} window closes")
    lat = await latency(opts, rounds)
    progress(NAME, f"p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms")
    from bench.scenarios.alerts_marks import watermark_reads

    marks = await watermark_reads(opts)
    before, after = marks["before"], marks["after"]
    progress(NAME, f"watermark refresh: {before['wall_ms']} ms before, {after['wall_ms']} ms now")
    results = {"cost": figures, "latency": lat, "watermark": marks}
    record(opts, NAME, results)
    return results
