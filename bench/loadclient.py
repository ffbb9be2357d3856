"""A load-client process: many connections on one event loop, driven by JSON lines.

Run as ``python -m bench.loadclient URL KIND COUNT [MODE]``; MODE ``count`` (the default)
only counts, ``latency`` also reads ``benchTs``/``benchSeq`` from every payload. It
connects ``COUNT`` clients, says ``{"ready": ...}``, then answers commands from stdin:

- ``{"cmd": "reset"}``: zero the counters;
- ``{"cmd": "wait", "expect": E, "timeout": T, "idle": I}``: wait until every live
  connection has E events (or T passes, or I seconds with nothing new), then report counts,
  first/last receive times, latencies (``benchTs`` in the payload) and this process's CPU;
- ``{"cmd": "quit"}``.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from typing import Any

from bench.common import raise_fd_limit
from bench.wire import WsConn, connect, field_float

MAX_LATENCIES = 200_000


class Load:
    def __init__(self, url: str, kind: str, count: int, mode: str = "count") -> None:
        self.url, self.kind, self.count = url, kind, count
        self.timed = mode == "latency"
        self.conns: list[WsConn] = []
        self.failed = 0
        self.reset()

    def reset(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.latencies: list[float] = []
        self.seen = 0
        self.reach: dict[int, list[float]] = {}  # benchSeq -> [count, max latency]
        for conn in self.conns:
            conn.received = 0
        self.cpu0 = _cpu()

    def on_event(self, conn: WsConn, payload: bytes, now: float) -> None:
        if self.first is None:
            self.first = now
        self.last = now
        if not self.timed:
            return
        sent = field_float(payload, b"benchTs")
        if sent is None:
            return
        latency = now - sent
        self.seen += 1
        if len(self.latencies) < MAX_LATENCIES:
            self.latencies.append(latency)
        else:  # reservoir sampling keeps the sample uniform over the whole run
            slot = random.randrange(self.seen)
            if slot < MAX_LATENCIES:
                self.latencies[slot] = latency
        seq = field_float(payload, b"benchSeq")
        if seq is not None:
            slot = self.reach.setdefault(int(seq), [0, 0.0])
            slot[0] += 1
            slot[1] = max(slot[1], latency)

    async def connect_all(self, parallel: int = 100) -> None:
        gate = asyncio.Semaphore(parallel)

        async def one() -> None:
            async with gate:
                try:
                    self.conns.append(await connect(self.url, self.kind, self.on_event))
                except (OSError, ConnectionError, TimeoutError):
                    self.failed += 1

        await asyncio.gather(*(one() for _ in range(self.count)))

    def live(self) -> list[WsConn]:
        return [c for c in self.conns if not c.closed and not c.cut]

    async def wait(self, expect: int, timeout: float, idle: float) -> dict[str, Any]:
        start = time.time()
        while True:
            await asyncio.sleep(0.02)
            now = time.time()
            live = self.live()
            if all(c.received >= expect for c in live):
                break
            if now - start > timeout:
                break
            if now - (self.last or start) > idle:
                break
        return self.report()

    def report(self) -> dict[str, Any]:
        return {
            "total": sum(c.received for c in self.conns),
            "first": self.first,
            "last": self.last,
            "live": len(self.live()),
            "closed": sum(1 for c in self.conns if c.closed or c.cut),
            "complete": sum(1 for c in self.conns if c.received > 0),
            "min_received": min((c.received for c in self.conns), default=0),
            "latencies": [round(x, 6) for x in self.latencies],
            "reach": {str(k): v for k, v in self.reach.items()},
            "cpu": _cpu() - self.cpu0,
        }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main(url: str, kind: str, count: int, mode: str) -> None:
    raise_fd_limit(count + 1024)
    load = Load(url, kind, count, mode)
    await load.connect_all()
    _say({"ready": len(load.conns), "failed": load.failed})
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["cmd"] == "reset":
            load.reset()
            _say({"reset": True})
        elif cmd["cmd"] == "wait":
            _say(await load.wait(int(cmd["expect"]), float(cmd["timeout"]), float(cmd["idle"])))
        elif cmd["cmd"] == "quit":
            break
    for conn in load.conns:
        conn.close()
    await asyncio.sleep(0.1)


def run() -> None:
    args = sys.argv[1:]
    coro = main(args[0], args[1], int(args[2]), args[3] if len(args) > 3 else "count")
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


if __name__ == "__main__":
    run()
