"""A started Herald with its gRPC server on a free loopback port, and client helpers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import jwt
import orjson
from grpc import aio

from herald.config import Settings
from herald.grpc import GrpcServer
from herald.grpc.v1 import herald_pb2 as pb
from herald.grpc.v1 import herald_pb2_grpc as rpc
from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.conftest import EXTERNAL_REDIS_URL

API_KEY = "grpc-test-key"
SECRET = "grpc-test-secret-0123456789abcdef0123456789"


def token(**claims: Any) -> str:
    body = {"sub": "reader", "exp": int(time.time()) + 600, **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


def bearer(value: str) -> Sequence[tuple[str, str]]:
    return (("authorization", f"Bearer {value}"),)


@dataclass
class GrpcHerald:
    herald: Herald
    server: GrpcServer
    source: MemorySource

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    @contextlib.asynccontextmanager
    async def stub(self, *options: tuple[str, Any]) -> AsyncIterator[rpc.HeraldStub]:
        # A private connection per stub (channels to one target would otherwise share one).
        opts = [("grpc.use_local_subchannel_pool", 1), *options]
        async with aio.insecure_channel(self.target, options=opts) as channel:
            yield rpc.HeraldStub(channel)


@contextlib.asynccontextmanager
async def running(prefix: str, **overrides: Any) -> AsyncIterator[GrpcHerald]:
    settings = Settings(
        redis_url=EXTERNAL_REDIS_URL,
        redis_prefix=prefix,
        heartbeat_interval=overrides.pop("heartbeat_interval", 0.5),
        **overrides,
    )
    source = MemorySource()
    async with Herald(settings, sources=[source], worker=False) as herald:
        server = GrpcServer(herald, "127.0.0.1", 0)
        await server.start()
        try:
            yield GrpcHerald(herald, server, source)
        finally:
            await server.stop()


async def read(call: Any, timeout: float = 10.0) -> pb.SubscribeReply:
    """The next reply that is not a heartbeat."""
    import asyncio

    while True:
        reply = await asyncio.wait_for(call.read(), timeout)
        if reply is aio.EOF:
            raise AssertionError("the stream ended")
        if reply.WhichOneof("kind") != "heartbeat":
            return reply  # type: ignore[no-any-return]


async def events(call: Any, n: int, timeout: float = 10.0) -> list[pb.Event]:
    out = []
    while len(out) < n:
        reply = await read(call, timeout)
        assert reply.WhichOneof("kind") == "event", reply
        out.append(reply.event)
    return out


def body(event: pb.Event) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(event.json)
    return parsed


async def status_of(call: Any, timeout: float = 10.0) -> grpc.aio.AioRpcError | None:
    """Read to the end: the error the call ended with (``None``: it ended with OK)."""
    return (await ending(call, timeout))[1]


async def ending(
    call: Any, timeout: float = 10.0
) -> tuple[list[pb.SubscribeReply], grpc.aio.AioRpcError | None]:
    """Read to the end: every reply, and the error the call ended with (``None``: OK)."""
    import asyncio

    replies = []
    try:
        while (reply := await asyncio.wait_for(call.read(), timeout)) is not aio.EOF:
            replies.append(reply)
    except aio.AioRpcError as exc:
        return replies, exc
    return replies, None
