"""The MCP server: tools, a resource per stream, and change notifications for subscribers.

Each stream is a resource at ``herald://streams/{id}`` (its status as JSON). A background
follower reads the event log and tells subscribed clients which stream changed: over the
2026 ``subscriptions/listen`` stream, and to 2025-era clients that sent
``resources/subscribe``. Notifications are best effort; ``x_stream_events`` is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ResourcesListChanged,
    ResourceUpdated,
)
from mcp_types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams
from mcp_types import Resource as MCPResource
from redis.exceptions import RedisError

from herald import __version__
from herald.delivery.subscription import Query, Selector
from herald.errors import HeraldError
from herald.mcp.backend import Backend
from herald.mcp.tools import add_tools

log = logging.getLogger("herald.mcp")

SCHEME = "herald://streams"
FOLLOW_WAIT = 20.0
RETRY_AFTER = 5.0
_LIST_CHANGES = {"stream:started", "stream:stopped"}

INSTRUCTIONS = (
    "herald monitors X accounts in real time. Start a stream with x_stream_start, then "
    "follow its events with x_stream_events: call it without `since` once, then pass the "
    "returned `cursor` as `since` each time (with waitSeconds to wait for news). "
    "x_stream_list shows every stream; x_stream_stop removes one."
)


class HeraldMCP(MCPServer[Any]):
    """An MCPServer whose resource list includes every current stream."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.bus = InMemorySubscriptionBus()
        self._legacy: dict[str, weakref.WeakSet[ServerSession]] = {}
        super().__init__(
            "herald",
            version=__version__,
            instructions=INSTRUCTIONS,
            log_level="WARNING",
            subscriptions=self.bus,
            lifespan=_follow_lifespan,
        )
        add_tools(self, backend)
        self._add_resources()

    async def list_resources(self) -> list[MCPResource]:
        found = await super().list_resources()
        try:
            streams = (await self.backend.list_streams()).get("streams", [])
        except HeraldError:
            streams = []
        for s in streams:
            found.append(
                MCPResource(
                    uri=f"{SCHEME}/{s['id']}",
                    name=f"{s['type']} @{s['username']}",
                    description=f"Status of the {s['type']} stream for @{s['username']}.",
                    mime_type="application/json",
                )
            )
        return found

    def _add_resources(self) -> None:
        backend = self.backend

        @self.resource(SCHEME, name="streams", mime_type="application/json")
        async def all_streams() -> str:
            """Every stream and its status."""
            return json.dumps(await _read(backend.list_streams()))

        @self.resource(f"{SCHEME}/{{stream_id}}", name="stream", mime_type="application/json")
        async def one_stream(stream_id: str) -> str:
            """One stream's full status; updated whenever it emits an event."""
            return json.dumps(await _read(backend.status(stream_id)))

        lowlevel = self._lowlevel_server
        lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, self._sub)
        lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._unsub)

    async def _sub(
        self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        self._legacy.setdefault(str(params.uri), weakref.WeakSet()).add(ctx.session)
        return EmptyResult()

    async def _unsub(
        self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        self._legacy.get(str(params.uri), weakref.WeakSet()).discard(ctx.session)
        return EmptyResult()

    async def changed(self, stream_ids: set[str], list_changed: bool) -> None:
        """Tell listeners which stream resources changed (and whether the list did)."""
        for sid in sorted(stream_ids):
            uri = f"{SCHEME}/{sid}"
            await self.bus.publish(ResourceUpdated(uri=uri))
            for session in list(self._legacy.get(uri, ())):
                try:
                    await session.send_resource_updated(uri)
                except Exception:  # a closed session: forget it
                    self._legacy[uri].discard(session)
        if list_changed:
            await self.bus.publish(ResourcesListChanged())

    async def follow(self) -> None:
        """Read the event log forever and announce changed streams."""
        cursor: str | None = None
        while True:
            try:
                answer = await self.backend.events(
                    Query(Selector(), since=cursor, limit=1000, wait=FOLLOW_WAIT)
                )
            except (HeraldError, RedisError, OSError) as exc:  # or the store went away
                log.debug("mcp notifications paused: %s", getattr(exc, "detail", exc))
                await asyncio.sleep(RETRY_AFTER)
                continue
            cursor = str(answer.get("cursor") or cursor or "") or None
            events: list[dict[str, Any]] = answer.get("events", [])
            if events:
                await self.changed(
                    {str(e.get("streamId")) for e in events},
                    any(e.get("type") in _LIST_CHANGES for e in events),
                )


async def _read(call: Any) -> dict[str, Any]:
    from mcp.server.mcpserver.exceptions import ResourceError

    try:
        result: dict[str, Any] = await call
    except HeraldError as exc:
        raise ResourceError(exc.detail) from exc
    return result


@contextlib.asynccontextmanager
async def _follow_lifespan(server: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
    """While the server runs, a task follows the event log for notifications."""
    assert isinstance(server, HeraldMCP)
    task = asyncio.create_task(server.follow(), name="herald-mcp-follow")
    try:
        yield {}
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def build_mcp(backend: Backend) -> HeraldMCP:
    """The MCP server over ``backend`` (a :class:`LocalBackend` or :class:`RestBackend`)."""
    return HeraldMCP(backend)
