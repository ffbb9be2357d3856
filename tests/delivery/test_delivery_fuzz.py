"""A bounded, seeded fuzz of ``/ws`` and Socket.IO frames against a real ``herald serve``.

Malformed JSON, unknown types, wrong field types, binary frames, oversized messages and
floods of subscribes. Every ``/ws`` message gets an answer (``error``, or ``started`` /
``success`` when it happened to be valid) or, for an oversized one, a clean close 1009;
every acknowledged Socket.IO call gets its acknowledgement, and a malformed packet is
either ignored (the next call is still answered) or ends the connection cleanly. At the end
the server is up and healthy, its memory barely moved, and its log holds no traceback.

The seed is fixed, so a failure replays; ``HERALD_FUZZ_SEED`` tries another one.
"""

from __future__ import annotations

import asyncio
import os
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
import websockets
from served import Served, serve_subprocess
from websockets.asyncio.client import ClientConnection

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(90)]

SEED = int(os.environ.get("HERALD_FUZZ_SEED", "20261129"))
WS_CASES = 400
SIO_CASES = 300
REPLY_TIMEOUT = 10.0
PREFIX = "events:stream:v1:"
WS_TYPES = [PREFIX + "requested", PREFIX + "unsubscribe"]
FIELDS = ["streamIds", "types", "filters", "since"]
FILTERS = ["keywords", "keywordMode", "authors", "regex", "languages", "excludeRetweets"]
ANSWERS = {PREFIX + "error", PREFIX + "started", PREFIX + "success"}


def junk(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value: the wrong type for nearly every field."""
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**53, -(2**63), 2**64 - 1])
    if kind == 3:
        return rng.uniform(-1e9, 1e9)
    if kind in (4, 5):
        alphabet = string.printable + "\u0000\u00e9\u2603\U0001f600\ufffd"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
    if kind == 6:
        return [junk(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    keys = FIELDS + FILTERS + ["nope", ""]
    return {rng.choice(keys): junk(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


def payload(rng: random.Random) -> Any:
    """A subscription payload: known fields with odd values, sometimes a valid one."""
    if rng.random() < 0.2:
        return junk(rng)
    out: dict[str, Any] = {}
    for name in rng.sample(FIELDS, rng.randrange(0, len(FIELDS) + 1)):
        out[name] = rng.choice(
            [
                junk(rng),
                ["s1", "s2"],
                ["stream:tweet:new"],
                ["tweet:new", "stream:nope"],
                {"keywords": ["a"], "regex": "(a+)+$"},
                {rng.choice(FILTERS): junk(rng)},
                "0-0",
                "1700000000000-0",
            ]
        )
    if rng.random() < 0.1:
        out["unknownField"] = 1
    return out


def ws_case(rng: random.Random, n: int) -> tuple[str, str | bytes]:
    """One ``/ws`` message and its kind."""
    kind = rng.choice(
        ["garbage", "truncated", "unknown_type", "wrong_fields", "payload", "binary",
         "subscribe", "subscribe", "unsubscribe", "deep", "oversized", "huge_number"]
    )  # fmt: skip
    valid = {"type": WS_TYPES[0], "id": f"s{n}", "payload": payload(rng)}
    if kind == "garbage":
        return kind, "".join(rng.choice(string.printable) for _ in range(rng.randrange(1, 80)))
    if kind == "truncated":
        text = orjson.dumps(valid).decode()
        return kind, text[: rng.randrange(1, len(text))]
    if kind == "unknown_type":
        return kind, orjson.dumps({"type": junk(rng), "id": n, "payload": junk(rng)}).decode()
    if kind == "wrong_fields":
        msg = {"type": rng.choice(WS_TYPES), "id": junk(rng), "payload": junk(rng)}
        return kind, orjson.dumps(msg).decode()
    if kind == "binary":
        if rng.random() < 0.5:
            return kind, orjson.dumps(valid)
        return kind, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    if kind == "unsubscribe":
        msg = {"type": WS_TYPES[1], "id": f"s{rng.randrange(max(n, 1))}"}
        return kind, orjson.dumps(msg).decode()
    if kind == "deep":
        depth = rng.randrange(500, 5000)
        return kind, "[" * depth + "]" * depth
    if kind == "huge_number":
        return kind, f'{{"type": "{WS_TYPES[0]}", "id": 1{"0" * 40}, "payload": {{}}}}'
    if kind == "oversized":
        return kind, orjson.dumps({**valid, "pad": "x" * 70_000}).decode()
    return kind, orjson.dumps(valid).decode()


async def answer(ws: ClientConnection) -> dict[str, Any]:
    """The server's next answer, skipping heartbeats."""
    while True:
        msg: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT))
        if msg.get("type") != PREFIX + "heartbeat":
            return msg


async def fuzz_ws(served: Served, rng: random.Random) -> dict[str, int]:
    seen: dict[str, int] = {}
    ws = await websockets.connect(served.ws_url, max_size=None)
    try:
        for n in range(WS_CASES):
            kind, data = ws_case(rng, n)
            seen[kind] = seen.get(kind, 0) + 1
            await ws.send(data)
            if kind == "oversized":
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await answer(ws)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
                ws = await websockets.connect(served.ws_url, max_size=None)
                continue
            msg = await answer(ws)
            assert msg.get("type") in ANSWERS, (kind, data[:200], msg)
            if msg["type"] == PREFIX + "error":
                detail = msg["payload"]
                assert isinstance(detail["error"], str) and isinstance(detail["detail"], str)
    finally:
        await ws.close()
    return seen


