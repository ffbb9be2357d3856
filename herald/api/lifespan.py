"""The app herald serves, whose ASGI lifespan owns start and stop.

Startup, in order: the :class:`~herald.service.Herald` (Redis or the embedded server, the
engine, delivery, the worker), then the routes built around it, then MCP's session manager.
Shutdown is the reverse: clients are told the server is going away, MCP sessions end, then
the Herald stops (in-flight polls drain within ``HERALD_SHUTDOWN_TIMEOUT``, the embedded
server stops last). A failure at any step of startup undoes the steps before it, so no exit
path leaves an embedded server running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.mcp import McpMount
from herald.service import Herald

log = logging.getLogger("herald")

#: The reason clients are given when the server stops (Socket.IO's ``herald:disconnect``).
SHUTDOWN_REASON = "server_shutdown"


class Companion(Protocol):
    """A server that runs beside the HTTP one on the same Herald (gRPC): started once the
    Herald is, told to end its clients with the HTTP ones, stopped before the Herald."""

    async def start(self) -> None: ...

    async def close_clients(self) -> None: ...

    async def stop(self) -> None: ...


class HeraldApp:
    """An ASGI app: routes are served once the lifespan has started the Herald.

    A Herald passed in already started belongs to the caller, who stops it; one the
    lifespan starts is stopped by it.
    """

    def __init__(
        self, herald: Herald, build: Callable[[Herald], tuple[ASGIApp, McpMount | None]]
    ) -> None:
        self.herald = herald
        self._build = build
        self._inner: ASGIApp | None = None
        self._mcp: McpMount | None = None
        self._owns_herald = False
        #: Servers started after the Herald and stopped before it (``herald serve``'s gRPC).
        self.companions: list[Companion] = []
        self._started_companions: list[Companion] = []
        #: Why startup failed, for the server to report instead of a bare exit.
        self.startup_error: BaseException | None = None
        #: Set by a server that reports ``startup_error`` itself (no second copy in its log).
        self.server_reports_errors = False
        if herald.started:  # usable at once, also when served without a lifespan
            self._inner, self._mcp = build(herald)

    @property
    def inner(self) -> ASGIApp | None:
        """The routes (Socket.IO in front of FastAPI); None until started."""
        return self._inner

    @property
    def mcp(self) -> McpMount | None:
        """The ``/mcp`` endpoint, whose session manager the lifespan starts and ends."""
        return self._mcp

    async def startup(self) -> None:
        """Start everything, in order; on failure, stop what was started and re-raise."""
        if not self.herald.started:
            await self.herald.start()
            self._owns_herald = True
        try:
            if self._inner is None:
                self._inner, self._mcp = self._build(self.herald)
            mount = self.mcp
            if mount is not None:
                await mount.start()
            for companion in self.companions:
                await companion.start()
                self._started_companions.append(companion)
        except BaseException:
            await self.shutdown()
            raise

    async def close_clients(self) -> None:
        """Tell every real-time client the server is going away, and disconnect it.

        Called by the server before it closes connections itself (which would cut them
        without a reason), and again on shutdown; it is idempotent."""
        for companion in self._started_companions:
            await companion.close_clients()
        delivery = self.herald.delivery
        if delivery is not None:
            await delivery.close_all(SHUTDOWN_REASON)

    async def shutdown(self) -> None:
        """Stop everything, in reverse order of startup."""
        try:
            await self.close_clients()
            while self._started_companions:
                await self._started_companions.pop().stop()
            mount = self.mcp
            if mount is not None:
                await mount.aclose()
        finally:
            if self._owns_herald:
                self._owns_herald = False
                await self.herald.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        inner = self._inner
        if inner is None:
            await _unavailable(scope, send)
            return
        await inner(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await self.startup()
            except Exception as exc:
                self.startup_error = exc
                said = "" if self.server_reports_errors else _describe(exc)
                await send({"type": "lifespan.startup.failed", "message": said})
                return
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
        if message["type"] == "lifespan.shutdown":
            try:
                await self.shutdown()
            except Exception as exc:
                log.exception("herald did not stop cleanly")
                await send({"type": "lifespan.shutdown.failed", "message": _describe(exc)})
                return
            await send({"type": "lifespan.shutdown.complete"})


def _describe(exc: BaseException) -> str:
    return str(getattr(exc, "detail", "") or exc) or type(exc).__name__


async def _unavailable(scope: Scope, send: Send) -> None:
    """Before startup (only when served without a lifespan): 503, or a refused WebSocket."""
    if scope["type"] == "websocket":
        close: Message = {"type": "websocket.close", "code": 1013}
        await send(close)
        return
    if scope["type"] != "http":
        return
    body = b'{"error":"unavailable","detail":"herald is starting"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
