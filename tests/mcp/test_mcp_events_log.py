"""``GET /api/events/log`` (what x_stream_events reads over REST) and resource notifications."""

from __future__ import annotations

import asyncio

import httpx
from mcp import Client
from mcp.shared.subscriptions import ResourceUpdated

from tests.mcp.conftest import McpServer, data


async def test_cursor_reads_filter_wait_and_validate(server: McpServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        now = (await http.get("/api/events/log")).json()
        assert now["events"] == [] and now["cursor"]
        a = (await http.post("/api/streams/start", json={"type": "tweet", "username": "a"})).json()
        b = (
            await http.post("/api/streams/start", json={"type": "mention", "username": "b"})
        ).json()

        both = (await http.get("/api/events/log", params={"since": now["cursor"]})).json()
        started = [(e["streamId"], e["type"]) for e in both["events"]]
        assert started[:2] == [(a["id"], "stream:started"), (b["id"], "stream:started")]
        only_b = await http.get(
            "/api/events/log", params={"since": now["cursor"], "streamIds": b["id"]}
        )
        assert {e["streamId"] for e in only_b.json()["events"]} == {b["id"]}
        one = await http.get("/api/events/log", params={"since": now["cursor"], "limit": 1})
        first = one.json()
        assert first["count"] == 1 and first["cursor"] == first["events"][0]["offset"]
        rest = await http.get("/api/events/log", params={"since": first["cursor"]})
        assert rest.json()["events"][0]["streamId"] == b["id"]  # resumes right after

        tail = both["cursor"]
        waiting = asyncio.create_task(
            http.get("/api/events/log", params={"since": tail, "wait": 10, "types": "paused"})
        )
        done, _ = await asyncio.wait({waiting}, timeout=0.5)
        assert not done  # nothing comes back for as long as we look: it is waiting
        await http.post(f"/api/streams/{a['id']}/pause")
        woke = (await asyncio.wait_for(waiting, 5)).json()
        assert [(e["streamId"], e["type"]) for e in woke["events"]] == [(a["id"], "stream:paused")]

        for params, field in (
            ({"since": "yesterday"}, "since:"),
            ({"types": "stream:bogus"}, "types:"),
            ({"limit": 0}, "limit:"),
            ({"wait": 600}, "wait:"),
        ):
            bad = await http.get("/api/events/log", params=params)
            assert bad.status_code == 400 and bad.json()["detail"].startswith(field), params


async def test_subscribers_hear_when_a_stream_changes(server: McpServer) -> None:
    async with Client(f"{server.url}/mcp") as client:
        stream = data(
            await client.call_tool("x_stream_start", {"type": "tweet", "username": "nasa"})
        )
        uri = f"herald://streams/{stream['id']}"
        async with client.listen(resource_subscriptions=[uri]) as subscription:
            await client.call_tool("x_stream_pause", {"streamId": stream["id"]})

            async def first() -> object:
                async for event in subscription:
                    return event
                return None

            event = await asyncio.wait_for(first(), 25)
        assert event == ResourceUpdated(uri=uri)
