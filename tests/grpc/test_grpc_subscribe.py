"""Subscribe with a real grpcio client: live order, resume, the gap rule, bad requests, the
clean end on shutdown."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_helpers import GrpcHerald, body, ending, events, read, status_of

from herald.grpc.v1 import herald_pb2 as pb
from tests.delivery.delivery_helpers import append, append_n, tweet
from tests.waiting import wait_until


async def test_live_events_arrive_in_order_each_once(served: GrpcHerald) -> None:
    h = served.herald
    async with served.stub() as stub:
        call = stub.Subscribe(pb.SubscribeRequest())
        started = await read(call)
        assert started.WhichOneof("kind") == "started" and started.started.recovered
        offsets = await append_n(h.redis, h.keys, 50)
        got = await events(call, 50)
        assert [e.offset for e in got] == offsets
        assert [body(e)["offset"] for e in got] == offsets  # json is the event body itself
        assert len({body(e)["eventId"] for e in got}) == 50
        assert not any(e.overtook for e in got)
        # Nothing more: the next reply is a heartbeat, not a repeat.
        reply = await asyncio.wait_for(call.read(), 5)
        assert reply.WhichOneof("kind") == "heartbeat"
        assert reply.heartbeat.offset == offsets[-1]
        call.cancel()


async def test_json_is_the_exact_log_body(served: GrpcHerald) -> None:
    h = served.herald
    async with served.stub() as stub:
        call = stub.Subscribe(pb.SubscribeRequest())
        await read(call)
        [offset] = await append_n(h.redis, h.keys, 1)
        [event] = await events(call, 1)
        [entry] = await h.delivery.log.after(None, 10) if h.delivery else []
        assert event.offset == offset == entry.offset
        assert event.json == entry.data
        call.cancel()


async def test_filters_select_streams_and_types(served: GrpcHerald) -> None:
    h = served.herald
    async with served.stub() as stub:
        request = pb.SubscribeRequest(
            stream_ids=["s2"], types=["tweet:new"], filters='{"keywords": ["rust"]}'
        )
        call = stub.Subscribe(request)
        await read(call)
        await append(
            h.redis,
            h.keys,
            [
                tweet(1, "s1", text="rust in s1"),
                tweet(2, "s2", text="go in s2"),
                tweet(3, "s2", text="rust in s2"),
            ],
        )
        [event] = await events(call, 1)
        assert body(event)["tweet"]["id"] == "3"
        call.cancel()


async def test_resume_from_an_offset_sends_exactly_the_missed_events(served: GrpcHerald) -> None:
    h = served.herald
    offsets = await append_n(h.redis, h.keys, 30)
    async with served.stub() as stub:
        call = stub.Subscribe(pb.SubscribeRequest(since=offsets[9]))
        started = await read(call)
        assert started.started.recovered is True
        got = await events(call, 20)
        assert [e.offset for e in got] == offsets[10:]
        # Live delivery follows the replay with no duplicate at the seam.
        more = await append_n(h.redis, h.keys, 5, start=100)
        assert [e.offset for e in await events(call, 5)] == more
        reply = await asyncio.wait_for(call.read(), 5)
        assert reply.WhichOneof("kind") == "heartbeat"
        call.cancel()


async def test_offset_trimmed_off_the_log_gives_recovered_false_and_a_gap(
    served: GrpcHerald,
) -> None:
    h = served.herald
    old = await append_n(h.redis, h.keys, 10)
    await h.redis.xtrim(h.keys.events, maxlen=3, approximate=False)
    async with served.stub() as stub:
        call = stub.Subscribe(pb.SubscribeRequest(since=old[2]))
        started = await read(call)
        assert started.started.recovered is False
        assert started.started.offset == old[7]
        gap = await read(call)
        assert gap.WhichOneof("kind") == "gap"
        assert (gap.gap.since, gap.gap.oldest, gap.gap.reason) == (old[2], old[7], "trimmed")
        # What the log still holds follows, from its oldest entry.
        assert [e.offset for e in await events(call, 3)] == old[7:]
        call.cancel()


async def test_bad_requests_are_invalid_argument_with_the_shared_wording(
    served: GrpcHerald,
) -> None:
    cases = [
        (pb.SubscribeRequest(types=["tweet:nope"]), "types: unknown event type 'tweet:nope'"),
        (pb.SubscribeRequest(filters='{"colour": "red"}'), "colour"),
        (pb.SubscribeRequest(filters="{not json"), "filters: not JSON"),
        (pb.SubscribeRequest(since="yesterday"), "since"),
    ]
    async with served.stub() as stub:
        for request, words in cases:
            replies, error = await ending(stub.Subscribe(request))
            assert error is not None, request
            # The lifecycle's last reply says the same as the status.
            [last] = replies
            assert last.WhichOneof("kind") == "error"
            assert last.error.error == "validation_error" and last.error.detail == error.details()
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert words in (error.details() or ""), (words, error.details())
            assert ("herald-error", "validation_error") in tuple(error.trailing_metadata() or ())
    assert not served.server.calls


async def test_shutdown_ends_every_subscription_cleanly(served: GrpcHerald) -> None:
    h = served.herald
    async with served.stub() as stub:
        calls = [stub.Subscribe(pb.SubscribeRequest()) for _ in range(3)]
        for call in calls:
            await read(call)
        offsets = await append_n(h.redis, h.keys, 4)
        for call in calls:
            await events(call, 4)
        assert h.delivery is not None and h.delivery.connected_clients()["grpc"] == 3
        await served.server.close_clients()
        for call in calls:
            reply = await read(call)
            assert reply.WhichOneof("kind") == "success"
            assert reply.success.reason == "server_shutdown"
            assert reply.success.offset == offsets[-1]
            assert await status_of(call) is None  # and then an OK status
            assert await call.code() == grpc.StatusCode.OK
    assert not served.server.calls
    assert len(h.delivery.ctx.connections) == 0 if h.delivery else True
    # A subscription that arrives while the server stops is refused, not left hanging.
    async with served.stub() as stub:
        error = await status_of(stub.Subscribe(pb.SubscribeRequest()))
        assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE
        assert "shutting down" in (error.details() or "")


async def test_max_batch_groups_waiting_events_in_order(served: GrpcHerald) -> None:
    h = served.herald
    async with served.stub() as stub:
        call = stub.Subscribe(pb.SubscribeRequest(max_batch=10))
        await read(call)
        sent: list[str] = []
        sizes: list[int] = []
        got: list[pb.Event] = []
        for burst in range(5):
            sent += await append_n(h.redis, h.keys, 60, start=burst * 60)
            while len(got) < len(sent):
                reply = await read(call)
                kind = reply.WhichOneof("kind")
                batch = [reply.event] if kind == "event" else list(reply.events.events)
                assert kind in ("event", "events") and batch, reply
                sizes.append(len(batch))
                got += batch
        assert [e.offset for e in got] == sent
        assert [body(e)["offset"] for e in got] == sent
        assert max(sizes) <= 10 and len(sizes) < len(sent)  # batched, never above the cap
        call.cancel()
        # A batched resume: exactly the missed events, in order, then live ones.
        again = stub.Subscribe(pb.SubscribeRequest(since=sent[99], max_batch=10))
        assert (await read(again)).started.recovered is True
        later = await append_n(h.redis, h.keys, 5, start=1000)
        resumed: list[str] = []
        while len(resumed) < len(sent) - 100 + 5:
            reply = await read(again)
            batch = [reply.event] if reply.WhichOneof("kind") == "event" else reply.events.events
            assert 0 < len(batch) <= 10
            resumed += [e.offset for e in batch]
        assert resumed == sent[100:] + later
        again.cancel()
        error = await status_of(stub.Subscribe(pb.SubscribeRequest(max_batch=1001)))
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "max_batch: at most 1000" in (error.details() or "")


async def test_subscribe_bursts_and_connection_caps_are_refused_with_a_reason(
    served: GrpcHerald,
) -> None:
    async with served.stub() as stub:
        calls = [stub.Subscribe(pb.SubscribeRequest()) for _ in range(25)]
        outcomes = []
        for call in calls:
            reply = await asyncio.wait_for(call.read(), 10)
            if reply.WhichOneof("kind") == "started":
                outcomes.append(None)
            else:
                assert reply.WhichOneof("kind") == "error", reply
                assert reply.error.error == "rate_limited"
                outcomes.append(await status_of(call))
        refused = [e for e in outcomes if e is not None]
        assert refused, "a burst of 25 subscribe requests on one connection was not limited"
        for error in refused:
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "too many subscribe requests; retry in" in (error.details() or "")
        for call in calls:
            call.cancel()


@pytest.mark.server_settings(max_connections=2)
async def test_a_full_node_refuses_with_unavailable(served: GrpcHerald) -> None:
    async with served.stub() as stub:
        held = [stub.Subscribe(pb.SubscribeRequest()) for _ in range(2)]
        for call in held:
            await read(call)
        error = await status_of(stub.Subscribe(pb.SubscribeRequest()))
        assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE
        assert "HERALD_MAX_CONNECTIONS" in (error.details() or "")
        held[0].cancel()
        await wait_until(lambda: len(served.server.calls) == 1, 5, what="the slot given back")
        again = stub.Subscribe(pb.SubscribeRequest())
        assert (await read(again)).WhichOneof("kind") == "started"
        for call in (held[1], again):
            call.cancel()
