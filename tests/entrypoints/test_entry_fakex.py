"""Every command type through every entry point against the real commands service and the
X stand-in: REST, ``/ws``, Socket.IO and MCP; one commandId across entry points is one
request to X; the uncertain path (a write applied whose answer never comes) is visible on
each and settles later without a second post."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
import redis.asyncio as aioredis
import socketio
import websockets
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.auth.auth_support import API_KEY
from tests.entrypoints.fakex_stack import Stack, fakex_stack
from tests.entrypoints.support import token
from tests.mcp.conftest import data
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
Send = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
OPERATIONS = {
    "post_tweet": "CreateTweet",
    "like_tweet": "FavoriteTweet",
    "unlike_tweet": "UnfavoriteTweet",
    "retweet": "CreateRetweet",
    "unretweet": "DeleteRetweet",
    "delete_tweet": "DeleteTweet",
}
MCP_ARGS = {"tweet_id": "tweetId", "reply_to_tweet_id": "replyToTweetId", "text": "text"}


@pytest.fixture
async def stack(
    external_redis: aioredis.Redis, key_prefix: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    async with fakex_stack(key_prefix, tmp_path) as running:
        yield running


async def senders(stack: Stack, kind: str = "writer") -> tuple[dict[str, Send], list[Any]]:
    """A way to send a command through each entry point, and what to close afterwards."""
    closers: list[Any] = []

    async def rest(body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token(kind)}"}
        answer = await stack.api.post("/api/commands", json=body, headers=headers)
        assert answer.status_code in (200, 400, 403, 409, 429), answer.text
        result: dict[str, Any] = answer.json()
        return result

    ws = await websockets.connect(stack.url.replace("http", "ws") + f"/ws?token={token(kind)}")
    closers.append(ws.close)

    async def over_ws(body: dict[str, Any]) -> dict[str, Any]:
        message = {**body, "type": f"commands:{body['type']}:v1:requested"}
        await ws.send(orjson.dumps(message).decode())
        while True:
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
            if msg["type"].endswith((":success", ":error")):
                payload: dict[str, Any] = msg["payload"]
                return payload

    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(stack.url, transports=["websocket"], auth={"token": token(kind)})
    closers.append(sio.disconnect)

    async def over_sio(body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await sio.call("command", body, timeout=30)
        return answer

    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {API_KEY}"})
    mcp = Client(streamable_http_client(f"{stack.url}/mcp", http_client=http))
    await mcp.__aenter__()
    closers += [lambda: mcp.__aexit__(None, None, None), http.aclose]

    async def over_mcp(body: dict[str, Any]) -> dict[str, Any]:
        args = {MCP_ARGS[k]: v for k, v in body["data"].items()}
        if "commandId" in body:
            args["commandId"] = body["commandId"]
        result = await mcp.call_tool(body["type"], args)
        answer: dict[str, Any] = data(result)
        return answer

    return {"REST": rest, "/ws": over_ws, "Socket.IO": over_sio, "MCP": over_mcp}, closers


async def close(closers: list[Any]) -> None:
    for closer in reversed(closers):
        await closer()


async def test_every_type_through_every_entry_point(stack: Stack) -> None:
    sends, closers = await senders(stack)
    try:
        for entry, send in sends.items():
            target = await stack.bob_tweet(f"a tweet for {entry} to act on")
            posted = await send({"type": "post_tweet", "data": {"text": f"posted over {entry}"}})
            assert posted["state"] == "succeeded", (entry, posted)
            own = posted["result"]["tweetId"]
            assert posted["result"]["text"] == f"posted over {entry}"
            steps = [
                ("like_tweet", target, {"liked": True}),
                ("unlike_tweet", target, {"liked": False}),
                ("retweet", target, {"retweeted": True}),
                ("unretweet", target, {"retweeted": False}),
                ("delete_tweet", own, {"deleted": True}),
            ]
            for kind, tweet, expected in steps:
                answer = await send({"type": kind, "data": {"tweet_id": tweet}})
                assert answer["state"] == "succeeded", (entry, kind, answer)
                assert answer["result"]["tweetId"] == tweet
                assert expected.items() <= answer["result"].items(), (entry, kind, answer)
                assert await stack.herald.commands.get(answer["id"]) == answer  # type: ignore[union-attr]
    finally:
        await close(closers)
    counts = await stack.requests()
    assert {op: counts.get(op, 0) for op in OPERATIONS.values()} == dict.fromkeys(
        OPERATIONS.values(), len(sends)
    )


async def test_one_command_id_through_every_entry_point_is_one_post(stack: Stack) -> None:
    sends, closers = await senders(stack)
    body = {"type": "post_tweet", "commandId": "everywhere", "data": {"text": "only once"}}
    try:
        answers = [await send(body) for send in sends.values()]
        # and all at once, racing one another
        raced = await asyncio.gather(*(send(body) for send in sends.values()))
    finally:
        await close(closers)
    assert answers[0]["state"] == "succeeded"
    assert all(answer == answers[0] for answer in [*answers, *raced])
    assert (await stack.requests())["CreateTweet"] == 1


async def test_uncertain_is_visible_everywhere_and_settles_without_a_second_post(
    stack: Stack,
) -> None:
    sends, closers = await senders(stack)
    await stack.fault(mode="timeout_after_commit", operation="CreateTweet", count=len(sends))
    try:
        answers = await asyncio.gather(
            *(
                send(
                    {
                        "type": "post_tweet",
                        "commandId": f"unsure-{i}",
                        "data": {"text": f"lost {i}"},
                    }
                )
                for i, send in enumerate(sends.values())
            )
        )
    finally:
        await close(closers)
    for entry, answer in zip(sends, answers, strict=True):
        assert answer["state"] == "uncertain", (entry, answer)
        assert answer["error"]["code"], answer
    assert (await stack.requests())["CreateTweet"] == len(sends)

    async def settled() -> bool:
        listed = (await stack.api.get("/api/commands")).json()["commands"]
        return all(c["state"] == "succeeded" for c in listed if c["id"].startswith("unsure-"))

    await wait_until(settled, 60, interval=0.2, what="the reconciler settling every post")
    for i in range(len(sends)):
        got = (await stack.api.get(f"/api/commands/unsure-{i}")).json()
        assert got["result"]["text"] == f"lost {i}"
    assert (await stack.requests())["CreateTweet"] == len(sends)  # found, never re-sent


@pytest.mark.parametrize("kind", ["restricted", "read-only"])
async def test_tokens_that_may_not_write_reach_nothing(stack: Stack, kind: str) -> None:
    sends, closers = await senders(stack, kind)
    try:
        for entry in ("REST", "/ws", "Socket.IO"):
            answer = await sends[entry]({"type": "like_tweet", "data": {"tweet_id": "1"}})
            assert answer["error"] == "forbidden", (entry, answer)
    finally:
        await close(closers)
    counts = await stack.requests()
    assert not any(counts.get(op) for op in OPERATIONS.values())
    assert (await stack.api.get("/api/commands")).json()["count"] == 0
