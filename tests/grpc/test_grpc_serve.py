"""``herald serve`` with ``HERALD_GRPC_PORT``: gRPC beside HTTP, and a clean end on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from grpc import aio
from grpc_helpers import events, read, status_of

from herald.grpc.v1 import herald_pb2 as pb
from herald.grpc.v1 import herald_pb2_grpc as rpc
from herald.store.keys import Keys
from tests.delivery.delivery_helpers import append_n
from tests.delivery.served import serve_subprocess
from tests.servers import free_port


async def test_serve_runs_grpc_and_ends_subscriptions_on_sigterm(
    tmp_path: Path, external_redis: aioredis.Redis, key_prefix: str
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    async with serve_subprocess(key_prefix, log, HERALD_GRPC_PORT=str(port)) as served:
        assert f"gRPC on 127.0.0.1:{port}" in served.stderr()
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = rpc.HeraldStub(channel)
            listed = await stub.ListStreams(pb.ListStreamsRequest())
            assert listed.count == 0
            call = stub.Subscribe(pb.SubscribeRequest())
            await read(call)
            offsets = await append_n(external_redis, Keys(key_prefix), 5)
            assert [e.offset for e in await events(call, 5)] == offsets
            served.proc.send_signal(signal.SIGTERM)
            reply = await read(call)
            assert reply.WhichOneof("kind") == "success"
            assert (reply.success.reason, reply.success.offset) == ("server_shutdown", offsets[-1])
            assert await status_of(call) is None
            assert await asyncio.to_thread(served.proc.wait, 20) == 0
    assert "Traceback" not in log.read_text()


async def test_a_taken_grpc_port_fails_at_start(
    tmp_path: Path, external_redis: aioredis.Redis, key_prefix: str
) -> None:
    server = aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        log = tmp_path / "serve.log"
        with pytest.raises(AssertionError, match="herald serve exited"):
            async with serve_subprocess(key_prefix, log, HERALD_GRPC_PORT=str(port)):
                pass
        text = log.read_text()
        assert f"cannot listen for gRPC on 127.0.0.1:{port}" in text, text
    finally:
        await server.stop(None)
