"""The bare grpcio peer: what a Python gRPC server costs to stream the same replies.

Run as ``python -m bench.grpcpeer PORT EVENT_JSON_FILE MAX_BATCH``. It serves
``/herald.v1.Herald/Subscribe`` (the ``started`` reply, then whatever is broadcast) and
``/bench.Peer/Burst`` (a unary call whose request is N as ASCII digits): each burst puts N
``event`` replies — the same body as herald's, serialized once — on every subscriber's
queue, grouped ``MAX_BATCH`` to a reply when above 1. No filters, no log, no auth, no
resume, no backlog bound: only grpcio's own cost per message.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
from grpc import aio

from herald.grpc.subscribe import _batch
from herald.grpc.v1 import herald_pb2 as pb


async def main(port: int, body: bytes, max_batch: int) -> None:
    reply = pb.SubscribeReply(event=pb.Event(offset="1700000000000-0", json=body))
    event = reply.SerializeToString()
    started = pb.SubscribeReply(started=pb.Started(recovered=True)).SerializeToString()
    queues: set[asyncio.Queue[bytes]] = set()

    async def subscribe(request: bytes, context: Any) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        queues.add(queue)
        try:
            yield started
            while True:
                yield await queue.get()
        finally:
            queues.discard(queue)

    async def burst(request: bytes, context: Any) -> bytes:
        n = int(request.decode())
        if max_batch > 1:
            replies = []
            while n > 0:
                replies.append(_batch([(event, "", 1)] * min(n, max_batch))[0])
                n -= max_batch
        else:
            replies = [event] * n
        for queue in queues:
            for item in replies:
                queue.put_nowait(item)
        return b"ok"

    def same(b: bytes) -> bytes:
        return b

    server = aio.server()
    handlers = {
        "Subscribe": grpc.unary_stream_rpc_method_handler(
            subscribe, request_deserializer=same, response_serializer=same
        )
    }
    control = {
        "Burst": grpc.unary_unary_rpc_method_handler(
            burst, request_deserializer=same, response_serializer=same
        )
    }
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler("herald.v1.Herald", handlers),
            grpc.method_handlers_generic_handler("bench.Peer", control),
        )
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print(json.dumps({"ready": True}), flush=True)
    await server.wait_for_termination()


async def trigger(target: str, n: int) -> None:
    """Ask the peer at ``target`` for a burst of ``n`` events."""
    async with aio.insecure_channel(target) as channel:
        call = channel.unary_unary("/bench.Peer/Burst")
        await call(str(n).encode())


def run() -> None:
    port, path, max_batch = int(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    coro = main(port, path.read_bytes(), max_batch)
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


if __name__ == "__main__":
    run()
