"""The two ways the MCP tools reach herald: in process, or over REST.

``herald mcp`` (stdio) talks to a running server over REST, so an agent controls the same
herald that the dashboard and CLI show. ``/mcp`` on the server calls the engine directly.
Both answer with the REST API's JSON shapes and raise :class:`HeraldError` with the
server's detail, so the tools do not care which one they hold.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol

import httpx
from mcp.server.mcpserver.exceptions import ToolError

from herald.delivery.pull import read_after
from herald.delivery.subscription import Query
from herald.errors import HeraldError
from herald.service import Herald


class Backend(Protocol):
    async def start(self, body: dict[str, Any]) -> dict[str, Any]: ...
    async def list_streams(self) -> dict[str, Any]: ...
    async def status(self, stream_id: str) -> dict[str, Any]: ...
    async def stop(self, stream_id: str) -> dict[str, Any]: ...
    async def pause(self, stream_id: str) -> dict[str, Any]: ...
    async def resume(self, stream_id: str) -> dict[str, Any]: ...
    async def update(self, stream_id: str, changes: dict[str, Any]) -> dict[str, Any]: ...
    async def history(self, stream_id: str, limit: int) -> dict[str, Any]: ...
    async def stats(self) -> dict[str, Any]: ...
    async def events(self, query: Query) -> dict[str, Any]: ...
    async def aclose(self) -> None: ...


class LocalBackend:
    """The in-process engine of a started :class:`Herald`."""

    def __init__(self, herald: Herald) -> None:
        self._herald = herald

    @property
    def herald(self) -> Herald:
        """The Herald, while it runs. A stopped one is refused rather than used: its Redis
        client would quietly reconnect and leave a connection nobody closes (the MCP
        follower outlives the Herald by a moment when the server shuts down)."""
        if not self._herald.started:
            raise NotRunning("herald is not running (stopping, or not started yet)")
        return self._herald

    async def start(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self.herald.manager.create(
            type=body.get("type"),  # type: ignore[arg-type]  # validated inside
            username=body.get("username"),
            interval=body.get("interval"),
            auth_token=body.get("authToken"),
            options=body.get("options"),
        )

    async def list_streams(self) -> dict[str, Any]:
        streams = await self.herald.manager.list_streams()
        return {"streams": streams, "count": len(streams)}

    async def status(self, stream_id: str) -> dict[str, Any]:
        return await self.herald.manager.status(stream_id)

    async def stop(self, stream_id: str) -> dict[str, Any]:
        return await self.herald.manager.stop(stream_id)

    async def pause(self, stream_id: str) -> dict[str, Any]:
        return await self.herald.manager.pause(stream_id)

    async def resume(self, stream_id: str) -> dict[str, Any]:
        return await self.herald.manager.resume(stream_id)

    async def update(self, stream_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return await self.herald.manager.update(stream_id, **changes)

    async def history(self, stream_id: str, limit: int) -> dict[str, Any]:
        events = await self.herald.manager.history(stream_id, limit)
        return {"streamId": stream_id, "events": events, "count": len(events)}

    async def stats(self) -> dict[str, Any]:
        return await self.herald.manager.stats()

    async def events(self, query: Query) -> dict[str, Any]:
        return (await read_after(self.herald.log, query)).as_dict()

    async def aclose(self) -> None:
        return None


class NotRunning(HeraldError):
    """The in-process Herald is stopped; a tool call or the follower waits for nothing."""

    code = "not_running"
    status = 503


class RemoteError(HeraldError):
    """The server refused a call or could not be reached; ``detail`` says why."""

    code = "remote_error"

    def __init__(self, detail: str, status: int = 502) -> None:
        super().__init__(detail)
        self.status = status


class RestBackend:
    """A running herald's REST API (``--url``, ``--token``)."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout
        self._http = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        try:
            response = await self._http.request(
                method, path, json=json, params=params, timeout=timeout or self._timeout
            )
        except httpx.TransportError as exc:
            reason = "connection refused" if isinstance(exc, httpx.ConnectError) else str(exc)
            raise RemoteError(
                f"cannot reach herald at {self.url}: {reason or 'timed out'}"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success and isinstance(body, dict):
            return body
        detail = body.get("detail") if isinstance(body, dict) else None
        raise RemoteError(
            str(detail or f"herald answered HTTP {response.status_code} to {method} {path}"),
            response.status_code,
        )

    async def start(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/api/streams/start", json=body)

    async def list_streams(self) -> dict[str, Any]:
        return await self._call("GET", "/api/streams")

    async def status(self, stream_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/streams/{_segment(stream_id)}")

    async def stop(self, stream_id: str) -> dict[str, Any]:
        return await self._call("POST", "/api/streams/stop", json={"streamId": stream_id})

    async def pause(self, stream_id: str) -> dict[str, Any]:
        return await self._call("POST", f"/api/streams/{_segment(stream_id)}/pause")

    async def resume(self, stream_id: str) -> dict[str, Any]:
        return await self._call("POST", f"/api/streams/{_segment(stream_id)}/resume")

    async def update(self, stream_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return await self._call("PATCH", f"/api/streams/{_segment(stream_id)}", json=changes)

    async def history(self, stream_id: str, limit: int) -> dict[str, Any]:
        path = f"/api/streams/{_segment(stream_id)}/history"
        return await self._call("GET", path, params={"limit": limit})

    async def stats(self) -> dict[str, Any]:
        return await self._call("GET", "/api/streams/stats")

    async def events(self, query: Query) -> dict[str, Any]:
        return await self._call(
            "GET", "/api/events/log", params=query.params(), timeout=query.wait + self._timeout
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _one_segment(value: str) -> bool:
    """Whether ``value`` is one path segment: an id with a slash must not reach another
    route, nor one with ``?`` or ``#`` rewrite the query."""
    return bool(value) and not any(c in value for c in "/?#")


def _segment(stream_id: str) -> str:
    if not _one_segment(stream_id):
        raise RemoteError(f"streamId: {stream_id!r} is not a stream id", 400)
    return stream_id


class ServiceCalls(ABC):
    """One family of tools' calls on either backend, with the REST API's answers.

    Over REST the call is the request itself; in process it is :meth:`local`, which maps
    the same method and path onto the service, so a tool is written once for both.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @property
    def herald(self) -> Herald:
        """The in-process herald (only a :class:`LocalBackend` has one)."""
        if not isinstance(self._backend, LocalBackend):
            raise TypeError("unknown MCP backend")
        return self._backend.herald

    async def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        if isinstance(self._backend, RestBackend):
            return await self._backend._call(method, path, json=body)
        return await self.local(method, path, body)

    @abstractmethod
    async def local(self, method: str, path: str, body: Any) -> dict[str, Any]:
        """The in-process answer to ``method path`` with ``body``."""


def id_segment(value: str, what: str) -> str:
    """An id as one path segment (:func:`_one_segment`), or the tool's error."""
    if not _one_segment(value):
        raise ToolError(f"{what}: {value!r} is not an id")
    return value
