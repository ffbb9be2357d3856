"""SSE with httpx + httpx-sse: ids, event names, Last-Event-ID resume, per-stream route, auth."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from delivery_helpers import Server, append, append_n, running_server, tweet, wait_for
from httpx_sse import ServerSentEvent, aconnect_sse

from herald.store.keys import Keys

pytestmark = pytest.mark.timeout(30)


async def collect(
    url: str, n: int, headers: dict[str, str] | None = None, on_open: Any = None
) -> list[ServerSentEvent]:
    """Read SSE events (not comments) until ``n`` events after the ``subscribed`` one."""
    out: list[ServerSentEvent] = []
    async with (
        httpx.AsyncClient(timeout=10) as http,
        aconnect_sse(http, "GET", url, headers=headers or {}) as source,
    ):
        async for sse in source.aiter_sse():
            out.append(sse)
            if sse.event == "subscribed" and on_open is not None:
                await on_open()
            if len(out) > n:
                break
    return out


async def test_events_carry_offset_id_and_type_and_resume_with_last_event_id(
    server: Server,
) -> None:
    async def produce() -> None:
        await append(server.redis, server.keys, [tweet(1, "s1"), tweet(2, "s2")])

    got = await collect(f"{server.url}/api/events?streamIds=s1,s2", 2, on_open=produce)
    assert got[0].event == "subscribed"
    assert orjson.loads(got[0].data)["recovered"] is True
    first, second = got[1], got[2]
    assert first.event == "stream:tweet:new"
    body = orjson.loads(first.data)
    assert first.id == body["offset"] and body["streamId"] == "s1"

    missed = await append_n(server.redis, server.keys, 20, start=50)
    resumed = await collect(f"{server.url}/api/events", 20, headers={"Last-Event-ID": second.id})
    assert [e.id for e in resumed[1:]] == missed


async def test_per_stream_route_and_heartbeat(server: Server) -> None:
    url = f"{server.url}/api/streams/s2/events"
    comments: list[str] = []
    async with httpx.AsyncClient(timeout=10) as http, http.stream("GET", url) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        await append(server.redis, server.keys, [tweet(1, "s1"), tweet(2, "s2")])
        lines: list[str] = []
        async for line in resp.aiter_lines():
            lines.append(line)
            if line.startswith(":"):
                comments.append(line)
                break
    data = [orjson.loads(line[6:]) for line in lines if line.startswith('data: {"offset')]
    assert [d["streamId"] for d in data] == ["s2"]
    assert comments == [": heartbeat"]


async def test_sse_refuses_without_token_and_accepts_bearer(
    external_redis: aioredis.Redis, keys: Keys
) -> None:
    async with running_server(external_redis, keys, api_keys=["sekret"]) as srv:
        async with httpx.AsyncClient(timeout=5) as http:
            resp = await http.get(f"{srv.url}/api/events")
            assert resp.status_code == 401
            assert resp.json()["error"] == "unauthorized"
            resp = await http.get(f"{srv.url}/api/events?token=wrong")
            assert resp.status_code == 401
        got = await collect(f"{srv.url}/api/events", 0, headers={"Authorization": "Bearer sekret"})
        assert got[0].event == "subscribed"


async def test_bad_query_is_a_400_naming_the_field(server: Server) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        resp = await http.get(f"{server.url}/api/events?since=yesterday")
        assert resp.status_code == 400
        assert "since" in resp.json()["detail"]
        resp = await http.get(f"{server.url}/api/events", params={"filters": '{"regex": 1}'})
        assert resp.status_code == 400
        assert "filters.regex" in resp.json()["detail"]


async def test_dead_client_is_detected_and_released(server: Server) -> None:
    async def open_and_drop() -> None:
        async with (
            httpx.AsyncClient(timeout=5) as http,
            http.stream("GET", f"{server.url}/api/events") as resp,
        ):
            async for _ in resp.aiter_lines():
                break

    await open_and_drop()
    await append_n(server.redis, server.keys, 3)
    await wait_for(lambda: server.delivery.connected_clients()["sse"] == 0)
    assert server.delivery.hub.group_count == 0


async def test_shutdown_ends_the_stream_with_server_shutdown_not_slow_consumer(
    server: Server,
) -> None:
    """A server going away says so; ``slow_consumer`` would send the client to the wrong fix."""

    async def close_all() -> None:
        await server.delivery.close_all()

    got = await collect(f"{server.url}/api/events", 1, on_open=close_all)
    assert got[0].event == "subscribed"
    assert got[1].event == "error"
    assert orjson.loads(got[1].data) == {
        "error": "server_shutdown",
        "detail": "server shutting down; resume from your offset elsewhere",
    }
