"""Reads that were not continuous say so, and unknown event types are refused, on
``GET /api/events/log`` and the ``x_stream_events`` tool alike."""

from __future__ import annotations

import httpx
from mcp import Client

from herald.events import Event, EventType
from tests.mcp.conftest import McpServer, data, error_text


async def _append(server: McpServer, n: int) -> list[str]:
    """Append ``n`` events to the global log the way the engine does; their offsets."""
    redis, key = server.herald.redis, server.herald.keys.events
    offsets = []
    for i in range(n):
        ev = Event(EventType.TWEET_NEW, "s1", "alice", str(i), {"tweet": {"id": str(i)}})
        fields = {"t": ev.type.value, "s": ev.stream_id, "e": ev.encode()}
        offsets.append((await redis.xadd(key, fields)).decode())  # type: ignore[arg-type]
    return offsets


async def test_a_trimmed_cursor_is_flagged_on_rest_and_mcp(server: McpServer) -> None:
    offsets = await _append(server, 6)
    cursor = offsets[1]
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        whole = (await http.get("/api/events/log", params={"since": cursor})).json()
        assert whole["recovered"] is True and whole["gap"] is False and "oldest" not in whole
        # Retention trims the log under the cursor: offsets[2] and [3] are gone.
        await server.herald.redis.xtrim(server.herald.keys.events, maxlen=2, approximate=False)
        read = (await http.get("/api/events/log", params={"since": cursor})).json()
    assert read["gap"] is True and read["recovered"] is False
    assert read["oldest"] == offsets[4]
    assert [e["offset"] for e in read["events"]] == offsets[4:]

    async with Client(f"{server.url}/mcp") as client:
        answer = data(await client.call_tool("x_stream_events", {"since": cursor}))
        assert answer["gap"] is True and answer["recovered"] is False
        assert answer["oldest"] == offsets[4]
        assert [e["offset"] for e in answer["events"]] == offsets[4:]
        # From a cursor the log still holds, the read is continuous again.
        onward = data(await client.call_tool("x_stream_events", {"since": answer["cursor"]}))
        assert onward["gap"] is False and onward["recovered"] is True


async def test_unknown_types_are_refused_and_the_shorthand_is_accepted(
    server: McpServer,
) -> None:
    offsets = await _append(server, 2)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for bad in ("stream:nope", "tweet:nope", "nope"):
            answer = await http.get("/api/events/log", params={"types": bad, "since": "0"})
            assert answer.status_code == 400, bad
            body = answer.json()
            assert body["error"] == "validation_error"
            assert repr(bad) in body["detail"] and "stream:tweet:new" in body["detail"]
        short = await http.get("/api/events/log", params={"types": "tweet:new", "since": "0"})
        assert short.status_code == 200
        assert [e["offset"] for e in short.json()["events"]] == offsets
    async with Client(f"{server.url}/mcp") as client:
        refused = await client.call_tool("x_stream_events", {"types": ["stream:nope"]})
        text = error_text(refused)
        assert "'stream:nope'" in text and "stream:follower:new" in text
        shorthand = await client.call_tool(
            "x_stream_events", {"types": ["tweet:new"], "since": "0"}
        )
        assert [e["offset"] for e in data(shorthand)["events"]] == offsets
