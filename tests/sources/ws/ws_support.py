"""Helpers shared by the ws:feed tests (a module name no other test folder uses): the
recorded exchange sessions, counted straight from their lines, and the stand-in on a
loopback port."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from herald.push.base import Frame, PushStream
from herald.sources.ws import feed_options, ws_url
from herald.testing.fakews import create_app, load_recording
from tests.conftest import fixtures_root, need
from tests.servers import serve_asgi

BINANCE = "BINANCE.ws.1.0"
COINBASE = "COINBASE.ws.28.0"


def recording_path(name: str) -> Path:
    """A recorded session, read in place; skipped when absent, a failure under CI=true."""
    path = fixtures_root() / "exchanges" / name
    need(path.is_file(), f"recorded exchange session not found at {path} (set HERALD_FIXTURES)")
    return path


def received(name: str) -> list[dict[str, Any]]:
    """Every received frame of a recording as JSON, read line by line here (not through
    the stand-in's parser, so the tests check that parser too)."""
    frames: list[dict[str, Any]] = []
    lines = recording_path(name).read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        head, _, frame = line.partition(": ")
        if not frame or "<-" in head:
            continue
        frames.append(json.loads(frame))
    return frames


def binance_streams() -> list[str]:
    """The stream names of the Binance recording's URL."""
    first = recording_path(BINANCE).read_text(encoding="utf-8").splitlines()[0]
    url = first.split(" <-> ")[0]
    return url.split("streams=", 1)[1].split("/")


def coinbase_products() -> list[str]:
    """The product ids the Coinbase recording subscribed to."""
    for line in recording_path(COINBASE).read_text(encoding="utf-8").splitlines():
        if " <- " in line:
            message = json.loads(line.split(": ", 1)[1])
            return list(message["product_ids"])
    raise AssertionError("the Coinbase recording has no subscribe message")


@asynccontextmanager
async def fakews(
    name: str, speed: float | None = None, loop: bool = False
) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """The stand-in replaying ``name`` on a free loopback port (``ws://...``), and a client
    of its control API."""
    app = create_app(load_recording(recording_path(name)), speed, loop)
    async with (
        serve_asgi(app, timeout_graceful_shutdown=1) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as control,
    ):
        yield "ws" + url.removeprefix("http"), control


def recorded_frames(name: str, received_at: float = 0.0) -> list[Frame]:
    """The recording's received frames as the runtime hands them to a source."""
    lines = recording_path(name).read_text(encoding="utf-8").splitlines()
    return [
        Frame(frame, received_at)
        for line in lines[1:]
        for head, _, frame in [line.partition(": ")]
        if frame and "<-" not in head
    ]


def feed_stream(
    options: dict[str, Any], target: str = "ws://127.0.0.1:9/", sid: str = "s1", created: float = 0
) -> PushStream:
    """A ``ws:feed`` stream as the runtime sees it, its options checked as at start."""
    return PushStream(sid, "ws:feed", ws_url(target), feed_options(options), created)


def binance_options(channels: list[str]) -> dict[str, Any]:
    symbols = sorted({s.split("@")[0] for s in binance_streams()})
    return {"preset": "binance", "symbols": symbols, "channels": channels}


def coinbase_options(channels: list[str]) -> dict[str, Any]:
    return {"preset": "coinbase", "symbols": coinbase_products(), "channels": channels}
