"""The scenario both transports must pass: list tools, start, follow with events, stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp import Client

from tests.mcp.conftest import data, error_text
from tests.waiting import wait_until

TOOLS = {
    "x_stream_start",
    "x_stream_list",
    "x_stream_stop",
    "x_stream_pause",
    "x_stream_resume",
    "x_stream_update",
    "x_stream_status",
    "x_stream_history",
    "x_stream_stats",
    "x_stream_events",
}


async def follow_until(
    client: Client, cursor: str, stream_id: str, done: Callable[[list[dict[str, Any]]], bool]
) -> tuple[list[dict[str, Any]], str]:
    """Call x_stream_events with the cursor pattern until ``done(events so far)``."""
    seen: list[dict[str, Any]] = []
    for _ in range(15):
        answer = data(
            await client.call_tool(
                "x_stream_events",
                {"since": cursor, "streamIds": [stream_id], "waitSeconds": 2},
            )
        )
        seen.extend(answer["events"])
        cursor = answer["cursor"]
        if done(seen):
            return seen, cursor
    raise AssertionError(f"events never arrived; got {seen}")


async def lifecycle(client: Client, post: Callable[[str, str], Any], username: str) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) >= TOOLS
    start_schema = tools["x_stream_start"].input_schema
    assert start_schema["required"] == ["type", "username"]
    assert "waitSeconds" in tools["x_stream_events"].input_schema["properties"]
    assert all(tools[name].description for name in TOOLS)

    first = data(await client.call_tool("x_stream_events", {}))
    assert first["events"] == [] and first["cursor"]

    stream = data(
        await client.call_tool(
            "x_stream_start", {"type": "tweet", "username": username, "interval": 1}
        )
    )
    sid = stream["id"]
    assert stream["status"] == "active" and stream["interval"] == 1000

    # the baseline poll runs first; then a tweet posted upstream must arrive as an event
    _, cursor = await follow_until(
        client, first["cursor"], sid, lambda seen: any(e["type"] == "stream:started" for e in seen)
    )

    async def baseline_done() -> bool:  # the account's existing state is recorded
        status = data(await client.call_tool("x_stream_status", {"streamId": sid}))
        return bool(status["polls"] >= 1)

    await wait_until(baseline_done, 15, interval=0.1, what="the baseline poll")
    posted = await post(username, "hello from the mcp test")
    tweets, cursor = await follow_until(
        client,
        cursor,
        sid,
        lambda seen: any(e["type"] == "stream:tweet:new" for e in seen),
    )
    tweet = next(e for e in tweets if e["type"] == "stream:tweet:new")
    assert tweet["tweet"]["text"] == "hello from the mcp test" and tweet["streamId"] == sid
    assert tweet["tweet"]["id"] == str(posted)
    again = data(await client.call_tool("x_stream_events", {"since": cursor, "streamIds": [sid]}))
    assert all(e["eventId"] != tweet["eventId"] for e in again["events"])  # exactly once

    listed = data(await client.call_tool("x_stream_list", {}))
    assert [s["id"] for s in listed["streams"]] == [sid]
    status = data(await client.call_tool("x_stream_status", {"streamId": sid}))
    assert status["counts"].get("stream:tweet:new") == 1
    history = data(await client.call_tool("x_stream_history", {"streamId": sid, "limit": 5}))
    assert any(e["type"] == "stream:tweet:new" for e in history["events"])
    stats = data(await client.call_tool("x_stream_stats", {}))
    assert stats["total"] == 1

    paused = data(await client.call_tool("x_stream_pause", {"streamId": sid}))
    assert paused["status"] == "paused"
    resumed = data(await client.call_tool("x_stream_resume", {"streamId": sid}))
    assert resumed["status"] == "active"
    updated = data(await client.call_tool("x_stream_update", {"streamId": sid, "interval": 30}))
    assert updated["interval"] == 30000

    resource = await client.read_resource(f"herald://streams/{sid}")
    assert f'"id": "{sid}"' in resource.contents[0].text  # type: ignore[union-attr]
    uris = {str(r.uri) for r in (await client.list_resources()).resources}
    assert f"herald://streams/{sid}" in uris

    stopped = data(await client.call_tool("x_stream_stop", {"streamId": sid}))
    assert stopped == {"success": True, "streamId": sid}
    assert data(await client.call_tool("x_stream_list", {}))["count"] == 0


async def errors(client: Client) -> None:
    """Refusals come back as tool errors carrying herald's detail, and the server lives on."""
    missing = await client.call_tool("x_stream_status", {"streamId": "nosuchstream"})
    assert "no stream with id 'nosuchstream'" in error_text(missing)
    bad = await client.call_tool("x_stream_start", {"type": "tweet", "username": "no spaces!"})
    assert "not a valid X username" in error_text(bad)
    short = await client.call_tool(
        "x_stream_start", {"type": "tweet", "username": "nasa", "interval": 0.001}
    )
    assert "interval: must be between" in error_text(short)
    cursor = await client.call_tool("x_stream_events", {"since": "not-a-cursor"})
    assert "since:" in error_text(cursor)
    kind = await client.call_tool("x_stream_events", {"types": ["stream:nonsense"]})
    assert "unknown event type" in error_text(kind)
    nothing = await client.call_tool("x_stream_update", {"streamId": "abc"})
    assert "nothing to update" in error_text(nothing)
    assert data(await client.call_tool("x_stream_list", {}))["count"] == 0
