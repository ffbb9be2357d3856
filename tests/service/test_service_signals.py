"""SIGTERM and SIGINT stop ``herald serve`` gracefully: clients are told, the poll in flight
finishes, the embedded server stops, the exit code is 0, and the next start begins afresh."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import socketio
import websockets

from herald.testing.fakex import create_app as create_fakex
from tests.conftest import exited
from tests.servers import serve_asgi
from tests.service.support import ServeProcess, clean_env, read_pid, start_serve, until

pytestmark = pytest.mark.timeout(240)

SESSION = "signals-test-session"


@pytest.fixture
async def fakex_url() -> AsyncIterator[str]:
    async with serve_asgi(create_fakex(), ws="none") as url:
        yield url


def serve_env(data_dir: Path, fakex_url: str, **extra: str) -> dict[str, str]:
    return clean_env(
        HERALD_DATA_DIR=str(data_dir),
        HERALD_X_BASE_URL=fakex_url,
        HERALD_SESSION_COOKIE=SESSION,
        HERALD_MIN_INTERVAL="1",
        HERALD_JITTER="0",
        HERALD_POLL_TIMEOUT="15",
        HERALD_SHUTDOWN_TIMEOUT="20",
        **extra,
    )


async def log_events(api: httpx.AsyncClient, stream_id: str) -> list[dict[str, Any]]:
    answer = await api.get("/api/events/log", params={"since": "0", "streamIds": stream_id})
    answer.raise_for_status()
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


async def ws_subscribed(url: str) -> websockets.ClientConnection:
    ws = await websockets.connect(url.replace("http", "ws") + "/ws")
    request = {"type": "events:stream:v1:requested", "id": "all", "payload": {}}
    await ws.send(orjson.dumps(request).decode())
    while True:
        message = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] == "events:stream:v1:started":
            return ws


async def close_code(ws: websockets.ClientConnection) -> tuple[int | None, str]:
    """Read until the server closes the connection; its close code and reason."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 60)
    except websockets.ConnectionClosed as exc:
        if exc.rcvd is None:
            return None, ""
        return exc.rcvd.code, exc.rcvd.reason


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_stops_serve_gracefully_and_the_next_start_is_fresh(
    sig: signal.Signals, tmp_path: Path, fakex_url: str
) -> None:
    data_dir = tmp_path / "data"
    env = serve_env(data_dir, fakex_url)
    server = start_serve(tmp_path / "first.log", env)
    second: ServeProcess | None = None
    sio = socketio.AsyncClient(reconnection=False)
    told: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    sio.on("herald:disconnect", lambda data: told.done() or told.set_result(data))
    try:
        await server.ready()
        valkey_pid = read_pid(data_dir / "valkey.pid")
        assert valkey_pid is not None and not exited(valkey_pid)
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=30) as api,
            httpx.AsyncClient(base_url=fakex_url, timeout=30) as fakex,
        ):
            started = await api.post(
                "/api/streams/start", json={"type": "tweet", "username": "alice", "interval": 2}
            )
            assert started.status_code == 201, started.text
            stream_id = started.json()["id"]

            async def polled() -> bool:
                return bool((await api.get(f"/api/streams/{stream_id}")).json()["polls"] >= 1)

            await until(polled, "the baseline poll")
            ws = await ws_subscribed(server.url)
            await sio.connect(server.url, transports=["websocket"])

            # The next poll hangs at X for 3 s: it is in flight when the signal arrives.
            async def user_tweets() -> int:
                counts = (await fakex.get("/_fakex/requests")).json()["operations"]
                return int(counts.get("UserTweets", 0))

            before = await user_tweets()
            fault = {"mode": "timeout", "seconds": 3, "operation": "UserTweets"}
            assert (await fakex.post("/_fakex/faults", json=fault)).status_code == 201
            await until(lambda: _more(user_tweets, before), "a poll to reach X")
            assert (await fakex.get("/_fakex/faults")).json()["pending"] == []
            posted = await fakex.post("/_fakex/users/alice/tweets", json={"text": "while away"})
            assert posted.status_code == 201
            server.signal(sig)

            code, reason = await close_code(ws)
            assert code == 1001 and "shutting down" in reason
            bye = await asyncio.wait_for(told, 30)
            assert bye["reason"] == "server_shutdown"
            assert await server.exit_code() == 0, server.output
        assert exited(valkey_pid), "the embedded Valkey outlived herald serve"
        assert not (data_dir / "valkey.pid").exists()
        assert "Traceback" not in server.output

        # The next start runs its own server and finds every event, none twice.
        second = start_serve(tmp_path / "second.log", env)
        await second.ready()
        assert "started embedded Valkey" in second.output
        assert "reusing" not in second.output
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as api:
            events = await log_events(api, stream_id)
            errors = [e for e in events if e["type"] == "stream:error"]
            assert len(errors) == 1, events  # the poll in flight finished (X answered 504)

            async def tweeted() -> list[dict[str, Any]]:
                found = await log_events(api, stream_id)
                return [e for e in found if e["type"] == "stream:tweet:new"]

            tweets = await until(tweeted, "the tweet posted while stopping", timeout=90)
            assert [t["tweet"]["text"] for t in tweets] == ["while away"]
        second.signal(signal.SIGTERM)
        assert await second.exit_code() == 0, second.output
    finally:
        if sio.connected:
            await sio.disconnect()
        server.close()
        if second is not None:
            second.close()


async def _more(probe: Any, than: int) -> bool:
    return bool(await probe() > than)
