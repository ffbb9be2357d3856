"""Resume: a client that missed 10,000 events reconnects with ``since`` and gets them all.

For each transport (Socket.IO ``subscribe {since}`` and ``/ws`` ``requested {since}``) a
client notes its offset and disconnects; a producer appends the events; the client comes
back with that offset. Correct means exactly the log's entries after the offset, in log
order, none missing or repeated; time is from the resume request to the last event.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from redis.asyncio import Redis

from bench import wire
from bench.common import CLIENT_CORE, Options, progress, record
from bench.procs import Child, Children, pinned, python_module
from bench.servers import start_herald
from herald.store.keys import Keys

NAME = "resume"


async def _expected(redis: Redis, key: str, after: str, count: int) -> list[str]:
    entries = await redis.xrange(key, min=f"({after}", count=count + 10)
    return [e[0].decode() for e in entries]


async def _one(
    transport: str, base: str, producer: Child, redis: Redis, key: str, missed: int
) -> dict[str, Any]:
    got: list[bytes] = []
    last = [0.0]

    def keep(conn: wire.WsConn, payload: bytes, now: float) -> None:
        got.append(payload)
        last[0] = now

    kind = "eio" if transport == "socketio" else "ws"
    url = wire.endpoint(base, kind)
    first = await wire.connect(url, kind, keep)
    if kind == "eio":
        offset = (await asyncio.wait_for(first.emit("subscribe", {}), 10))[0]["offset"]
    else:
        offset = first.started["offset"]
    first.close()
    await producer.ask({"cmd": "burst", "n": missed, "batch": 100}, 120)
    expected = await _expected(redis, key, offset, missed)
    got.clear()
    t0 = time.time()
    if kind == "eio":
        again = await wire.connect(url, kind, keep)
        ack = (await asyncio.wait_for(again.emit("subscribe", {"since": offset}), 10))[0]
    else:
        again = await wire.connect(url, kind, keep, since=offset)
        ack = again.started
    deadline = time.time() + 60
    while len(got) < len(expected) and time.time() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # anything extra (a duplicate) would arrive now
    again.close()
    bodies = [orjson.loads(p[2:])[1] if kind == "eio" else orjson.loads(p)["payload"] for p in got]
    offsets = [b["offset"] for b in bodies]
    ids = [b["eventId"] for b in bodies]
    return {
        "transport": transport,
        "missed": len(expected),
        "received": len(got),
        "in_order": offsets == sorted(offsets, key=lambda o: tuple(map(int, o.split("-")))),
        "duplicates": len(ids) - len(set(ids)),
        "exact": offsets == expected,
        "recovered": bool(ack.get("recovered")) if isinstance(ack, dict) else None,
        "seconds": round(last[0] - t0, 3) if got else None,
        "events_per_second": round(len(got) / (last[0] - t0)) if got else 0,
    }


async def run(opts: Options) -> dict[str, Any]:
    missed = 10_000
    prefix = opts.prefix(NAME)
    rows = []
    redis = Redis.from_url(opts.redis_url)
    try:
        async with Children() as children:
            progress(NAME, "starting herald serve --no-worker and the producer")
            _, base = await start_herald(children, opts, prefix)
            producer = await children.start(
                "producer",
                pinned(CLIENT_CORE, python_module("bench.producer", opts.redis_url, prefix)),
                control=True,
            )
            await producer.receive(30)
            for transport in ("socketio", "ws"):
                progress(NAME, f"{transport}: disconnect, miss {missed} events, resume")
                row = await _one(transport, base, producer, redis, Keys(prefix).events, missed)
                progress(
                    NAME,
                    f"{transport}: {row['received']}/{row['missed']} in {row['seconds']}s, "
                    f"exact={row['exact']} duplicates={row['duplicates']}",
                )
                rows.append(row)
    finally:
        await redis.aclose()
    results = {"rows": rows, "goal": {"missed": missed}}
    record(opts, NAME, results)
    return results
