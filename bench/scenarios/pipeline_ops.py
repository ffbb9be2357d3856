"""Pipeline operators in one process: filter -> map -> tumbling-window count.

Events per second through herald's :class:`~herald.pipeline.Pipeline` (batches of log
records with a watermark, the way the runtime drives it, minus Redis), through a
:class:`~herald.pipeline.Stream` (the async-iterator API), and through a hand-written
plain-asyncio loop doing the same work with no operator layer (the ceiling). The records
are built beforehand; every run's window counts are checked against the ceiling's. CPU is
``time.process_time()`` of this single-threaded process, so events/s per CPU second is
events/s per core.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import Options, progress, record
from herald.pipeline import Agg, Flow, Pipeline, Record, Stream, Tumbling

NAME = "pipeline_ops"
BATCH = 1000
WINDOW = 60.0
STREAMS = 100
EVENTS_PER_SECOND = 1000  # of event time: 60,000 events per window
GOAL_PER_SECOND = 100_000
TYPES = ("stream:tweet:new", "stream:tweet:new", "stream:tweet:new", "stream:follower:new")

Counts = dict[tuple[str, float], int]


def make_records(count: int) -> list[Record]:
    start = 1_767_225_600.0
    records = []
    for i in range(count):
        event = {
            "type": TYPES[i % len(TYPES)],
            "streamId": f"s{i % STREAMS}",
            "platform": "x",
            "eventId": f"tweet:{i}@s{i % STREAMS}",
            "tweet": {"id": str(i), "text": "hello", "author": f"user{i % STREAMS}"},
        }
        records.append(Record(f"{1_767_225_600_000 + i}-0", event, start + i / EVENTS_PER_SECOND))
    return records


def batches(records: list[Record]) -> list[tuple[list[Record], float]]:
    """Log reads of ``BATCH`` records; the watermark trails the newest record by 1 s."""
    return [
        (records[i : i + BATCH], records[min(i + BATCH, len(records)) - 1].time - 1.0)
        for i in range(0, len(records), BATCH)
    ]


def is_tweet(event: Any) -> bool:
    return bool(event["type"] == "stream:tweet:new")


def stream_of(event: Any) -> str:
    return str(event["streamId"])


def flow() -> Flow:
    return (
        Flow()
        .filter(is_tweet)
        .map(stream_of)
        .window(Tumbling(WINDOW), key=str)
        .aggregate(Agg.count())
    )


async def run_pipeline(work: list[tuple[list[Record], float]]) -> Counts:
    pipeline = Pipeline("volume", flow())
    counts: Counts = {}
    for records, watermark in work:
        for out in await pipeline.process(records, watermark):
            counts[(out.data["key"], out.data["start"])] = out.data["value"]
    for out in await pipeline.drain():
        counts[(out.data["key"], out.data["start"])] = out.data["value"]
    return counts


async def run_stream(work: list[tuple[list[Record], float]]) -> Counts:
    events = [r.event for records, _ in work for r in records]
    times = {id(r.event): r.time for records, _ in work for r in records}
    stream = (
        Stream(events, time_of=lambda e: times[id(e)], lateness=1.0)
        .filter(is_tweet)
        .map(stream_of)
        .window(Tumbling(WINDOW), key=str)
        .aggregate(Agg.count())
    )
    return {(w["key"], w["start"]): w["value"] async for w in stream}


async def run_ceiling(work: list[tuple[list[Record], float]]) -> Counts:
    """The same three steps written out by hand: no operators, no metrics, no keys."""
    open_windows: dict[tuple[str, float], int] = defaultdict(int)
    counts: Counts = {}
    watermark = -math.inf
    for records, new_watermark in work:
        for entry in records:
            event = entry.event
            if event["type"] != "stream:tweet:new" or entry.time < watermark:
                continue
            start = math.floor(entry.time / WINDOW) * WINDOW
            open_windows[(event["streamId"], start)] += 1
        watermark = max(watermark, new_watermark)
        for key in [k for k in open_windows if k[1] + WINDOW <= watermark]:
            counts[key] = open_windows.pop(key)
        await asyncio.sleep(0)  # one await per batch, as a log reader would have
    counts.update(open_windows)
    return counts


async def measure(
    run: Callable[[list[tuple[list[Record], float]]], Awaitable[Counts]],
    work: list[tuple[list[Record], float]],
    events: int,
) -> tuple[dict[str, float], Counts]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    counts = await run(work)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"per_second": events / wall, "per_cpu_second": events / cpu, "seconds": wall}, counts


async def run(opts: Options) -> dict[str, Any]:
    events = 200_000 if opts.quick else 1_000_000
    rounds = 1 if opts.quick else 3
    progress(NAME, f"building {events:,} records")
    work = batches(make_records(events))
    runners = {"pipeline": run_pipeline, "stream": run_stream, "ceiling": run_ceiling}
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in runners}
    reference: Counts | None = None
    for round_ in range(rounds):
        for name, runner in runners.items():
            figures, counts = await measure(runner, work, events)
            if reference is None:
                reference = counts
            if counts != reference:
                raise AssertionError(f"{name} counted differently from the other runs")
            samples[name].append(figures)
            progress(NAME, f"round {round_ + 1} {name}: {figures['per_second']:,.0f} events/s")
    rows = []
    for name, runs in samples.items():
        rows.append(
            {
                "runner": name,
                "events": events,
                "per_second": round(statistics.median(r["per_second"] for r in runs)),
                "per_cpu_second": round(statistics.median(r["per_cpu_second"] for r in runs)),
                "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
            }
        )
    ceiling = rows[-1]["per_second"]
    for row in rows:
        row["of_ceiling"] = round(row["per_second"] / ceiling, 3)
    windows = len(reference or {})
    results = {
        "operators": "filter -> map -> tumbling 60 s count per stream",
        "batch": BATCH,
        "windows": windows,
        "rounds": rounds,
        "rows": rows,
        "goal": {"per_second": GOAL_PER_SECOND},
    }
    record(opts, NAME, results)
    return results
