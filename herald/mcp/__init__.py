"""MCP for AI agents: the ``x_stream_*`` tools over stdio (``herald mcp``) and at ``/mcp``."""

from __future__ import annotations

import anyio

from herald.mcp.backend import Backend, LocalBackend, RestBackend
from herald.mcp.http import McpMount, mcp_mount_of, mount_mcp
from herald.mcp.server import HeraldMCP, build_mcp

__all__ = [
    "Backend",
    "HeraldMCP",
    "LocalBackend",
    "McpMount",
    "RestBackend",
    "build_mcp",
    "mcp_mount_of",
    "mount_mcp",
    "run_stdio",
]


def run_stdio(url: str, token: str | None = None) -> None:
    """Serve MCP on stdin/stdout, driving the herald at ``url`` over REST."""

    async def main() -> None:
        backend = RestBackend(url, token)
        try:
            await build_mcp(backend).run_stdio_async()
        finally:
            await backend.aclose()

    anyio.run(main)
