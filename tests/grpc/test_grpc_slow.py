"""A subscriber that stops reading is cut with RESOURCE_EXHAUSTED and a reason, while the
others keep going; its resume offset lets it continue with nothing lost."""

from __future__ import annotations

import grpc
import pytest
from grpc_helpers import GrpcHerald, events, read

from herald.grpc.calls import RESUME_KEY
from herald.grpc.v1 import herald_pb2 as pb
from tests.delivery.delivery_helpers import append_n
from tests.waiting import wait_until

# No BDP probing: the stalled client's receive window stays at HTTP/2's default instead of
# growing to megabytes, so the server's writes wait (and its backlog fills) sooner.
SMALL_WINDOW = ("grpc.http2.bdp_probe", 0)
BURST = 40


@pytest.mark.parametrize("max_batch", [0, 32])
@pytest.mark.server_settings(client_queue=100)
async def test_stalled_subscriber_is_cut_and_the_others_keep_going(
    served: GrpcHerald, max_batch: int
) -> None:
    """Batched or not, the bound counts events."""
    h = served.herald
    connections = h.delivery.ctx.connections if h.delivery else None
    assert connections is not None
    async with served.stub(SMALL_WINDOW) as slow_stub, served.stub() as stub:
        slow = slow_stub.Subscribe(pb.SubscribeRequest(max_batch=max_batch))
        await read(slow)
        [stalled] = served.server.calls
        readers = [stub.Subscribe(pb.SubscribeRequest()) for _ in range(3)]
        for call in readers:
            await read(call)
        sent: list[str] = []
        # Bursts the readers keep up with; the stalled client reads nothing.
        for burst in range(200):
            sent += await append_n(h.redis, h.keys, BURST, start=burst * BURST)
            for call in readers:
                assert [e.offset for e in await events(call, BURST)] == sent[-BURST:]
            if stalled.ended is not None:
                break
        assert stalled.ended is not None, "the stalled client was never cut"
        # Cut: its slot is given back at once, the readers keep theirs and keep going.
        await wait_until(lambda: len(connections) == 3, 5, what="the slot given back")
        more = await append_n(h.redis, h.keys, BURST, start=10_000)
        for call in readers:
            assert [e.offset for e in await events(call, BURST)] == more
        # The stalled client reads at last: what it held, in order, then the reason.
        received: list[str] = []
        ends: list[pb.Error] = []
        error = None
        try:
            while (reply := await slow.read()) is not grpc.aio.EOF:
                if reply.WhichOneof("kind") == "event":
                    received.append(reply.event.offset)
                elif reply.WhichOneof("kind") == "events":
                    received += [e.offset for e in reply.events.events]
                elif reply.WhichOneof("kind") == "error":
                    ends.append(reply.error)
        except grpc.aio.AioRpcError as exc:
            error = exc
        assert error is not None and error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        details = error.details() or ""
        assert "slow_consumer" in details and "more than 100 events behind" in details
        trailing = dict(error.trailing_metadata() or ())
        assert received and received == sent[: len(received)]  # in order, none skipped
        assert trailing[RESUME_KEY] == received[-1]
        assert received[-1] in details
        [end] = ends  # the lifecycle's error reply comes last, with the same reason
        assert (end.error, end.detail, end.offset) == ("slow_consumer", details, received[-1])
        for call in readers:
            call.cancel()
        # Resuming from that offset gives everything after it, exactly once.
        again = slow_stub.Subscribe(pb.SubscribeRequest(since=trailing[RESUME_KEY]))
        started = await read(again)
        assert started.started.recovered is True
        rest = await events(again, len(sent) + BURST - len(received))
        assert received + [e.offset for e in rest] == sent + more
        again.cancel()
