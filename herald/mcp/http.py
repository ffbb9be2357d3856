"""MCP over Streamable HTTP at ``/mcp``, on herald's own port, behind the REST API's auth.

The SDK's session manager needs a running task group for its sessions. :class:`McpMount`
owns that task group in a background task: the app's lifespan starts it (``start()``) and
ends it (``aclose()``) before the Herald stops under it; an app served without a lifespan
starts it on the first request.
"""

from __future__ import annotations

import asyncio
import contextlib

import orjson
from fastapi import FastAPI
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from herald.auth import Authenticator, token_from_headers_and_query
from herald.errors import AuthError
from herald.mcp.backend import LocalBackend
from herald.mcp.server import build_mcp
from herald.service import Herald

PATH = "/mcp"
_LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
_LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


def _security(auth_on: bool) -> TransportSecuritySettings:
    """Without auth the server only listens on loopback, so guard against DNS rebinding.

    With auth on, a browser page on another origin cannot present the bearer key, and the
    server may be reached under any host name.
    """
    if auth_on:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=_LOOPBACK_HOSTS,
        allowed_origins=_LOOPBACK_ORIGINS,
    )


class McpMount:
    """The ``/mcp`` endpoint (an ASGI app) and the lifetime of its session manager."""

    def __init__(self, herald: Herald) -> None:
        self._auth = Authenticator.from_settings(herald.settings)
        self.server = build_mcp(LocalBackend(herald))
        self._app: ASGIApp = self.server.streamable_http_app(
            streamable_http_path=PATH,
            transport_security=_security(self._auth.enabled),
            max_request_body_size=herald.settings.max_body_bytes,
        )
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Run the session manager in a background task; returns once it accepts sessions."""
        async with self._lock:
            if self._task is not None:
                return
            self._ready, self._stopping = asyncio.Event(), asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="herald-mcp-sessions")
            ready = asyncio.create_task(self._ready.wait())
            await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            if self._task.done():  # it failed to start: surface why
                self._task.result()

    async def _run(self) -> None:
        assert self._ready is not None and self._stopping is not None
        async with self.server.session_manager.run():
            self._ready.set()
            await self._stopping.wait()

    async def aclose(self) -> None:
        """End every MCP session and the background task. Safe to call more than once."""
        task, self._task = self._task, None
        if task is None:
            return
        assert self._stopping is not None
        self._stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = _query(scope)
        try:
            principal = self._auth.authenticate(token_from_headers_and_query(headers, query))
        except AuthError as exc:
            await _refuse(send, 401, "unauthorized", exc.detail)
            return
        if not principal.admin:  # MCP's tools start streams and read every one
            detail = "/mcp needs an API key or a token with the admin claim (docs/auth.md)"
            await _refuse(send, 403, "forbidden", detail)
            return
        if self._task is None:
            await self.start()
        await self._app(scope, receive, send)


def _query(scope: Scope) -> dict[str, str]:
    from urllib.parse import parse_qsl

    raw: bytes = scope.get("query_string", b"")
    return dict(parse_qsl(raw.decode("latin-1")))


async def _refuse(send: Send, status: int, error: str, detail: str) -> None:
    body = orjson.dumps({"error": error, "detail": detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="herald"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def mount_mcp(app: FastAPI, herald: Herald) -> McpMount:
    """Serve MCP at ``/mcp`` on ``app``; call ``await mount.aclose()`` when shutting down.

    The route goes first so a catch-all mount (the dashboard at ``/``) cannot shadow it.
    """
    mount = McpMount(herald)
    app.router.routes.insert(0, Route(PATH, endpoint=mount))
    app.state.mcp = mount
    return mount


def mcp_mount_of(asgi: object) -> McpMount | None:
    """The :class:`McpMount` of an app ``create_app`` returned, or of a FastAPI app (perhaps
    behind Socket.IO) that ``mount_mcp`` was called on."""
    own = getattr(asgi, "mcp", None)
    if isinstance(own, McpMount):  # a HeraldApp knows its endpoint
        return own
    app = getattr(asgi, "other_asgi_app", None) or asgi
    state = getattr(app, "state", None)
    mount = getattr(state, "mcp", None)
    return mount if isinstance(mount, McpMount) else None
