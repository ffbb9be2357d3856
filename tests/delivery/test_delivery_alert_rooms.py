"""A real alert reaches the Socket.IO room of its channel: a volume rule routed to ``ops``
fires from the alerts pipeline on Redis 7, and only the socket that joined ``ops`` gets it
(as ``io.to("ops")`` would send it), with the rule's priority and its fingerprint as the
``correlationId``."""

from __future__ import annotations

from typing import Any

import pytest
import socketio
from delivery_helpers import running_server, wait_for
from redis.asyncio import Redis

from herald.alerts.model import iso
from herald.store.keys import Keys
from tests.alerts.alerts_support import T0, World, tweet, world
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(90)

RULE = {
    "id": "busy",
    "type": "volume",
    "condition": "above",
    "threshold": 3,
    "window": 60,
    "for": 60,
    "channel": "ops",
    "priority": 3,
    "scope": {"streams": ["s1"]},
}


async def evaluated_at(w: World, at: float) -> bool:
    return (await w.status("busy")).get("lastEvaluatedAt") == iso(at)


async def test_a_firing_alert_reaches_only_the_room_of_its_channel(
    external_redis: Redis, keys: Keys
) -> None:
    async with (
        world(external_redis, keys) as w,
        running_server(external_redis, keys, heartbeat_interval=30) as server,
    ):
        await w.add_stream("s1")
        await w.service.create_rule(RULE)
        host = w.host()
        await host.start()
        ops, sales = (
            socketio.AsyncClient(reconnection=False),
            socketio.AsyncClient(reconnection=False),
        )
        got: dict[str, list[dict[str, Any]]] = {"ops": [], "sales": []}
        for name, client in (("ops", ops), ("sales", sales)):
            client.on("alert:firing", got[name].append)
            client.on("stream:tweet:new", got[name].append)
        try:
            for name, client in (("ops", ops), ("sales", sales)):
                await client.connect(server.url, transports=["websocket"], wait_timeout=10)
                # tweets of s1 for both (a marker of how far each has read), plus a room
                ack = await client.call("subscribe", {"types": ["tweet:new"]}, timeout=10)
                assert ack["recovered"] is True, ack
                assert await client.call("join", [name], timeout=10) == {"channels": [name]}
            # the evaluator is reading the log: it evaluated a first window (one item, below
            # the threshold)
            await w.log.append("s1", [tweet("s1", 500, T0 - 30)])
            await w.polled("s1", T0)
            await wait_until(lambda: evaluated_at(w, T0), 30, what="the evaluator running")
            n = 0
            for window in (0, 1):  # above the threshold for two windows: fires once
                events = [tweet("s1", n + j, T0 + window * 60 + j) for j in range(5)]
                n += len(events)
                await w.log.append("s1", events)
                await w.polled("s1", T0 + (window + 1) * 60)

            def firing(name: str) -> list[dict[str, Any]]:
                return [e for e in got[name] if e["type"] == "alert:firing"]

            await wait_for(lambda: firing("ops"), timeout=45)
            [alert] = firing("ops")
            assert alert["channel"] == "ops" and alert["alert"]["ruleId"] == "busy"
            assert alert["priority"] == 3
            assert alert["correlationId"] == alert["alert"]["fingerprint"]
            # a tweet after the alert: once "sales" has it, it would have had the alert too
            await w.log.append("s1", [tweet("s1", 999, T0 + 200)])
            await wait_for(lambda: any(e.get("tweet", {}).get("id") == "999" for e in got["sales"]))
            assert firing("sales") == []
        finally:
            await ops.disconnect()
            await sales.disconnect()
            await host.stop()
