"""X write commands over ``/ws``: ``commands:{type}:v1:requested`` → ``started`` →
``success`` | ``error`` on the socket that receives the events, beside subscriptions."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from herald.commands.base import COMMAND_TYPES
from tests.delivery.delivery_helpers import append, tweet
from tests.entrypoints.support import REFUSED_KINDS, CommandServer

pytestmark = pytest.mark.timeout(60)

HEARTBEAT = "events:stream:v1:heartbeat"


def request(kind: str, marker: str = "55", **extra: Any) -> str:
    data = {"text": f"hi {marker}"} if kind == "post_tweet" else {"tweet_id": marker}
    return orjson.dumps({"type": f"commands:{kind}:v1:requested", "data": data, **extra}).decode()


async def recv(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    while True:
        msg: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
        if msg["type"] != HEARTBEAT:
            return msg


async def still_serves_events(server: CommandServer, ws: ClientConnection, sub: str) -> None:
    """The connection survived: a subscription starts and an event arrives on it."""
    await ws.send(orjson.dumps({"type": "events:stream:v1:requested", "id": sub}).decode())
    assert (await recv(ws))["type"] == "events:stream:v1:started"
    await append(server.herald.redis, server.herald.keys, [tweet(7, "s1")])
    msg = await recv(ws)
    assert msg["type"] == "events:stream:v1:stream" and msg["payload"]["tweet"]["id"] == "7"


async def test_every_type_runs_its_lifecycle(server: CommandServer) -> None:
    async with websockets.connect(server.ws_url("writer")) as ws:
        for kind in COMMAND_TYPES:
            await ws.send(request(kind, id="m1", commandId=f"ws-{kind}"))
            started = await recv(ws)
            assert started["type"] == f"commands:{kind}:v1:started"
            assert started["id"] == "m1" and started["commandId"] == f"ws-{kind}"
            assert started["payload"]["state"] in ("requested", "running")
            done = await recv(ws)
            assert done["type"] == f"commands:{kind}:v1:success"
            assert done["payload"]["state"] == "succeeded" and done["payload"]["result"]["tweetId"]
            assert done["payload"] == await server.commands.get(f"ws-{kind}")
            assert server.commands.executions[f"ws-{kind}"] == 1


async def test_generated_id_failed_and_uncertain(server: CommandServer) -> None:
    async with websockets.connect(server.ws_url()) as ws:
        await ws.send(request("like_tweet"))
        started = await recv(ws)
        assert "id" not in started and started["commandId"] == started["payload"]["id"]
        assert (await recv(ws))["commandId"] == started["commandId"]
        for marker, state in (("fail-2", "failed"), ("uncertain-3", "uncertain")):
            await ws.send(request("retweet", marker))
            assert (await recv(ws))["type"] == "commands:retweet:v1:started"
            error = await recv(ws)
            assert error["type"] == "commands:retweet:v1:error"
            assert error["payload"]["state"] == state and error["payload"]["error"]["code"]


async def test_commands_run_beside_subscriptions_and_each_other(server: CommandServer) -> None:
    server.commands.gate.clear()
    async with websockets.connect(server.ws_url()) as ws:
        await ws.send(request("post_tweet", id="held", commandId="held-1"))
        assert (await recv(ws))["type"] == "commands:post_tweet:v1:started"
        # The held command blocks neither the socket's events nor a second command's start.
        await still_serves_events(server, ws, "sub-1")
        await ws.send(request("like_tweet", id="second", commandId="held-2"))
        assert (await recv(ws))["id"] == "second"
        server.commands.gate.set()
        finished = {(m := await recv(ws))["id"]: m["type"] for _ in range(2)}
        assert finished == {
            "held": "commands:post_tweet:v1:success",
            "second": "commands:like_tweet:v1:success",
        }


async def test_refusals_come_as_error_without_started(server: CommandServer) -> None:
    server.commands.writes = False
    async with websockets.connect(server.ws_url()) as ws:
        await ws.send(request("post_tweet", id="w", commandId="off-1"))
        error = await recv(ws)
        assert error["type"] == "commands:post_tweet:v1:error" and error["id"] == "w"
        assert error["commandId"] == "off-1"
        assert error["payload"]["error"] == "writes_disabled"
        server.commands.writes = True
        server.commands.retry_after = 3.0
        await ws.send(request("post_tweet"))
        limited = await recv(ws)
        assert limited["payload"] == {
            "error": "write_rate_limited",
            "detail": "the account's write budget is spent",
            "retryAfter": 3.0,
        }
    assert not server.commands.records


MALFORMED: list[tuple[str, str, str]] = [
    ("{nope", "events:stream:v1:error", "invalid_json"),
    ('["a"]', "events:stream:v1:error", "invalid_message"),
    ('{"type": "commands:post_tweet:v2:requested"}', "events:stream:v1:error", "unknown_type"),
    (
        '{"type": "commands:fly:v1:requested", "data": {}}',
        "commands:fly:v1:error",
        "validation_error",
    ),
    (
        '{"type": "commands:like_tweet:v1:requested"}',
        "commands:like_tweet:v1:error",
        "validation_error",
    ),
    (
        '{"type": "commands:like_tweet:v1:requested", "data": "1"}',
        "commands:like_tweet:v1:error",
        "validation_error",
    ),
    (
        '{"type": "commands:like_tweet:v1:requested", "data": {}, "payload": {}}',
        "commands:like_tweet:v1:error",
        "validation_error",
    ),
    (
        '{"type": "commands:like_tweet:v1:requested", "data": {"tweet_id": "1"}, "id": []}',
        "commands:like_tweet:v1:error",
        "invalid_id",
    ),
    (
        '{"type": "commands:like_tweet:v1:requested", "data": {"tweet_id": "1"}, '
        '"commandId": "a/b"}',
        "commands:like_tweet:v1:error",
        "validation_error",
    ),
]


async def test_malformed_messages_get_a_clear_error_and_the_connection_lives(
    server: CommandServer,
) -> None:
    async with websockets.connect(server.ws_url()) as ws:
        for raw, expected_type, error in MALFORMED:
            await ws.send(raw)
            answer = await recv(ws)
            assert answer["type"] == expected_type, (raw, answer)
            assert answer["payload"]["error"] == error and answer["payload"]["detail"], raw
        await still_serves_events(server, ws, "after")
    assert not server.commands.records


async def test_tokens_that_may_not_write_are_refused(server: CommandServer) -> None:
    for kind in REFUSED_KINDS:
        async with websockets.connect(server.ws_url(kind)) as ws:
            await ws.send(request("delete_tweet", id="d"))
            answer = await recv(ws)
            assert answer["type"] == "commands:delete_tweet:v1:error", kind
            assert answer["payload"]["error"] == "forbidden", kind
    assert not server.commands.records


async def test_no_token_is_refused_at_the_door(server: CommandServer) -> None:
    async with websockets.connect(server.ws_url(None)) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.send(request("delete_tweet"))
            await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert not server.commands.records


async def test_a_client_that_leaves_mid_command_does_not_cancel_it(server: CommandServer) -> None:
    server.commands.gate.clear()
    async with websockets.connect(server.ws_url()) as ws:
        await ws.send(request("post_tweet", commandId="left-1"))
        assert (await recv(ws))["type"] == "commands:post_tweet:v1:started"
    server.commands.gate.set()
    async with websockets.connect(server.ws_url()) as ws:
        await ws.send(request("post_tweet", commandId="left-1"))
        assert (await recv(ws))["payload"]["id"] == "left-1"
        done = await recv(ws)
        assert done["type"] == "commands:post_tweet:v1:success"
    assert server.commands.executions["left-1"] == 1


async def test_a_malformed_command_id_is_not_echoed(server: CommandServer) -> None:
    async with websockets.connect(server.ws_url()) as ws:
        await ws.send(request("like_tweet", commandId="<" + "x" * 500 + ">"))
        answer = await recv(ws)
    assert answer["payload"]["error"] == "validation_error" and "commandId" not in answer
    assert "xxxx" not in orjson.dumps(answer).decode()


def test_outcome_watchers_resolve_on_the_outcome_event_only() -> None:
    from herald.delivery.outcomes import CommandOutcomes
    from herald.store.logentry import Entry

    def logged(n: int, kind: str, correlation: str) -> Entry:
        body = orjson.dumps({"type": kind, "correlationId": correlation, "command": {}})
        return Entry.from_fields(f"{n}-0", {b"t": kind.encode(), b"s": b"commands", b"e": body})

    async def scenario() -> None:
        outcomes = CommandOutcomes()
        with outcomes.watch("c1") as first, outcomes.watch("c2") as second:
            outcomes.dispatch([logged(1, "command:requested", "c1"), logged(2, "stream:x", "c1")])
            assert not first.done()
            outcomes.dispatch([logged(3, "command:uncertain", "c1")])
            assert first.done() and not second.done()
        assert outcomes._waiting == {}
        outcomes.dispatch([logged(4, "command:succeeded", "c2")])  # nobody waits: no error

    asyncio.run(scenario())