class SioWire:
    """A Socket.IO client at the frame level: Engine.IO over a raw WebSocket."""

    def __init__(self, served: Served) -> None:
        self.url = served.ws_url.replace("/ws", "/socket.io/?EIO=4&transport=websocket")
        self.ws: ClientConnection | None = None
        self.ack = 0

    async def connect(self) -> None:
        self.ws = await websockets.connect(self.url, max_size=None)
        opened = await self._next()
        assert isinstance(opened, str) and opened.startswith("0{"), opened
        await self.ws.send("40")
        connected = await self._next()
        assert isinstance(connected, str) and connected.startswith("40{"), connected

    async def _next(self) -> str | bytes:
        assert self.ws is not None
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), REPLY_TIMEOUT)
            if frame == "2":  # Engine.IO ping
                await self.ws.send("3")
                continue
            return frame

    async def call(self, event: str, *args: Any) -> Any:
        """Emit with an acknowledgement id; the acknowledgement's arguments."""
        assert self.ws is not None
        self.ack += 1
        ack = self.ack
        await self.ws.send(f"42{ack}" + orjson.dumps([event, *args]).decode())
        while True:
            frame = await self._next()
            if isinstance(frame, str) and frame.startswith(f"43{ack}["):
                return orjson.loads(frame[len(f"43{ack}") :])

    async def raw(self, data: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


def sio_garbage(rng: random.Random) -> str | bytes:
    """A malformed or unexpected Engine.IO / Socket.IO packet."""
    choices: list[Callable[[], str | bytes]] = [
        lambda: "4" + "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 40))),
        lambda: "42" + orjson.dumps(junk(rng)).decode(),
        lambda: "42[",
        lambda: '42["subscribe",',
        lambda: "45-" + orjson.dumps(["subscribe", {"_placeholder": True, "num": 0}]).decode(),
        lambda: rng.choice(["9", "6", "5", "1x", "", "3probe", "2probe", "41", "44{}"]),
        lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 32))),
        lambda: "42" + orjson.dumps(["nope", junk(rng)]).decode(),
        lambda: "42" + orjson.dumps([rng.choice(["connect", "disconnect"]), junk(rng)]).decode(),
    ]
    return rng.choice(choices)()


async def fuzz_socketio(served: Served, rng: random.Random) -> dict[str, int]:
    counts = {"calls": 0, "garbage": 0, "closed": 0}
    wire = SioWire(served)
    await wire.connect()
    try:
        for _ in range(SIO_CASES):
            if rng.random() < 0.5:
                counts["calls"] += 1
                event = rng.choice(["subscribe", "subscribe", "unsubscribe"])
                args = [payload(rng)] if event == "subscribe" else []
                (reply,) = await wire.call(event, *args)
                assert isinstance(reply, dict) and (
                    "recovered" in reply or "success" in reply or "error" in reply
                ), reply
                continue
            counts["garbage"] += 1
            await wire.raw(sio_garbage(rng))
            try:  # still answering, or closed cleanly
                (reply,) = await wire.call("unsubscribe")
                assert isinstance(reply, dict)
            except websockets.ConnectionClosed:
                counts["closed"] += 1
                await wire.close()
                await wire.connect()
    finally:
        await wire.close()
    return counts


async def all_released(served: Served) -> dict[str, Any]:
    """``GET /api/connections`` once every connection is gone (they close asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    async with httpx.AsyncClient(timeout=10) as http:
        while True:
            listed: dict[str, Any] = (await http.get(f"{served.url}/api/connections")).json()
            if listed["count"] == 0:
                return listed
            assert loop.time() < deadline, f"connections never released: {listed}"
            await asyncio.sleep(0.05)


async def test_fuzzed_frames_get_answers_and_the_server_stays_well(
    external_redis: aioredis.Redis, key_prefix: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    async with serve_subprocess(
        key_prefix, tmp_path / "serve.log", HERALD_HEARTBEAT_INTERVAL="3600"
    ) as served:
        before = served.rss()
        ws_kinds = await asyncio.wait_for(fuzz_ws(served, rng), 40)
        sio_counts = await asyncio.wait_for(fuzz_socketio(served, rng), 40)
        grown = served.rss() - before
        assert await served.healthy()
        listed = await all_released(served)
        log = served.stderr()
    assert set(ws_kinds) >= {"garbage", "binary", "deep", "oversized", "subscribe"}, ws_kinds
    assert sio_counts["calls"] > 100 and sio_counts["garbage"] > 100, sio_counts
    assert grown < 40 * 2**20, f"server RSS grew by {grown / 2**20:.0f} MiB"
    assert listed["count"] == 0  # every fuzzing connection was given back
    at = log.find("Traceback")
    assert at < 0, log[max(0, at - 500) : at + 3000]
