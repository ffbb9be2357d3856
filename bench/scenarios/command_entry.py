"""Command round trips per entry point: the same ``like_tweet`` sent over REST, ``/ws``
and Socket.IO to a real ``herald serve`` acting on ``herald fakex``, each timed from the
send to the final answer (REST: the 200; ``/ws``: the ``success`` message; Socket.IO: the
ack). A second round sends every command again under the same ``commandId``: the
idempotent replay, answered from the store without a request to X.

Both servers run as their own processes (herald on the server core, fakex beside it); the
clients run here, one command at a time, so the figures are latencies, not throughput.
The fakex request counter checks that each command reached X exactly once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import socketio
import websockets

from bench.common import SERVER_CORE, Options, median, percentile, progress, record
from bench.procs import Children, free_port, herald_cli, pinned, wait_http
from bench.servers import herald_env

NAME = "command_entry"
SESSION = "a11ce0000000000000000000000000000000a11c"
"""A synthetic session token: the stand-in acts as its seeded @alice for it."""
WARM = 4
LIMITED = ("rate_limited", "write_rate_limited")
Send = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def _command(command_id: str, i: int, tweet: str) -> dict[str, Any]:
    """A like, then an unlike of the same tweet, and so on: each is a real change on X."""
    kind = "like_tweet" if i % 2 == 0 else "unlike_tweet"
    return {"type": kind, "commandId": command_id, "data": {"tweet_id": tweet}}


async def _timed(send: Send, ids: list[str], tweet: str) -> list[float]:
    took: list[float] = []
    for i, command_id in enumerate(ids):
        while True:
            started = time.perf_counter()
            answer = await send(_command(command_id, i, tweet))
            elapsed = time.perf_counter() - started
            if answer.get("error") not in LIMITED:
                break
            # herald's per-client command limit (20/s, burst 100) paces long runs; the
            # wait is not counted, and the refused try never reached the service.
            await asyncio.sleep(float(answer.get("retryAfter") or 0.1))
        took.append(elapsed)
        if answer.get("state") != "succeeded":
            raise RuntimeError(f"{command_id}: {answer}")
    return took


def _row(entry: str, kind: str, took: list[float]) -> dict[str, Any]:
    return {
        "entry": entry,
        "kind": kind,
        "commands": len(took),
        "ms_median": round((median(took) or 0) * 1000, 3),
        "ms_p95": round((percentile(took, 95) or 0) * 1000, 3),
    }


async def _entries(base: str) -> dict[str, tuple[Send, Callable[[], Awaitable[None]]]]:
    """One sender per entry point, each on a connection opened once."""
    http = httpx.AsyncClient(base_url=base, timeout=30)

    async def rest(body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = (await http.post("/api/commands", json=body)).json()
        return answer

    ws = await websockets.connect(base.replace("http://", "ws://") + "/ws")

    async def over_ws(body: dict[str, Any]) -> dict[str, Any]:
        await ws.send(orjson.dumps({**body, "type": f"commands:{body['type']}:v1:requested"}))
        while True:
            msg = orjson.loads(await ws.recv())
            if msg["type"].endswith((":success", ":error")):
                payload: dict[str, Any] = msg["payload"]
                return payload

    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(base, transports=["websocket"])

    async def over_sio(body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await sio.call("command", body, timeout=30)
        return answer

    return {
        "REST": (rest, http.aclose),
        "/ws": (over_ws, ws.close),
        "Socket.IO": (over_sio, sio.disconnect),
    }


async def run(opts: Options) -> dict[str, Any]:
    count = 20 if opts.quick else 300  # even: each round leaves the tweet as it found it
    prefix = opts.prefix(NAME)
    rows: list[dict[str, Any]] = []
    async with Children() as children:
        fake_port, port = free_port(), free_port()
        fakex = f"http://127.0.0.1:{fake_port}"
        base = f"http://127.0.0.1:{port}"
        env = herald_env(
            opts,
            prefix,
            HERALD_X_BASE_URL=fakex,
            HERALD_X_TRANSACTION_ID="false",
            HERALD_SESSION_COOKIE=SESSION,
            HERALD_SECRET_KEY="bench commands key",
            HERALD_DATA_DIR=str(opts.results_dir / f"{NAME}-data.tmp"),
            HERALD_ENABLE_WRITES="true",
            HERALD_WRITE_LIMIT_MINUTE="1000",
            HERALD_WRITE_LIMIT_HOUR="10000",
            HERALD_WRITE_LIMIT_DAY="100000",
        )
        progress(NAME, "starting herald fakex and herald serve")
        fake = await children.start(
            "herald fakex", herald_cli("fakex", "--port", str(fake_port)), env=env
        )
        await wait_http(fakex + "/_fakex/requests", 60, fake)
        async with httpx.AsyncClient(timeout=10) as control:
            session = {"authToken": SESSION, "username": "alice"}
            (await control.post(fakex + "/_fakex/sessions", json=session)).raise_for_status()
            made = await control.post(
                fakex + "/_fakex/users/alice/tweets", json={"text": "the bench's tweet"}
            )
            made.raise_for_status()
            tweet = str(made.json()["id"])
        argv = pinned(SERVER_CORE, herald_cli("serve", "--no-worker", "--port", str(port)))
        server = await children.start("herald serve", argv, env=env)
        await wait_http(base + "/api/health", 60, server)
        entries = await _entries(base)
        try:
            await _timed(
                entries["REST"][0], [f"warm-{uuid.uuid4().hex}" for _ in range(WARM)], tweet
            )
            for name, (send, _) in entries.items():
                ids = [f"{name[-2:].strip('/.')}-{uuid.uuid4().hex}" for _ in range(count)]
                rows.append(_row(name, "new command", await _timed(send, ids, tweet)))
                rows.append(_row(name, "same commandId again", await _timed(send, ids, tweet)))
                progress(
                    NAME, f"{name}: {rows[-2]['ms_median']} ms, replay {rows[-1]['ms_median']}"
                )
        finally:
            for _, close in entries.values():
                await close()
        async with httpx.AsyncClient(timeout=10) as control:
            seen = (await control.get(fakex + "/_fakex/requests")).json()["operations"]
    sent = int(seen.get("FavoriteTweet", 0)) + int(seen.get("UnfavoriteTweet", 0))
    expected = WARM + count * len(entries)
    if sent != expected:
        raise RuntimeError(f"X saw {sent} (un)like requests, expected {expected}")
    return record(opts, NAME, {"rows": rows, "x_requests": sent, "per_entry": count})
