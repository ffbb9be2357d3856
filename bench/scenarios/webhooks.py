"""Webhook deliveries per second per process: signed POSTs to a loopback receiver.

One herald process (a worker, on Redis 7) delivers events already in the log to a fast
aiohttp receiver in a separate process, each request signed per Standard Webhooks and
committed (offset and attempt record) in Redis before the next event of that endpoint
goes. Measured twice: one endpoint (strictly in order: one request at a time) and eight
endpoints (each in order, concurrently). From enabling the endpoints until the receiver
has counted every delivery; CPU is this process's.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, Options, progress, record
from herald.config import Settings
from herald.events import Event, EventType
from herald.service import Herald
from herald.sources.memory import MemorySource

NAME = "webhooks"
GOAL = 2000.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _count(client: httpx.AsyncClient) -> int:
    return int((await client.get("/count")).json()["count"])


async def _round(opts: Options, base: str, endpoints: int, events: int, tag: str) -> dict[str, Any]:
    settings = Settings(
        redis_url=opts.redis_url,
        redis_prefix=opts.prefix(f"{NAME}-{tag}"),
        data_dir=Path("/tmp") / f"herald-bench-{opts.run_id}",
        secret_key="bench-webhooks",
        webhooks_allow_private=True,
        alerts=False,
    )
    async with (
        Herald(settings, sources=[MemorySource()], delivery=False) as herald,
        httpx.AsyncClient(base_url=base, timeout=10) as counter,
    ):
        ids = []
        for n in range(endpoints):
            made = await herald.webhooks.create(
                {"url": f"{base}/hook/{n}", "enabled": False, "id": f"bench{n}"}
            )
            ids.append(made["id"])
        batch = []
        for i in range(events):
            batch.append(
                Event(
                    EventType.TWEET_NEW,
                    "bench",
                    "bench",
                    str(i),
                    {"tweet": {"id": str(i), "text": f"bench tweet {i} " + "x" * 200}},
                    platform="x",
                )
            )
            if len(batch) == 500:
                await herald.log.append("bench", batch)
                batch = []
        if batch:
            await herald.log.append("bench", batch)
        before = await _count(counter)
        want = before + endpoints * events
        cpu0, t0 = time.process_time(), time.perf_counter()
        for hook in ids:
            await herald.webhooks.update(hook, {"enabled": True})
        while await _count(counter) < want:
            await asyncio.sleep(0.05)  # polling the receiver's count: the measurement's end
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        total = endpoints * events
        return {
            "endpoints": endpoints,
            "deliveries": total,
            "seconds": round(wall, 3),
            "per_second": round(total / wall, 1),
            "per_cpu_second": round(total / cpu, 1) if cpu else None,
        }


async def run(opts: Options) -> None:
    events = 2000 if opts.quick else 20_000
    load = round(os.getloadavg()[0], 2)
    port = _free_port()
    receiver = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.webhookreceiver", "--port", str(port), cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as probe:
            for _ in range(200):
                try:
                    await probe.get("/count")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        rounds = []
        for endpoints in (1, 8):
            per = events if endpoints == 1 else events // 4
            progress(NAME, f"{endpoints} endpoint(s) x {per} events")
            rounds.append(await _round(opts, base, endpoints, per, f"e{endpoints}"))
            progress(NAME, f"{rounds[-1]['per_second']:.0f} deliveries/s")
    finally:
        receiver.terminate()
        await asyncio.wait_for(receiver.wait(), 10)
    best = max(r["per_second"] for r in rounds)
    results = {"rounds": rounds, "goal": GOAL, "meets": best >= GOAL, "load": load}
    record(opts, NAME, results)
