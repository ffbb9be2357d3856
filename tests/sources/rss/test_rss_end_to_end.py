"""End to end, as a user runs it: ``herald fakefeed`` and ``herald serve`` as processes, a
stream started with the CLI, entries arriving on ``/ws`` and Socket.IO, and a restart of
herald that loses nothing and repeats nothing."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import socketio
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import HERALD_BIN, herald_process
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
REQ = "events:stream:v1:requested"


async def cli(env: dict[str, str], *args: str) -> Any:
    proc = await asyncio.create_subprocess_exec(
        HERALD_BIN, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return orjson.loads(out)


async def ws_entries(url: str, stream: str, got: list[dict[str, Any]], **sub: Any) -> None:
    """Collect ``stream:entry:new`` bodies from /ws until cancelled."""
    async with websockets.connect(url.replace("http", "ws", 1) + "/ws") as ws:
        request = {"type": REQ, "id": "rss", "payload": {"streamIds": [stream], **sub}}
        await ws.send(orjson.dumps(request).decode())
        await _collect(ws, got)


async def _collect(ws: ClientConnection, got: list[dict[str, Any]]) -> None:
    async for raw in ws:
        message = orjson.loads(raw)
        if message["type"] == "events:stream:v1:stream":
            if message["payload"]["type"] == "stream:entry:new":
                got.append(message["payload"])
        else:
            assert message["type"] in ("events:stream:v1:started", "events:stream:v1:heartbeat")


async def test_a_feed_stream_from_the_cli_to_ws_and_socketio_across_a_restart(
    external_redis: object, key_prefix: str, tmp_path: Path, feeds: Path
) -> None:
    feed_port, port = free_port(), free_port()
    feed_url, url = f"http://127.0.0.1:{feed_port}", f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_MIN_INTERVAL": "1",
        "HERALD_JITTER": "0",
        "HERALD_URL": url,
    }
    target = f"{feed_url}/feeds/guardian"
    serve = ["serve", "--port", str(port)]
    async with (
        herald_process(
            ["fakefeed", "--port", str(feed_port), "--fixtures", str(feeds)],
            env,
            tmp_path / "fakefeed.log",
            f"{feed_url}/_fakefeed/feeds",
        ),
        httpx.AsyncClient(base_url=feed_url, timeout=10) as fake,
        httpx.AsyncClient(base_url=url, timeout=10) as api,
    ):

        async def requests() -> dict[str, int]:
            feeds_seen = (await fake.get("/_fakefeed/requests")).json()["feeds"]
            return dict(feeds_seen.get("guardian", {}))

        async def add(title: str) -> str:
            answer = await fake.post("/_fakefeed/feeds/guardian/entries", json={"title": title})
            assert answer.status_code == 201
            return str(answer.json()["id"])

        async def history(stream: str) -> list[dict[str, Any]]:
            answer = await api.get(f"/api/streams/{stream}/history", params={"limit": 500})
            return list(reversed(answer.json()["events"]))

        async with herald_process(serve, env, tmp_path / "serve1.log", f"{url}/api/health"):
            started = await cli(
                env, "streams", "start", "--type", "rss:feed", "--username", target,
                "--interval", "1", "--json",
            )  # fmt: skip
            stream = started["id"]
            assert started["type"] == "rss:feed" and started["username"] == target
            # the baseline: the feed was read, nothing was announced
            await wait_until(lambda: _polled(requests, 2), 30, what="two polls")
            assert [e["type"] for e in await history(stream)] == ["stream:started"]
            over_ws: list[dict[str, Any]] = []
            over_sio: list[dict[str, Any]] = []
            sio = socketio.AsyncClient(reconnection=False)
            sio.on("stream:entry:new", over_sio.append)
            await sio.connect(url, transports=["websocket"])
            reader = asyncio.create_task(ws_entries(url, stream, over_ws))
            try:
                first = await add("first while watching")
                await wait_until(lambda: len(over_ws) >= 1 and len(over_sio) >= 1, 30)
                assert [e["entry"]["id"] for e in over_ws] == [first]
                assert [e["entry"]["id"] for e in over_sio] == [first]
                assert over_ws[0]["entry"]["title"] == "first while watching"
                assert over_ws[0]["eventId"] == over_sio[0]["eventId"]
                # more polls (304s) send it never again
                seen = (await requests())["total"]
                await wait_until(lambda: _polled(requests, seen + 2), 30, what="two more polls")
                assert len(over_ws) == 1 and len(over_sio) == 1
                assert (await requests()).get("notModified", 0) >= 2
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
                await sio.disconnect()
            last_offset = over_ws[0]["offset"]
        # herald is down: entries keep coming
        while_down = [await add("written while herald was down"), await add("and another")]
        async with herald_process(serve, env, tmp_path / "serve2.log", f"{url}/api/health"):
            resumed: list[dict[str, Any]] = []
            reader = asyncio.create_task(ws_entries(url, stream, resumed, since=last_offset))
            try:
                await wait_until(lambda: len(resumed) >= 2, 30, what="the missed entries")
                seen = (await requests())["total"]
                await wait_until(lambda: _polled(requests, seen + 2), 30, what="two more polls")
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
            assert [e["entry"]["id"] for e in resumed] == while_down
            entries = [e for e in await history(stream) if e["type"] == "stream:entry:new"]
            assert [e["entry"]["id"] for e in entries] == [first, *while_down]
            errors = [e for e in await history(stream) if e["type"] == "stream:error"]
            assert errors == []


async def _polled(requests: Any, at_least: int) -> bool:
    return int((await requests()).get("total", 0)) >= at_least
