"""A soak under uvloop (as ``herald serve`` runs): many subscribers, thousands of events,
none lost or repeated, every backlog bounded, everything released at the end."""

from __future__ import annotations

import asyncio
import resource

import uvloop
from grpc_helpers import events, read, running

from herald.grpc.v1 import herald_pb2 as pb
from tests.delivery.delivery_helpers import append_n
from tests.waiting import wait_until

SUBSCRIBERS = 20
ROUNDS = 40
PER_ROUND = 100
QUEUE = 500


async def _soak(prefix: str) -> dict[str, int]:
    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
    deepest = 0
    async with running(prefix, client_queue=QUEUE) as served:
        h = served.herald
        async with served.stub() as stub:
            calls = [stub.Subscribe(pb.SubscribeRequest()) for _ in range(SUBSCRIBERS)]
            for call in calls:
                await read(call)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            sent: list[str] = []
            received: list[list[str]] = [[] for _ in calls]

            async def drain(i: int, n: int) -> None:
                received[i] += [e.offset for e in await events(calls[i], n, timeout=30)]

            for r in range(ROUNDS):
                sent += await append_n(h.redis, h.keys, PER_ROUND, start=r * PER_ROUND)
                deepest = max([deepest, *(len(s.outbox) for s in served.server.calls)])
                await asyncio.gather(*(drain(i, PER_ROUND) for i in range(len(calls))))
            for got in received:
                assert got == sent  # every event, in order, once
            assert len(served.server.calls) == SUBSCRIBERS  # nobody was cut
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
            for call in calls:
                call.cancel()
        ctx = h.delivery.ctx if h.delivery else None
        assert ctx is not None
        await wait_until(  # the server notices the cancellations
            lambda: not served.server.calls and ctx.hub.group_count == 0,
            timeout=5,
            interval=0.01,
            what="the server dropping the cancelled calls",
        )
        assert not served.server.calls and ctx.hub.group_count == 0
        assert len(ctx.connections) == 0
        await h.redis.delete(h.keys.events)
    return {"deepest": deepest, "grown_kb": grown}


def test_soak_under_uvloop(key_prefix: str, external_redis: object) -> None:
    result = uvloop.run(_soak(key_prefix))
    assert result["deepest"] <= QUEUE
    # 80,000 deliveries must not grow the process by more than a few tens of megabytes.
    assert result["grown_kb"] < 64 * 1024, result
