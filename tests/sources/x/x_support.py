"""Helpers shared by the X tests (a module name no other test folder uses)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.servers import free_port
from tests.servers import serve_asgi as shared_serve_asgi

__all__ = ["AUTH_TOKEN", "free_port", "serve_asgi"]

# A made-up session cookie: tests grep for it everywhere it must not appear.
AUTH_TOKEN = "5e55101c00c1e5ec4e7a17e5e55101c00c1e5ec4"


@asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """``app`` on a free loopback port, without websockets, quick to shut down."""
    async with shared_serve_asgi(app, ws="none", timeout_graceful_shutdown=1) as url:
        yield url
