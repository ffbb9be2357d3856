"""Connections: idle Socket.IO clients on one herald process, what they cost and how fast
one event reaches all of them.

RSS is read from /proc for the ``herald serve`` process: a baseline after a warm-up with
no client connected, then at each client count; per-connection cost is the difference
divided by the count. Reach time is, per broadcast, the latest client's receive time minus
the append time; several broadcasts per count, reported as p99 (= the worst of a few).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench import wire
from bench.common import CLIENT_CORE, Options, median, percentile, progress, record
from bench.pool import ClientPool
from bench.procs import Child, Children, pinned, python_module, rss_kb
from bench.servers import start_herald

NAME = "connections"
GOAL_KB_PER_CONN = 64
GOAL_REACH_MS = 250


async def _broadcast(pools: list[ClientPool], producer: Child, seq: int) -> dict[str, Any]:
    await asyncio.gather(*(p.reset() for p in pools))
    await producer.ask({"cmd": "one", "seq": seq}, 30)
    replies = await asyncio.gather(*(p.wait(1, timeout=20, idle=5) for p in pools))
    count = sum(r["reach"].get(str(seq), [0, 0.0])[0] for r in replies)
    worst = max(r["reach"].get(str(seq), [0, 0.0])[1] for r in replies)
    return {"reached": count, "seconds": worst}


async def run(opts: Options) -> dict[str, Any]:
    sizes = [1000] if opts.quick else [1000, 5000, 10000]
    broadcasts = 3 if opts.quick else 5
    prefix = opts.prefix(NAME)
    rows: list[dict[str, Any]] = []
    async with Children() as children:
        progress(NAME, "starting herald serve --no-worker and the producer")
        server, base = await start_herald(children, opts, prefix)
        producer = await children.start(
            "producer",
            pinned(CLIENT_CORE, python_module("bench.producer", opts.redis_url, prefix)),
            control=True,
        )
        await producer.receive(30)
        url = wire.endpoint(base, "eio")
        warm = ClientPool(children, url, "eio", 20, "latency")
        await warm.start()
        await _broadcast([warm], producer, 0)
        await warm.stop()
        await asyncio.sleep(2)
        baseline = rss_kb(server.pid)
        progress(NAME, f"baseline RSS {baseline / 1024:.1f} MiB with no client")
        pools: list[ClientPool] = []
        connected = 0
        seq = 1
        for size in sizes:
            progress(NAME, f"connecting up to {size} idle Socket.IO clients")
            more = ClientPool(children, url, "eio", size - connected, "latency")
            await more.start(timeout=600)
            pools.append(more)
            connected = sum(p.connected for p in pools)
            await asyncio.sleep(3)
            rss = rss_kb(server.pid)
            reach = []
            for _ in range(broadcasts):
                reach.append(await _broadcast(pools, producer, seq))
                seq += 1
                await asyncio.sleep(0.3)
            times = [r["seconds"] * 1000 for r in reach]
            row = {
                "clients": size,
                "connected": connected,
                "rss_mb": round(rss / 1024, 1),
                "baseline_mb": round(baseline / 1024, 1),
                "kb_per_conn": round((rss - baseline) / max(connected, 1), 1),
                "reach_p50_ms": round(median(times) or 0, 1),
                "reach_p99_ms": round(percentile(times, 99) or 0, 1),
                "reached_min": min(r["reached"] for r in reach),
                "broadcasts": broadcasts,
            }
            progress(
                NAME,
                f"{connected} clients: {row['kb_per_conn']} KB each, "
                f"reach p99 {row['reach_p99_ms']} ms ({row['reached_min']} reached)",
            )
            rows.append(row)
        for pool in pools:
            await pool.stop()
    results = {"rows": rows, "goal": {"kb_per_conn": GOAL_KB_PER_CONN, "reach_ms": GOAL_REACH_MS}}
    record(opts, NAME, results)
    return results
