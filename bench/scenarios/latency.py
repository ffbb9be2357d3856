"""Latency: log append → client receive, at fixed append rates, 100 Socket.IO clients.

A producer process appends events at a steady rate (5 ms ticks), each carrying the time
of its append (``benchTs``); the clients, on the same machine clock, subtract it from the
time the frame arrived. One warm-up second at each rate is not measured. Percentiles are
over every delivery (sampled uniformly past 200k per client process).
"""

from __future__ import annotations

from typing import Any

from bench import wire
from bench.common import CLIENT_CORE, Options, percentile, progress, record
from bench.pool import ClientPool
from bench.procs import Children, pinned, python_module
from bench.servers import start_herald

NAME = "latency"
CLIENTS = 100
GOAL_P99_MS = 10.0
GOAL_RATE = 1000


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


async def run(opts: Options) -> dict[str, Any]:
    rates = [100, 1000] if opts.quick else [100, 1000, 5000]
    seconds = 2.0 if opts.quick else 5.0
    prefix = opts.prefix(NAME)
    rows: list[dict[str, Any]] = []
    async with Children() as children:
        progress(NAME, "starting herald serve --no-worker and the producer")
        _, base = await start_herald(children, opts, prefix)
        producer = await children.start(
            "producer",
            pinned(CLIENT_CORE, python_module("bench.producer", opts.redis_url, prefix)),
            control=True,
        )
        await producer.receive(30)
        for rate in rates:
            progress(NAME, f"{rate} events/s for {seconds:g}s to {CLIENTS} Socket.IO clients")
            pool = ClientPool(children, wire.endpoint(base, "eio"), "eio", CLIENTS, "latency")
            await pool.start()
            warm = await producer.ask({"cmd": "rate", "rate": rate, "seconds": 1.0}, 60)
            await pool.wait(warm["new"], timeout=30, idle=3)  # warm-up, not measured
            await pool.reset()
            sent = await producer.ask({"cmd": "rate", "rate": rate, "seconds": seconds}, 120)
            got = await pool.wait(sent["new"], timeout=60, idle=3)
            lat = got["latencies"]
            row = {
                "rate": rate,
                "clients": pool.connected,
                "appended": sent["new"],
                "delivered": got["total"],
                "expected": sent["new"] * pool.connected,
                "disconnected": got["closed"],
                "p50_ms": _ms(percentile(lat, 50)),
                "p95_ms": _ms(percentile(lat, 95)),
                "p99_ms": _ms(percentile(lat, 99)),
                "max_ms": _ms(max(lat) if lat else None),
                "samples": len(lat),
                "client_cpu_share": round(got["client_cpu"] / seconds, 2),
            }
            progress(
                NAME,
                f"{rate}/s: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, "
                f"{row['delivered']}/{row['expected']} delivered",
            )
            rows.append(row)
            await pool.stop()
    results = {"transport": "socketio", "seconds": seconds, "rows": rows}
    results["goal"] = {"rate": GOAL_RATE, "p99_ms": GOAL_P99_MS}
    record(opts, NAME, results)
    return results
