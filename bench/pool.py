"""Load-client processes on the client core, and merging what they report."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.common import CLIENT_CORE
from bench.procs import Child, Children, pinned, python_module

PER_PROCESS = 2500


class ClientPool:
    """``count`` connections to ``url`` spread over load-client processes."""

    def __init__(
        self, children: Children, url: str, kind: str, count: int, mode: str = "count"
    ) -> None:
        self.children = children
        self.url, self.kind, self.count, self.mode = url, kind, count, mode
        self.procs: list[Child] = []
        self.connected = 0

    async def start(self, timeout: float = 180.0) -> int:
        sizes = [PER_PROCESS] * (self.count // PER_PROCESS)
        if self.count % PER_PROCESS:
            sizes.append(self.count % PER_PROCESS)
        for size in sizes:
            argv = pinned(
                CLIENT_CORE,
                python_module("bench.loadclient", self.url, self.kind, str(size), self.mode),
            )
            self.procs.append(
                await self.children.start(f"clients x{size}", argv, control=True, quiet=False)
            )
        replies = await asyncio.gather(*(p.receive(timeout) for p in self.procs))
        self.connected = sum(int(r["ready"]) for r in replies)
        return self.connected

    async def reset(self) -> None:
        await asyncio.gather(*(p.ask({"cmd": "reset"}, 30) for p in self.procs))

    async def wait(self, expect: int, timeout: float, idle: float = 5.0) -> dict[str, Any]:
        cmd = {"cmd": "wait", "expect": expect, "timeout": timeout, "idle": idle}
        replies = await asyncio.gather(*(p.ask(cmd, timeout + idle + 30) for p in self.procs))
        return merge(replies)

    async def stop(self) -> None:
        for proc in self.procs:
            try:
                await proc.send({"cmd": "quit"})
                await asyncio.wait_for(proc.proc.wait(), 10)
            except (OSError, TimeoutError, ConnectionError):
                pass
            await self.children.stop(proc)
        self.procs = []


def merge(replies: list[dict[str, Any]]) -> dict[str, Any]:
    firsts = [r["first"] for r in replies if r["first"] is not None]
    lasts = [r["last"] for r in replies if r["last"] is not None]
    reach: dict[str, list[float]] = {}
    for r in replies:
        for seq, (n, worst) in r["reach"].items():
            slot = reach.setdefault(seq, [0, 0.0])
            slot[0] += n
            slot[1] = max(slot[1], worst)
    return {
        "total": sum(r["total"] for r in replies),
        "first": min(firsts) if firsts else None,
        "last": max(lasts) if lasts else None,
        "live": sum(r["live"] for r in replies),
        "closed": sum(r["closed"] for r in replies),
        "min_received": min((r["min_received"] for r in replies), default=0),
        "latencies": [x for r in replies for x in r["latencies"]],
        "reach": reach,
        "client_cpu": sum(r["cpu"] for r in replies),
    }
