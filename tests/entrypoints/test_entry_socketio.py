"""X write commands over Socket.IO: ``emit("command", {...})`` answered through the ack,
with the python client and the npm ``socket.io-client``."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import socketio

from herald.commands.base import COMMAND_TYPES
from tests.conftest import need
from tests.delivery.delivery_helpers import append, tweet
from tests.entrypoints.support import REFUSED_KINDS, CommandServer, token
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(60)
NODE_DIR = Path(__file__).resolve().parents[1] / "node"


def command(kind: str, marker: str = "77", **extra: Any) -> dict[str, Any]:
    data = {"text": f"hey {marker}"} if kind == "post_tweet" else {"tweet_id": marker}
    return {"type": kind, "data": data, **extra}


@asynccontextmanager
async def connected(
    server: CommandServer, kind: str = "admin-key"
) -> AsyncIterator[tuple[socketio.AsyncClient, list[dict[str, Any]]]]:
    client = socketio.AsyncClient(reconnection=False)
    got: list[dict[str, Any]] = []
    client.on("stream:tweet:new", got.append)
    await client.connect(server.url, transports=["websocket"], auth={"token": token(kind)})
    try:
        yield client, got
    finally:
        await client.disconnect()


async def test_every_type_is_acked_with_its_outcome(server: CommandServer) -> None:
    async with connected(server, "writer") as (client, _):
        for kind in COMMAND_TYPES:
            sent = command(kind, commandId=f"sio-{kind}")
            ack = await client.call("command", sent, timeout=10)
            assert ack["id"] == f"sio-{kind}" and ack["state"] == "succeeded"
            assert ack["result"]["tweetId"] and ack == await server.commands.get(f"sio-{kind}")


async def test_outcomes_refusals_and_events_keep_flowing(server: CommandServer) -> None:
    async with connected(server) as (client, got):
        failed = await client.call("command", command("like_tweet", "fail-9"), timeout=10)
        assert failed["state"] == "failed" and failed["error"]["code"] == "x_error"
        unsure = await client.call("command", command("post_tweet", "uncertain"), timeout=10)
        assert unsure["state"] == "uncertain"
        server.commands.writes = False
        off = await client.call("command", command("post_tweet"), timeout=10)
        assert off["error"] == "writes_disabled" and "state" not in off
        server.commands.writes = True
        for bad in (None, "text", ["a"], {"type": "fly", "data": {}}, {"type": "retweet"}):
            answer = await client.call("command", bad, timeout=10)
            assert answer["error"] == "validation_error" and answer["detail"], bad
        # The seed's compat delivery is untouched by all of it.
        await append(server.herald.redis, server.herald.keys, [tweet(11, "s1")])
        await wait_until(lambda: len(got) == 1, what="the event after the commands")
        assert got[0]["tweet"]["id"] == "11"
    assert len(server.commands.records) == 2


async def test_tokens_that_may_not_write_are_refused(server: CommandServer) -> None:
    for kind in REFUSED_KINDS:
        async with connected(server, kind) as (client, _):
            answer = await client.call("command", command("unretweet"), timeout=10)
        assert answer["error"] == "forbidden", kind
    assert not server.commands.records


async def test_same_command_id_over_rest_ws_and_socketio_is_one_execution(
    server: CommandServer,
) -> None:
    import websockets

    sent = command("post_tweet", commandId="everywhere-1")
    async with connected(server) as (client, _):
        over_sio = await client.call("command", sent, timeout=10)
    over_rest = (await server.client.post("/api/commands", json=sent)).json()
    async with websockets.connect(server.ws_url()) as ws:
        await ws.send(orjson.dumps({**sent, "type": "commands:post_tweet:v1:requested"}).decode())
        frames = [orjson.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(2)]
    assert [f["type"] for f in frames] == [
        "commands:post_tweet:v1:started",
        "commands:post_tweet:v1:success",
    ]
    assert over_sio == over_rest == frames[1]["payload"]
    assert server.commands.executions["everywhere-1"] == 1


@pytest.mark.node
async def test_npm_socketio_client_sends_a_command_with_ack(server: CommandServer) -> None:
    node = shutil.which("node")
    need(node is not None, "node not installed")
    need(
        (NODE_DIR / "node_modules" / "socket.io-client").is_dir(),
        "tests/node/node_modules missing (run `make node-deps`)",
    )
    assert node is not None
    for kind, expected in (("writer", "succeeded"), ("restricted", "forbidden")):
        proc = await asyncio.create_subprocess_exec(
            node,
            str(NODE_DIR / "command_client.mjs"),
            server.url,
            token(kind),
            orjson.dumps(command("like_tweet", commandId=f"node-{kind}")).decode(),
            stdout=asyncio.subprocess.PIPE,
            cwd=NODE_DIR,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, out
        ack = orjson.loads(out.splitlines()[-1])["ack"]
        assert ack.get("state", ack.get("error")) == expected, ack
    assert list(server.commands.executions) == ["node-writer"]


async def test_a_client_that_leaves_mid_command_does_not_cancel_it(server: CommandServer) -> None:
    server.commands.gate.clear()
    async with connected(server) as (client, _):
        await client.emit("command", command("post_tweet", commandId="gone-1"), callback=print)
        await wait_until(lambda: "gone-1" in server.commands.records, what="the command ran")
    server.commands.gate.set()
    await wait_until(
        lambda: server.commands.records["gone-1"]["state"] == "succeeded", what="it finished"
    )
    async with connected(server) as (client, _):
        again = await client.call("command", command("post_tweet", commandId="gone-1"), timeout=10)
        fresh = await client.call("command", command("like_tweet", commandId="after"), timeout=10)
    assert again["state"] == fresh["state"] == "succeeded"
    assert server.commands.executions["gone-1"] == 1


async def test_socket_commands_share_one_budget_per_caller(server: CommandServer) -> None:
    import websockets

    from herald.ratelimit import TokenBucket

    assert server.herald.delivery is not None
    server.herald.delivery.ctx.command_limiter = TokenBucket(0.01, 1)
    async with connected(server, "writer") as (client, _):
        first = await client.call("command", command("retweet", commandId="budget-1"), timeout=10)
        assert first["state"] == "succeeded"
        async with websockets.connect(server.ws_url("writer")) as ws:
            await ws.send(
                orjson.dumps({**command("retweet"), "type": "commands:retweet:v1:requested"})
            )
            refused = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert refused["type"] == "commands:retweet:v1:error"
        assert (
            refused["payload"]["error"] == "rate_limited" and refused["payload"]["retryAfter"] > 0
        )
        again = await client.call("command", command("retweet"), timeout=10)
        assert again["error"] == "rate_limited"
    # Another caller has a budget of its own.
    async with connected(server, "admin-key") as (client, _):
        other = await client.call("command", command("retweet", commandId="budget-2"), timeout=10)
    assert other["state"] == "succeeded"
    assert set(server.commands.records) == {"budget-1", "budget-2"}
