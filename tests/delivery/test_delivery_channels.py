"""Socket.IO rooms per alert channel: ``join`` adds what ``io.to(channel)`` would send to a
client's subscription, ``leave`` takes it away, and bad room names get an error answer."""

from __future__ import annotations

from typing import Any

import pytest
import socketio
from delivery_helpers import Server, append, tweet, wait_for

from herald.events import Event, EventType

pytestmark = pytest.mark.timeout(30)


def alert(n: int, channel: str) -> Event:
    payload: dict[str, Any] = {"alert": {"ruleId": f"r{n}"}, "channel": channel}
    return Event(EventType.ALERT_FIRING, "alerts", "", f"fp{n}", payload)


async def test_join_and_leave_rooms_beside_a_subscription(server: Server) -> None:
    client = socketio.AsyncClient(reconnection=False)
    got: list[str] = []
    for name in ("stream:tweet:new", "alert:firing"):
        client.on(name, lambda body: got.append(body["eventId"]))
    await client.connect(server.url, transports=["websocket"], wait_timeout=10)
    try:
        ack = await client.call("subscribe", {"types": ["tweet:new"]}, timeout=10)
        assert ack["recovered"] is True
        assert await client.call("join", {"channels": ["ops"]}, timeout=10) == {"channels": ["ops"]}
        await append(server.redis, server.keys, [alert(1, "ops"), alert(2, "sales"), tweet(3)])
        await wait_for(lambda: len(got) >= 2)
        assert got == ["alert.firing:fp1@alerts", "tweet:3@s1"]

        assert await client.call("join", "sales", timeout=10) == {"channels": ["ops", "sales"]}
        assert await client.call("leave", ["ops"], timeout=10) == {"channels": ["sales"]}
        await append(server.redis, server.keys, [alert(4, "ops"), alert(5, "sales"), tweet(6)])
        await wait_for(lambda: len(got) >= 4)
        assert got[2:] == ["alert.firing:fp5@alerts", "tweet:6@s1"]

        # after unsubscribe the rooms alone still deliver
        await client.call("unsubscribe", {}, timeout=10)
        assert await client.call("join", ["ops"], timeout=10) == {"channels": ["ops", "sales"]}
        await append(server.redis, server.keys, [tweet(7), alert(8, "ops")])
        await wait_for(lambda: len(got) >= 5)
        assert got[4:] == ["alert.firing:fp8@alerts"]
    finally:
        await client.disconnect()


BAD = [
    (None, "channels: give at least one channel name"),
    ({}, "channels: give at least one channel name"),
    ([], "channels: give at least one channel name"),
    ({"rooms": ["ops"]}, "rooms is not a known field; known: channels"),
    ([1], "channels must be a list of non-empty strings"),
    (5, "channels must be a list of non-empty strings"),
]


async def test_bad_room_names_get_an_error(server: Server) -> None:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(server.url, transports=["websocket"], wait_timeout=10)
    try:
        for data, detail in BAD:
            ack = await client.call("join", data, timeout=10)
            assert ack == {"error": "validation_error", "detail": detail}, data
            ack = await client.call("leave", data, timeout=10)
            assert ack == {"error": "validation_error", "detail": detail}, data
    finally:
        await client.disconnect()
