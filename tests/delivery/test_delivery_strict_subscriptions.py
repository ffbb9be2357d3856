"""One rule on every transport: an unknown event type or filter name is an error answer
naming the bad value and the known ones; the shorthand without ``stream:`` is accepted."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
import socketio
import websockets
from delivery_helpers import Server, append, tweet, wait_for

pytestmark = pytest.mark.timeout(30)

REQ = "events:stream:v1:requested"
BAD_TYPES = (["tweet:nope"], ["stream:nope"], ["stream:tweet:new", "nope"])


def check_type_error(detail: str, bad: str) -> None:
    assert repr(bad) in detail, detail
    assert "stream:tweet:new" in detail and "stream:follower:lost" in detail


def check_filter_error(detail: str) -> None:
    assert "filters.sentimentt is not a known filter" in detail, detail
    assert "keywords" in detail and "excludeRetweets" in detail


async def test_socketio_acks_an_error_and_accepts_the_shorthand(server: Server) -> None:
    client = socketio.AsyncClient(reconnection=False)
    got: list[dict[str, Any]] = []
    client.on("stream:tweet:new", got.append)
    await client.connect(server.url, transports=["websocket"])
    try:
        for types in BAD_TYPES:
            ack = await client.call("subscribe", {"types": types}, timeout=5)
            assert ack["error"] == "validation_error", ack
            check_type_error(ack["detail"], types[-1])
        ack = await client.call("subscribe", {"filters": {"sentimentt": "x"}}, timeout=5)
        check_filter_error(ack["detail"])
        ack = await client.call("subscribe", {"types": ["tweet:new"]}, timeout=5)
        assert ack["recovered"] is True
        offsets = await append(server.redis, server.keys, [tweet(1)])
        await wait_for(lambda: len(got) == 1)
        assert got[0]["offset"] == offsets[0]
    finally:
        await client.disconnect()


async def test_ws_answers_an_error_and_accepts_the_shorthand(server: Server) -> None:
    async with websockets.connect(server.ws_url) as ws:

        async def ask(sub_id: str, payload: dict[str, Any]) -> dict[str, Any]:
            await ws.send(orjson.dumps({"type": REQ, "id": sub_id, "payload": payload}).decode())
            while True:
                msg: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                if msg["type"] != "events:stream:v1:heartbeat":
                    return msg

        for n, types in enumerate(BAD_TYPES):
            msg = await ask(f"bad{n}", {"types": types})
            assert msg["type"] == "events:stream:v1:error" and msg["id"] == f"bad{n}", msg
            assert msg["payload"]["error"] == "validation_error"
            check_type_error(msg["payload"]["detail"], types[-1])
        msg = await ask("f", {"filters": {"sentimentt": "x"}})
        assert msg["type"] == "events:stream:v1:error"
        check_filter_error(msg["payload"]["detail"])
        started = await ask("ok", {"types": ["tweet:new"]})
        assert started["type"] == "events:stream:v1:started"
        offsets = await append(server.redis, server.keys, [tweet(1)])
        while True:
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            if msg["type"] == "events:stream:v1:stream":
                break
        assert msg["id"] == "ok" and msg["payload"]["offset"] == offsets[0]


async def test_sse_answers_400_and_accepts_the_shorthand(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for types in BAD_TYPES:
            answer = await http.get("/api/events", params={"types": ",".join(types)})
            assert answer.status_code == 400
            assert answer.json()["error"] == "validation_error"
            check_type_error(answer.json()["detail"], types[-1])
        filters = orjson.dumps({"sentimentt": "x"}).decode()
        answer = await http.get("/api/events", params={"filters": filters})
        assert answer.status_code == 400
        check_filter_error(answer.json()["detail"])
        async with http.stream("GET", "/api/events", params={"types": "tweet:new"}) as ok:
            assert ok.status_code == 200
            async for line in ok.aiter_lines():
                if line.startswith("event: subscribed"):
                    break
