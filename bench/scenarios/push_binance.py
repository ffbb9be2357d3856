"""ws:feed decode speed: frames per CPU second a ``ws:feed`` source turns into changes,
and CPU per 1,000 frames, over the recorded exchange sessions.

**decode** rows: the recorded frames handed to ``WsFeedSource.decode`` in batches of 100 in
this process, as the push runtime hands them over (Binance: the 265-frame session replayed
with a fresh source per pass, so trades are new each time rather than dropped as replays;
Coinbase: the 9,950-frame session, mostly order-book frames no rule keeps, which every
frame still has to be parsed and matched to learn). **wire** row: the Coinbase session
served by ``herald fakews --max-speed --loop`` (its own process, its own core), read off a
real socket by ``connect`` + ``recv`` and decoded in batches of up to 100; the CPU is this
process's only. No Redis: the push runtime's own benchmark measures source -> log.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import orjson

from bench.common import Options, median, progress, record, skipped
from bench.procs import Children, free_port, herald_cli, pinned, wait_http
from herald.push.base import Frame, PushStream
from herald.sources.ws import WsFeedSource, feed_options, ws_url
from herald.testing.fakews import load_recording
from herald.testing.fakews.server import FIXTURES_ENV, default_exchanges

NAME = "push_binance"
BATCH = 100
GOAL = 20_000
"""Frames per second per core (the issue's goal for a push source)."""


def _stream(target: str, options: dict[str, Any]) -> PushStream:
    return PushStream("bench", "ws:feed", ws_url(target), feed_options(options), 0.0)


def _frames(path: Path) -> list[Frame]:
    return [Frame(f.text, 1.0) for f in load_recording(path).frames]


def _symbols(path: Path) -> list[str]:
    streams = load_recording(path).query.split("streams=", 1)[1].split("/")
    return sorted({s.split("@")[0] for s in streams})


def _products(path: Path) -> list[str]:
    first = load_recording(path).sent[0]
    return list(orjson.loads(first)["product_ids"])


async def _decode_run(stream: PushStream, frames: list[Frame], passes: int) -> dict[str, float]:
    """One run: ``passes`` times over ``frames``, a fresh source each pass."""
    total = changes = 0
    cpu = wall = 0.0
    for _ in range(passes):
        source = WsFeedSource()
        key = source.connection_key(stream)
        cursor: str | None = None
        c, w = time.process_time(), time.perf_counter()
        for i in range(0, len(frames), BATCH):
            decoded = await source.decode(key, frames[i : i + BATCH], [stream], cursor)
            cursor = decoded.cursor or cursor
            changes += len(decoded.changes)
        cpu += time.process_time() - c
        wall += time.perf_counter() - w
        total += len(frames)
    return {"frames": total, "changes": changes, "cpu": cpu, "wall": wall}


def _row(case: str, runs: list[dict[str, float]]) -> dict[str, Any]:
    per_core = [r["frames"] / r["cpu"] for r in runs if r["cpu"] > 0]
    per_wall = [r["frames"] / r["wall"] for r in runs if r["wall"] > 0]
    cpu_per_k = [r["cpu"] / r["frames"] * 1000 * 1000 for r in runs]
    best = median(per_core) or 0.0
    return {
        "case": case,
        "frames": int(runs[0]["frames"]),
        "changes": int(runs[0]["changes"]),
        "runs": len(runs),
        "frames_per_cpu_second": round(best),
        "frames_per_cpu_second_runs": [round(x) for x in per_core],
        "frames_per_second_wall": round(median(per_wall) or 0.0),
        "cpu_ms_per_1000": round(median(cpu_per_k) or 0.0, 3),
        "goal": GOAL,
        "meets_goal": best >= GOAL,
    }


async def _wire_run(url: str, products: list[str], count: int) -> dict[str, float]:
    """Read ``count`` frames off the socket into a bounded buffer (a reader task, as the
    runtime's) and decode what is there in batches of up to 100."""
    subscribe = {"type": "subscribe", "product_ids": products}
    subscribe["channels"] = ["level2", "ticker", "matches"]
    stream = _stream(
        url + "/",
        {"subscribe": [subscribe], "map": {"match": {"$.type": "match"}, "id": "$.trade_id"}},
    )
    source = WsFeedSource()
    key = source.connection_key(stream)
    connection = await source.connect(key, [stream], None)
    buffer: asyncio.Queue[Frame] = asyncio.Queue(1000)

    async def reader() -> None:
        while True:
            await buffer.put(await connection.recv())

    task = asyncio.create_task(reader())
    frames = changes = 0
    cursor: str | None = None
    try:
        c, w = time.process_time(), time.perf_counter()
        while frames < count:
            batch = [await asyncio.wait_for(buffer.get(), 30)]
            while len(batch) < BATCH and not buffer.empty():
                batch.append(buffer.get_nowait())
            decoded = await source.decode(key, batch, [stream], cursor)
            cursor = decoded.cursor or cursor
            changes += len(decoded.changes)
            frames += len(batch)
        cpu, wall = time.process_time() - c, time.perf_counter() - w
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await connection.aclose()
    return {"frames": frames, "changes": changes, "cpu": cpu, "wall": wall}


async def run(opts: Options) -> dict[str, Any]:
    folder = default_exchanges()
    if folder is None:
        return skipped(opts, NAME, f"recorded exchange sessions not found (set {FIXTURES_ENV})")
    binance, coinbase = folder / "BINANCE.ws.1.0", folder / "COINBASE.ws.28.0"
    rounds = 1 if opts.quick else 5
    binance_passes = 20 if opts.quick else 200
    rows: list[dict[str, Any]] = []
    cases = [
        (
            "decode: binance preset (aggTrade + bookTicker)",
            _stream(
                "ws://127.0.0.1:9/",
                {
                    "preset": "binance",
                    "symbols": _symbols(binance),
                    "channels": ["aggTrade", "bookTicker"],
                },
            ),
            _frames(binance),
            binance_passes,
        ),
        (
            "decode: coinbase preset (matches + ticker)",
            _stream(
                "ws://127.0.0.1:9/",
                {
                    "preset": "coinbase",
                    "symbols": _products(coinbase),
                    "channels": ["matches", "ticker"],
                },
            ),
            _frames(coinbase),
            2 if opts.quick else 5,
        ),
        (
            "decode: generic map (coinbase matches, id = trade_id)",
            _stream(
                "ws://127.0.0.1:9/", {"map": {"match": {"$.type": "match"}, "id": "$.trade_id"}}
            ),
            _frames(coinbase),
            2 if opts.quick else 5,
        ),
    ]
    for case, stream, frames, passes in cases:
        runs = [await _decode_run(stream, frames, passes) for _ in range(rounds)]
        rows.append(_row(case, runs))
        progress(NAME, f"{case}: {rows[-1]['frames_per_cpu_second_runs']} frames/s per core")
    async with Children() as children:
        port = free_port()
        argv = herald_cli("fakews", "--port", str(port), "--recording", str(coinbase))
        fake = await children.start("fakews", pinned("1", [*argv, "--max-speed", "--loop"]))
        await wait_http(f"http://127.0.0.1:{port}/_fakews/recording", 30, fake)
        count = 20_000 if opts.quick else 100_000
        runs = [
            await _wire_run(f"ws://127.0.0.1:{port}", _products(coinbase), count)
            for _ in range(1 if opts.quick else 3)
        ]
        rows.append(_row("wire: fakews --max-speed -> connect/recv -> decode (coinbase)", runs))
        progress(NAME, f"wire: {rows[-1]['frames_per_cpu_second_runs']} frames/s per core")
    load = [round(x, 2) for x in os.getloadavg()]
    results: dict[str, Any] = {"rows": rows, "batch": BATCH, "goal": GOAL, "load": load}
    record(opts, NAME, results)
    return results
