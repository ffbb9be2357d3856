"""Helpers for tests against the Bluesky stand-in: a live server, a Jetstream client, the
recorded frames."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from herald.testing.fakesky import create_app
from tests.conftest import fixtures_root, need
from tests.servers import serve_asgi

RECORDING = "bluesky-jetstream/golden_v1.jsonl"


def recording_dir() -> Path:
    """The recorded Jetstream frames (skip, or fail under CI, when absent)."""
    folder = fixtures_root() / "bluesky-jetstream"
    need((folder / "golden_v1.jsonl").is_file(), f"recorded Jetstream frames not at {folder}")
    return folder


def recorded_frames() -> list[dict[str, Any]]:
    lines = (recording_dir() / "golden_v1.jsonl").read_bytes().splitlines()
    return [orjson.loads(line) for line in lines if line.strip()]


@asynccontextmanager
async def fakesky(fixtures: Path | None = None, **options: Any) -> AsyncIterator[FakeSkyClient]:
    """The stand-in on a free loopback port, and a client for it."""
    app = create_app(fixtures, **options)
    async with (
        serve_asgi(app, ws="websockets-sansio") as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        yield FakeSkyClient(url, http)


class FakeSkyClient:
    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.ws_url = url.replace("http://", "ws://") + "/subscribe"
        self.http = http

    async def control(self, verb: str, path: str, /, **body: Any) -> Any:
        response = await self.http.request(verb, f"/_fakesky{path}", json=body or None)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    async def user(self, handle: str, **extra: Any) -> dict[str, Any]:
        answer: dict[str, Any] = await self.control("POST", "/users", handle=handle, **extra)
        return answer

    def subscribe(self, **query: Any) -> Any:
        """``connect`` to ``/subscribe`` with the query (lists repeat their parameter)."""
        params = [
            (k, str(v)) for k, vs in query.items() for v in (vs if isinstance(vs, list) else [vs])
        ]
        return connect(f"{self.ws_url}?{urlencode(params)}", open_timeout=10, max_size=None)


async def next_frame(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    frame: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
    return frame


async def frames_until(
    ws: ClientConnection, last_time_us: int, timeout: float = 10
) -> list[dict[str, Any]]:
    """Frames until the one at ``last_time_us`` (included)."""
    out: list[dict[str, Any]] = []
    while not out or out[-1]["time_us"] < last_time_us:
        out.append(await next_frame(ws, timeout))
    return out
