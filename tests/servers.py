"""Real servers on free loopback ports, shared by every test folder."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from herald.api.app import create_app
from herald.api.lifespan import HeraldApp
from herald.api.serving import listen, make_server
from herald.config import Settings
from herald.service import Herald
from tests.conftest import EXTERNAL_REDIS_URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_asgi(app: Any, **config: Any) -> AsyncIterator[str]:
    """``app`` under uvicorn on a free loopback port for the duration of the block."""
    port = free_port()
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise why it stopped
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def serve_app(app: HeraldApp, **options: Any) -> AsyncIterator[str]:
    """``app`` (from ``create_app``) as ``herald serve`` runs it, on a free loopback port:
    lifespan on, the same server class, the same stop path when the block ends."""
    sock = listen("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    server = make_server(app, **options)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # uvicorn exposes a flag, not an event
            if task.done():
                task.result()  # re-raise why it stopped
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        try:
            await task
        finally:
            sock.close()  # uvicorn closes it only if it got as far as serving


@asynccontextmanager
async def serve_herald(herald: Herald, **options: Any) -> AsyncIterator[str]:
    """A Herald's app, as ``herald serve`` runs it. A started Herald stays the caller's to
    stop; one not yet started is started and stopped by the app's lifespan."""
    async with serve_app(create_app(herald), **options) as url:
        yield url


def herald_settings(key_prefix: str, **extra: Any) -> Settings:
    """Settings for a test server on the machine's Redis, with short timers."""
    values: dict[str, Any] = {
        "redis_url": EXTERNAL_REDIS_URL,
        "redis_prefix": key_prefix,
        "min_interval": 1,
        "poll_timeout": 2,
        "reconcile_interval": 0.5,
        **extra,
    }
    return Settings(**values)
