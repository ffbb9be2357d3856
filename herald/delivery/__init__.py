"""Real-time delivery: one log tail per node, fanned out to Socket.IO, WebSocket and SSE.

:class:`Delivery` is the one object the API app needs: ``start``/``stop`` in its lifespan,
``install`` for the ``/ws`` and SSE routes, ``wrap`` to put Socket.IO in front of the app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, WebSocket
from redis.asyncio import Redis
from starlette.types import ASGIApp

from herald.auth import Authenticator
from herald.config import Settings
from herald.delivery import connections, sse
from herald.delivery.entry import Entry
from herald.delivery.external import ExternalEmitter
from herald.delivery.hub import Hub
from herald.delivery.presence import Presence
from herald.delivery.socketio import SocketIOTransport
from herald.delivery.tail import LogTail
from herald.delivery.transport import Context
from herald.delivery.ws import endpoint as ws_endpoint
from herald.ratelimit import TokenBucket
from herald.store.keys import Keys
from herald.store.logreader import LogReader
from herald.store.presence import RedisPresence

__all__ = ["Delivery"]

#: Subscribe requests per client: a burst of 20, then 5 per second.
SUBSCRIBE_RATE = 5.0
#: What an SSE stream's closing ``error`` event says when the server goes away.
SHUTDOWN_DETAIL = "server shutting down; resume from your offset elsewhere"
SUBSCRIBE_BURST = 20.0


class Delivery:
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        keys: Keys,
        auth: Authenticator | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.keys = keys
        self.auth = auth or Authenticator.from_settings(settings)
        self.limiter = TokenBucket(SUBSCRIBE_RATE, SUBSCRIBE_BURST)
        self.hub = Hub()
        # A batch reaches a client's backlog at once, so it must be well below the cap.
        batch = max(1, min(1000, settings.client_queue // 4))
        self.log = LogReader(redis, keys.events)
        self.tail = LogTail(self.log, self._dispatch, count=batch)
        self._external: ExternalEmitter | None = None
        #: Live clients of transports served beside this one (gRPC), by transport: counted
        #: in presence, ``/metrics`` and the shutdown wait like the others.
        self.counters: dict[str, Callable[[], int]] = {}
        self.ctx = Context(settings, redis, self.log, self.hub, self.tail, self.auth, self.limiter)
        self.socketio = SocketIOTransport(self.ctx, keys.sio_session)
        self.presence = Presence(
            RedisPresence(redis, keys), self.connected_clients, settings.presence_interval
        )

    def _dispatch(self, batch: list[Entry]) -> None:
        self.hub.dispatch(batch)
        self.ctx.command_outcomes.dispatch(batch)
        if self._external is not None:
            self._external.dispatch(batch)

    async def start(self) -> None:
        await self.tail.start()
        if self._external is not None:
            self._external.start()
        await self.presence.start()

    async def close_all(self, reason: str = "server_shutdown", within: float = 2.0) -> None:
        """Tell every client the server is going away and end its connection: Socket.IO gets
        ``herald:disconnect {reason}`` then a disconnect, ``/ws`` closes with 1001, SSE ends.

        Waits up to ``within`` seconds for them to go, so the server's own shutdown (which
        closes what is left without a word) finds nothing to cut."""
        for client in list(self.socketio.clients.values()):
            self.socketio.cut_off(client, reason)
        for conn in list(self.ctx.ws_connections):
            conn.cut(1001, "server shutting down; resume from your offset elsewhere")
        for stream in list(self.ctx.sse_streams):
            stream.end(SHUTDOWN_DETAIL, error="server_shutdown")
        deadline = time.monotonic() + within
        while any(self.connected_clients().values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop the tail, then end every client: WebSockets close with 1001, SSE ends."""
        await self.tail.stop()
        await self.socketio.stop()
        for conn in list(self.ctx.ws_connections):
            conn.cut(1001, "server shutting down; resume from your offset elsewhere")
        for stream in list(self.ctx.sse_streams):
            stream.end(SHUTDOWN_DETAIL, error="server_shutdown")
        if self._external is not None:
            await self._external.stop()
        await self.presence.stop()

    def install(self, app: FastAPI) -> None:
        """Add ``/ws``, ``GET /api/events`` and ``GET /api/streams/{id}/events``."""
        ctx = self.ctx

        @app.websocket("/ws")
        async def websocket(ws: WebSocket) -> None:
            await ws_endpoint(ctx, ws)

        sse.install(app, ctx)
        app.add_api_route(
            "/api/connections",
            connections.listing(ctx.connections, ctx.auth),
            methods=["GET"],
            tags=["system"],
            summary="Every live connection of this node (admin only)",
        )

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Serve Socket.IO at ``/socket.io`` in front of ``app``."""
        import socketio

        wrapped: ASGIApp = socketio.ASGIApp(
            self.socketio.sio, other_asgi_app=app, socketio_path="socket.io"
        )
        return connections.HandshakeGate(wrapped, self.ctx.connections, "/socket.io/")

    def set_io(self, server: Any) -> None:
        """Also emit every event to an external python-socketio server (the seed's setIO)."""
        self._external = ExternalEmitter(server, self.settings.client_queue)
        if self.tail.running:
            self._external.start()

    def connected_clients(self) -> dict[str, int]:
        return {
            "socketio": len(self.socketio.clients),
            "ws": len(self.ctx.ws_connections),
            "sse": len(self.ctx.sse_streams),
            **{transport: count() for transport, count in self.counters.items()},
        }

    async def is_healthy(self) -> bool:
        """The tail loop runs and has heard from Redis recently."""
        if not self.tail.running or not self.tail.connected:
            return False
        return time.monotonic() - self.tail.last_read < 30
