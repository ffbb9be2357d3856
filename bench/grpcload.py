"""A gRPC load-client process: many ``Subscribe`` calls, one connection each, on one loop.

Run as ``python -m bench.grpcload HOST:PORT MAX_BATCH COUNT``; it speaks the same JSON-line protocol
as :mod:`bench.loadclient` (``ready``, then ``reset``/``wait``/``quit``), so a
:class:`~bench.pool.ClientPool` drives it. Replies are counted as raw bytes (no protobuf
decoding: an ``event`` reply starts with field 2's tag), so the client's CPU stays small
beside the server's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import grpc
from grpc import aio

from bench.common import raise_fd_limit
from bench.loadclient import _cpu, _say
from herald.grpc.v1 import herald_pb2 as pb

EVENT_TAG = 0x12  # SubscribeReply field 2 (event), length-delimited
BATCH_TAG = 0x32  # SubscribeReply field 6 (events), length-delimited


def _varint(data: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7


def batch_size(reply: bytes) -> int:
    """Events in an ``events`` reply, counted by walking the elements' length prefixes."""
    _, i = _varint(reply, 1)
    count = 0
    while i < len(reply):
        size, i = _varint(reply, i + 1)
        i += size
        count += 1
    return count


METHOD = "/herald.v1.Herald/Subscribe"


class Sub:
    __slots__ = ("channel", "closed", "cut", "received", "task")

    def __init__(self, channel: aio.Channel) -> None:
        self.channel = channel
        self.received = 0
        self.closed = False
        self.cut = False
        self.task: asyncio.Task[None] | None = None


class GrpcLoad:
    def __init__(self, target: str, count: int, max_batch: int = 0) -> None:
        self.target, self.count, self.max_batch = target, count, max_batch
        self.subs: list[Sub] = []
        self.failed = 0
        self.reset()

    def reset(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        for sub in self.subs:
            sub.received = 0
        self.cpu0 = _cpu()

    async def _run(self, sub: Sub, started: asyncio.Future[bool]) -> None:
        call = sub.channel.unary_stream(
            METHOD, request_serializer=pb.SubscribeRequest.SerializeToString
        )(pb.SubscribeRequest(max_batch=self.max_batch))
        try:
            async for reply in call:
                if not started.done():
                    started.set_result(True)
                    continue
                tag = reply[0]
                if tag in (EVENT_TAG, BATCH_TAG):
                    now = time.time()
                    if self.first is None:
                        self.first = now
                    self.last = now
                    sub.received += 1 if tag == EVENT_TAG else batch_size(reply)
        except aio.AioRpcError as exc:
            sub.cut = exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        finally:
            sub.closed = True
            if not started.done():
                started.set_result(False)

    async def connect_all(self, parallel: int = 100) -> None:
        gate = asyncio.Semaphore(parallel)

        async def one() -> None:
            async with gate:
                channel = aio.insecure_channel(
                    self.target, options=[("grpc.use_local_subchannel_pool", 1)]
                )
                sub = Sub(channel)
                started: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
                sub.task = asyncio.create_task(self._run(sub, started))
                try:
                    ok = await asyncio.wait_for(started, 30)
                except TimeoutError:
                    ok = False
                if ok:
                    self.subs.append(sub)
                else:
                    self.failed += 1

        await asyncio.gather(*(one() for _ in range(self.count)))

    def live(self) -> list[Sub]:
        return [s for s in self.subs if not s.closed]

    async def wait(self, expect: int, timeout: float, idle: float) -> dict[str, Any]:
        start = time.time()
        while True:
            await asyncio.sleep(0.02)
            now = time.time()
            if all(s.received >= expect for s in self.live()):
                break
            if now - start > timeout or now - (self.last or start) > idle:
                break
        return {
            "total": sum(s.received for s in self.subs),
            "first": self.first,
            "last": self.last,
            "live": len(self.live()),
            "closed": sum(1 for s in self.subs if s.closed),
            "complete": sum(1 for s in self.subs if s.received > 0),
            "min_received": min((s.received for s in self.subs), default=0),
            "latencies": [],
            "reach": {},
            "cpu": _cpu() - self.cpu0,
        }

    async def close(self) -> None:
        for sub in self.subs:
            if sub.task is not None:
                sub.task.cancel()
        await asyncio.gather(*(s.channel.close() for s in self.subs), return_exceptions=True)


async def main(target: str, count: int, max_batch: int) -> None:
    raise_fd_limit(count + 1024)
    load = GrpcLoad(target, count, max_batch)
    await load.connect_all()
    _say({"ready": len(load.subs), "failed": load.failed})
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
    await load.close()


def run() -> None:
    args = sys.argv[1:]
    coro = main(args[0], int(args[2]), int(args[1]))
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


if __name__ == "__main__":
    run()
