"""Auth from metadata and the management RPCs, with the same claims as REST."""

from __future__ import annotations

import grpc
import orjson
import pytest
from grpc_helpers import API_KEY, SECRET, GrpcHerald, bearer, body, events, read, status_of, token

from herald.grpc.v1 import herald_pb2 as pb
from tests.delivery.delivery_helpers import append, tweet

AUTH = pytest.mark.server_settings(api_keys=[API_KEY], jwt_secret=SECRET)
KEY = (("x-api-key", API_KEY),)


@AUTH
async def test_no_token_or_a_wrong_one_is_unauthenticated(served: GrpcHerald) -> None:
    async with served.stub() as stub:
        for metadata in ((), bearer("wrong"), (("x-api-key", "nope"),), bearer(token()[:-3])):
            error = await status_of(stub.Subscribe(pb.SubscribeRequest(), metadata=metadata))
            assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
            assert error.details()
            with pytest.raises(grpc.aio.AioRpcError) as unary:
                await stub.ListStreams(pb.ListStreamsRequest(), metadata=metadata)
            assert unary.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # Neither the key nor the secret is ever echoed.
        error = await status_of(stub.Subscribe(pb.SubscribeRequest(), metadata=bearer("wrong")))
        assert error is not None and API_KEY not in (error.details() or "")
    assert not served.server.calls


@AUTH
async def test_api_key_manages_streams_through_every_rpc(served: GrpcHerald) -> None:
    async with served.stub() as stub:
        started = await stub.StartStream(
            pb.StartStreamRequest(type="tweet", target="alice", interval=60), metadata=KEY
        )
        assert (started.type, started.target, started.status) == ("tweet", "alice", "active")
        sid = started.id
        assert orjson.loads(started.json)["id"] == sid
        listed = await stub.ListStreams(pb.ListStreamsRequest(), metadata=KEY)
        assert [s.id for s in listed.streams] == [sid] and listed.count == 1
        paused = await stub.PauseStream(pb.StreamRef(stream_id=sid), metadata=KEY)
        assert paused.status == "paused"
        assert (await stub.GetStream(pb.StreamRef(stream_id=sid), metadata=KEY)).status == "paused"
        resumed = await stub.ResumeStream(pb.StreamRef(stream_id=sid), metadata=KEY)
        assert resumed.status == "active"
        stopped = await stub.StopStream(pb.StreamRef(stream_id=sid), metadata=bearer(API_KEY))
        assert (stopped.success, stopped.stream_id) == (True, sid)
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetStream(pb.StreamRef(stream_id=sid), metadata=KEY)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await stub.StartStream(pb.StartStreamRequest(type="nope", target="x"), metadata=KEY)
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "type" in (bad.value.details() or "")


@AUTH
async def test_restricted_jwt_sees_only_its_streams(served: GrpcHerald) -> None:
    h = served.herald
    async with served.stub() as stub:
        mine = await stub.StartStream(pb.StartStreamRequest(type="tweet", target="a"), metadata=KEY)
        other = await stub.StartStream(
            pb.StartStreamRequest(type="tweet", target="b"), metadata=KEY
        )
        limited = bearer(token(streams=[mine.id]))
        # Management: its own stream only, and nothing beyond single streams.
        listed = await stub.ListStreams(pb.ListStreamsRequest(), metadata=limited)
        assert [s.id for s in listed.streams] == [mine.id]
        assert (await stub.GetStream(pb.StreamRef(stream_id=mine.id), metadata=limited)).id
        denied = [
            stub.StartStream(pb.StartStreamRequest(type="tweet", target="c"), metadata=limited),
            stub.GetStream(pb.StreamRef(stream_id=other.id), metadata=limited),
            stub.PauseStream(pb.StreamRef(stream_id=other.id), metadata=limited),
            stub.StopStream(pb.StreamRef(stream_id=other.id), metadata=limited),
        ]
        for pending in denied:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await pending
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        status = await stub.GetStream(pb.StreamRef(stream_id=other.id), metadata=KEY)
        assert status.status == "active"  # the refused pause and stop did nothing
        # Subscribe: asking for another stream is refused; asking for all narrows to its own.
        error = await status_of(
            stub.Subscribe(pb.SubscribeRequest(stream_ids=[other.id]), metadata=limited)
        )
        assert error is not None and error.code() == grpc.StatusCode.PERMISSION_DENIED
        call = stub.Subscribe(pb.SubscribeRequest(), metadata=limited)
        await read(call)
        await append(h.redis, h.keys, [tweet(1, other.id), tweet(2, mine.id), tweet(3, other.id)])
        [event] = await events(call, 1)
        assert body(event)["streamId"] == mine.id
        call.cancel()


READ_KEY = "grpc-read-only-key-0123456789abcdef"


@pytest.mark.server_settings(api_keys=[API_KEY], read_api_keys=[READ_KEY], jwt_secret=SECRET)
async def test_a_read_only_token_reads_and_subscribes_and_acts_on_nothing(
    served: GrpcHerald,
) -> None:
    h = served.herald
    async with served.stub() as stub:
        sid = (
            await stub.StartStream(pb.StartStreamRequest(type="tweet", target="a"), metadata=KEY)
        ).id
        for reader in (bearer(READ_KEY), bearer(token(scope="read-only"))):
            assert [
                s.id
                for s in (await stub.ListStreams(pb.ListStreamsRequest(), metadata=reader)).streams
            ] == [sid]
            assert (
                await stub.GetStream(pb.StreamRef(stream_id=sid), metadata=reader)
            ).status == "active"
            acts = [
                stub.StartStream(pb.StartStreamRequest(type="tweet", target="c"), metadata=reader),
                stub.PauseStream(pb.StreamRef(stream_id=sid), metadata=reader),
                stub.ResumeStream(pb.StreamRef(stream_id=sid), metadata=reader),
                stub.StopStream(pb.StreamRef(stream_id=sid), metadata=reader),
            ]
            for pending in acts:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await pending
                assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert (await h.manager.status(sid))["status"] == "active"  # nothing changed
            call = stub.Subscribe(pb.SubscribeRequest(), metadata=reader)
            await read(call)
            sent = await append(h.redis, h.keys, [tweet(1, sid)])
            assert [e.offset for e in await events(call, 1)] == sent
            call.cancel()
