"""Replay subscriptions on every push transport: a range of the log, paced, then
``replay:done`` once; the same selection and the same refusals everywhere."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
import socketio
import websockets
from delivery_helpers import Server, tweet
from httpx_sse import aconnect_sse

from herald.delivery.subscription import parse_query
from herald.errors import HeraldError
from herald.events import Event
from herald.pipeline.clock import VirtualClock
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(30)

TRANSPORTS = ["socketio", "ws", "sse"]
REQ, PREFIX = "events:stream:v1:requested", "events:stream:v1:"
#: Log ids are milliseconds: events one second apart, far in the past.
BASE_MS = 1_000_000


@dataclass
class Seen:
    """What a client received: the ack, events (type, body) and replay notices in order."""

    ack: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    notices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)

    @property
    def done(self) -> list[dict[str, Any]]:
        return [p for n, p in self.notices if n == "replay:done"]

    def add(self, name: str, body: dict[str, Any]) -> None:
        self.order.append(name)
        if name.startswith("replay:"):
            self.notices.append((name, body))
        else:
            self.events.append(body)


async def add_events(server: Server, events: list[Event], *, step_ms: int = 1000) -> list[str]:
    """XADD ``events`` with ids ``step_ms`` apart (the gaps pacing follows)."""
    offsets = []
    for i, ev in enumerate(events):
        fields: Any = {"t": ev.type.value, "s": ev.stream_id, "e": ev.encode()}
        oid = await server.redis.xadd(server.keys.events, fields, id=f"{BASE_MS + i * step_ms}-0")
        offsets.append(oid.decode() if isinstance(oid, bytes) else str(oid))
    return offsets


def replaying(
    server: Server, transport: str, payload: dict[str, Any]
) -> contextlib.AbstractAsyncContextManager[Seen]:
    """Subscribe with ``payload`` on ``transport``; yields while messages keep arriving."""
    opener = {"socketio": _socketio, "ws": _ws, "sse": _sse}[transport]
    return opener(server, payload, Seen())


@contextlib.asynccontextmanager
async def _socketio(server: Server, payload: dict[str, Any], seen: Seen) -> AsyncIterator[Seen]:
    client = socketio.AsyncClient(reconnection=False)

    async def any_event(name: str, data: Any) -> None:
        seen.add(name, data)

    client.on("*", any_event)
    await client.connect(server.url, transports=["websocket"])
    try:
        seen.ack = await client.call("subscribe", payload, timeout=5)
        yield seen
        # A round trip: anything sent before its answer has arrived by then.
        assert (await client.call("unsubscribe", None, timeout=5))["success"] is True
    finally:
        await client.disconnect()


@contextlib.asynccontextmanager
async def _ws(server: Server, payload: dict[str, Any], seen: Seen) -> AsyncIterator[Seen]:
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(orjson.dumps({"type": REQ, "id": "r", "payload": payload}).decode())

        async def read() -> None:
            async for raw in ws:
                msg = orjson.loads(raw)
                name = msg["type"].removeprefix(PREFIX)
                if name == "error":
                    seen.ack = seen.ack or msg["payload"]
                    seen.order.append(f"error:{msg['payload']['error']}")
                elif name == "started":
                    seen.ack = msg["payload"]
                elif name == "stream":
                    seen.add(msg["payload"]["type"], msg["payload"])
                elif name.startswith("replay:"):
                    seen.add(name, msg["payload"])
                elif name != "heartbeat":
                    seen.order.append(name)

        reader = asyncio.create_task(read())
        try:
            await wait_until(lambda: bool(seen.ack), 10, what="ws ack")
            yield seen
            # The replay's id is free again: unsubscribing it is an unknown id.
            await ws.send(orjson.dumps({"type": PREFIX + "unsubscribe", "id": "r"}).decode())
            await wait_until(lambda: "error:unknown_id" in seen.order, 10, what="freed")
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


@contextlib.asynccontextmanager
async def _sse(server: Server, payload: dict[str, Any], seen: Seen) -> AsyncIterator[Seen]:
    params = {k: v if isinstance(v, str) else ",".join(v) for k, v in payload.items()}
    for name in ("replay", "filters"):
        if name in payload:
            params[name] = orjson.dumps(payload[name]).decode()
    async with httpx.AsyncClient(timeout=10) as http:
        url = f"{server.url}/api/events"
        async with aconnect_sse(http, "GET", url, params=params) as source:
            if source.response.status_code != 200:
                await source.response.aread()
                seen.ack = source.response.json()
                yield seen
                return

            async def read_sse() -> None:
                async for sse in source.aiter_sse():
                    if sse.event == "subscribed":
                        seen.ack = orjson.loads(sse.data)
                    else:
                        seen.add(sse.event, orjson.loads(sse.data))

            reader = asyncio.create_task(read_sse())
            try:
                await wait_until(lambda: bool(seen.ack), 10, what="sse ack")
                yield seen
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                    await reader


async def until_done(seen: Seen) -> None:
    await wait_until(lambda: bool(seen.done), 10, what="replay:done")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_range_at_max_speed_with_a_selection(server: Server, transport: str) -> None:
    events = [
        tweet(i, "s1" if i % 2 else "s2", text=f"t{i} special" if i % 3 else f"t{i}")
        for i in range(12)
    ]
    offsets = await add_events(server, events)
    payload = {
        "streamIds": ["s1"],
        "filters": {"keywords": ["special"]},
        "replay": {"from": offsets[2], "to": offsets[10], "speed": "max"},
    }
    async with replaying(server, transport, payload) as seen:
        await until_done(seen)
    wanted = [o for i, o in enumerate(offsets) if 2 <= i <= 10 and i % 2 and i % 3]
    assert [e["offset"] for e in seen.events] == wanted
    assert seen.ack == {"recovered": True, "offset": offsets[2]}
    assert seen.done == [{"from": offsets[2], "to": offsets[10], "count": len(wanted)}]
    assert [n for n in seen.order if not n.startswith("error:")][-1] == "replay:done"
    assert len(seen.notices) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_x100_is_paced_by_the_gaps_between_ids(server: Server, transport: str) -> None:
    clock = VirtualClock(100.0)
    server.delivery.ctx.clock = clock
    offsets = await add_events(server, [tweet(i) for i in range(4)])
    async with replaying(server, transport, {"replay": {"from": "0", "speed": "x100"}}) as seen:
        for n in range(1, 4):
            # One event out, then the replay waits a second of log time / 100 on the clock.
            await wait_until(lambda n=n: len(seen.events) == n and clock.sleepers == 1)  # type: ignore[misc]
            assert clock.next_wake == pytest.approx(100.0 + n * 0.01)
            assert not seen.done
            clock.advance(0.01)
        await until_done(seen)
    assert [e["offset"] for e in seen.events] == offsets
    assert seen.done == [{"from": "0-0", "to": offsets[-1], "count": 4}]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_iso_times_and_an_open_end(server: Server, transport: str) -> None:
    offsets = await add_events(server, [tweet(i) for i in range(5)])
    start = "1970-01-01T00:16:42Z"  # BASE_MS + 2000 ms: the third event
    async with replaying(server, transport, {"replay": {"from": start}}) as seen:
        await until_done(seen)
    assert [e["offset"] for e in seen.events] == offsets[2:]
    assert seen.done == [{"from": f"{BASE_MS + 2000}-0", "to": offsets[-1], "count": 3}]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_trimmed_start_sends_a_gap_first(server: Server, transport: str) -> None:
    offsets = await add_events(server, [tweet(i) for i in range(10)])
    await server.redis.xtrim(server.keys.events, maxlen=4, approximate=False)
    async with replaying(server, transport, {"replay": {"from": offsets[0]}}) as seen:
        await until_done(seen)
    assert seen.ack == {"recovered": False, "offset": offsets[6]}
    assert seen.notices[0] == ("replay:gap", {"from": offsets[0], "oldest": offsets[6]})
    assert seen.order[0] == "replay:gap"
    assert [e["offset"] for e in seen.events] == offsets[6:]


BAD: list[dict[str, Any]] = [
    {"replay": {"from": "yesterday"}},
    {"replay": {"from": "5-0", "speed": "fast"}},
    {"replay": {"from": "5-0", "speed": "x0"}},
    {"replay": {"from": "5-0", "to": "4-9"}},
    {"replay": {"to": "4-0"}},
    {"replay": {"from": "5-0", "until": "6-0"}},
    {"replay": {"from": "5-0"}, "types": ["tweet:nope"]},
]


@pytest.mark.parametrize("payload", BAD, ids=lambda p: orjson.dumps(p).decode()[:40])
async def test_bad_input_is_the_same_error_on_every_transport(
    server: Server, payload: dict[str, Any]
) -> None:
    with pytest.raises(HeraldError) as caught:
        parse_query(payload)
    expected = {"error": "validation_error", "detail": caught.value.detail}
    for transport in TRANSPORTS:
        async with replaying(server, transport, payload) as seen:
            pass
        assert seen.ack == expected, transport
        assert not seen.events and not seen.notices
