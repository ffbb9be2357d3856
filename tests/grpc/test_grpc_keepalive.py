"""A subscriber whose network is cut (no FIN, no RST: packets just stop) is found by the
server's keepalive ping and its call ends: the slot and the call are given back, and the
others keep going. The cut is a loopback proxy that stops moving bytes both ways while
keeping both sockets open, as a dead route or a pulled cable would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from grpc import aio
from grpc_helpers import GrpcHerald, events, read, running

from herald.config import Settings
from herald.grpc.server import keepalive_options
from herald.grpc.v1 import herald_pb2 as pb
from herald.grpc.v1 import herald_pb2_grpc as rpc
from tests.delivery.delivery_helpers import append_n
from tests.waiting import wait_until


class Blackhole:
    """A TCP proxy on loopback; :meth:`cut` stops it reading and writing, sockets open."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self._pumps: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Blackhole:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self.cut()
        assert self._server is not None
        self._server.close()
        for w in self._writers:
            w.close()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._pumps.add(task)

    @staticmethod
    async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        while chunk := await src.read(65536):
            dst.write(chunk)
            await dst.drain()

    def cut(self) -> None:
        for task in self._pumps:
            task.cancel()


@contextlib.asynccontextmanager
async def through(port: int) -> AsyncIterator[tuple[Blackhole, rpc.HeraldStub]]:
    async with Blackhole(port) as hole:
        opts = [("grpc.use_local_subchannel_pool", 1)]
        async with aio.insecure_channel(f"127.0.0.1:{hole.port}", options=opts) as channel:
            yield hole, rpc.HeraldStub(channel)


def test_keepalive_options_follow_the_settings() -> None:
    on = dict(keepalive_options(Settings(grpc_keepalive=30, grpc_keepalive_timeout=10)))
    assert on["grpc.keepalive_time_ms"] == 30_000 and on["grpc.keepalive_timeout_ms"] == 10_000
    assert on["grpc.http2.ping_timeout_ms"] == 10_000  # the timeout grpc core applies
    assert on["grpc.http2.max_pings_without_data"] == 0
    assert keepalive_options(Settings(grpc_keepalive=0)) == []


@pytest.mark.timeout(60)
async def test_a_cut_subscriber_is_found_by_the_ping_and_let_go(key_prefix: str) -> None:
    async with running(key_prefix, grpc_keepalive=0.5, grpc_keepalive_timeout=2) as served:
        await _cut_and_let_go(served)


async def _cut_and_let_go(served: GrpcHerald) -> None:
    h = served.herald
    connections = h.delivery.ctx.connections if h.delivery else None
    assert connections is not None
    async with through(served.server.port) as (hole, far), served.stub() as near:
        cut_call = far.Subscribe(pb.SubscribeRequest())
        await read(cut_call)
        live = near.Subscribe(pb.SubscribeRequest())
        await read(live)
        await wait_until(lambda: len(served.server.calls) == 2, 10, what="both subscribed")
        hole.cut()
        await wait_until(lambda: len(served.server.calls) == 1, 20, what="the cut call ended")
        await wait_until(lambda: len(connections) == 1, 10, what="its slot given back")
        sent = await append_n(h.redis, h.keys, 5)
        assert [e.offset for e in await events(live, 5)] == sent  # the other one goes on
        live.cancel()
        cut_call.cancel()
