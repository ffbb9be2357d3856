"""Real servers on free loopback ports, shared by every test folder."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from herald.api.app import create_app
from herald.config import Settings
from herald.delivery.direct import uvicorn_options
from herald.mcp import mcp_mount_of
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
async def serve_herald(herald: Herald) -> AsyncIterator[str]:
    """A started Herald's app, as ``herald serve`` runs it; its MCP sessions end with it."""
    app = create_app(herald)
    try:
        async with serve_asgi(app, lifespan="off", **uvicorn_options()) as url:
            yield url
    finally:
        mount = mcp_mount_of(app)
        if mount is not None:
            await mount.aclose()


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
