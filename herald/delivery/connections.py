"""Every live client connection of this node: the caps on them, and what an operator sees.

Each transport asks :meth:`ConnectionRegistry.admit` for a slot when a client connects and
gives it back when the client goes. Past ``HERALD_MAX_CONNECTIONS`` (all transports) or
``HERALD_MAX_CONNECTIONS_PER_ADDRESS`` (one client address) a new connection is refused
with :class:`Refused`, which each transport turns into its own clear answer: an HTTP
503/429 ``{error, detail}`` (SSE, Socket.IO polling handshakes), a WebSocket close 1013
with the reason (``/ws``), a ``connect_error`` with the message (Socket.IO).

A slot is also the connection's public record (``GET /api/connections``, admin only):
transport, address, authenticated subject, subscription, events sent, queue depth, errors
and when it connected. The counters are plain integers bumped on the delivery path.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from herald.auth import Authenticator, Principal, token_from_headers_and_query
from herald.delivery.subscription import Selector
from herald.errors import HeraldError

#: WebSocket close code for a refused connection: "try again later".
CLOSE_TRY_LATER = 1013
_ids = itertools.count(1)


class Refused(HeraldError):
    """No slot for a new connection; ``status`` is 503 (node full) or 429 (address full)."""

    code = "too_many_connections"

    def __init__(self, detail: str, status: int) -> None:
        super().__init__(detail)
        self.status = status


def is_admin(principal: Principal, auth_enabled: bool) -> bool:
    """Who may see every connection: anyone without auth, else an administrator (an API
    key or a JWT with ``admin: true``; docs/auth.md)."""
    return not auth_enabled or principal.admin


def client_address(scope: Mapping[str, Any] | None) -> str:
    """The client's address in an ASGI scope (``"unknown"`` when the server gives none)."""
    client = scope.get("client") if scope is not None else None
    return str(client[0]) if client else "unknown"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(eq=False, slots=True)
class Slot:
    """One admitted connection; the transport keeps it current."""

    transport: str
    address: str
    subject: str
    id: str = field(default_factory=lambda: f"c{next(_ids)}")
    connected_at: float = field(default_factory=lambda: datetime.now(UTC).timestamp())
    sent: int = 0
    errors: int = 0
    subscriptions: dict[str, Selector] = field(default_factory=dict)
    depth: Callable[[], int] = lambda: 0

    def subscribed(self, sub_id: Any, selector: Selector) -> None:
        self.subscriptions[str(sub_id)] = selector

    def unsubscribed(self, sub_id: Any = None) -> None:
        if sub_id is None:
            self.subscriptions.clear()
        else:
            self.subscriptions.pop(str(sub_id), None)

    def to_public(self) -> dict[str, Any]:
        try:
            depth = self.depth()
        except Exception:  # a transport torn down mid-read: nothing queued any more
            depth = 0
        return {
            "id": self.id,
            "transport": self.transport,
            "address": self.address,
            "subject": self.subject,
            "subscription": {k: s.describe() for k, s in self.subscriptions.items()},
            "eventsSent": self.sent,
            "queueDepth": depth,
            "errors": self.errors,
            "connectedSince": _iso(self.connected_at),
        }


class ConnectionRegistry:
    def __init__(self, total: int, per_address: int) -> None:
        self.total = total
        self.per_address = per_address
        self._slots: dict[Slot, None] = {}
        self._by_address: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._slots)

    def check(self, address: str) -> None:
        """Raise :class:`Refused` if one more connection from ``address`` would not fit."""
        if len(self._slots) >= self.total:
            raise Refused(
                f"this node already serves its maximum of {self.total} connections "
                "(HERALD_MAX_CONNECTIONS); try again later or another node",
                503,
            )
        if self._by_address[address] >= self.per_address:
            raise Refused(
                f"at most {self.per_address} connections per client address "
                "(HERALD_MAX_CONNECTIONS_PER_ADDRESS); close one first",
                429,
            )

    def admit(self, transport: str, address: str, subject: str) -> Slot:
        self.check(address)
        slot = Slot(transport, address, subject)
        self._slots[slot] = None
        self._by_address[address] += 1
        return slot

    def release(self, slot: Slot | None) -> None:
        """Give a slot back; releasing twice (or ``None``) is harmless."""
        if slot is None or self._slots.pop(slot, 0) == 0:
            return
        self._by_address[slot.address] -= 1
        if self._by_address[slot.address] <= 0:
            del self._by_address[slot.address]

    def public(self) -> list[dict[str, Any]]:
        return [slot.to_public() for slot in self._slots]


def refusal(exc: Refused) -> JSONResponse:
    headers = {"Retry-After": "5"}
    body = {"error": exc.code, "detail": exc.detail}
    return JSONResponse(body, status_code=exc.status, headers=headers)


class HeldResponse(StreamingResponse):
    """A streaming response that gives its slot back however it ends (also when the client
    is gone before the body starts, when the body's own ``finally`` never runs)."""

    def __init__(self, *args: Any, registry: ConnectionRegistry, slot: Slot, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._registry, self._slot = registry, slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._registry.release(self._slot)


class HandshakeGate:
    """Refuses a new Engine.IO polling handshake with a 503/429 JSON answer when full.

    A WebSocket-first Socket.IO client passes through and is refused at its Socket.IO
    connect (``connect_error`` with the reason), which is the answer its library shows.
    """

    def __init__(self, app: ASGIApp, registry: ConnectionRegistry, path: str) -> None:
        self.app, self.registry, self.path = app, registry, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") == self.path.rstrip("/"):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if "sid" not in query and query.get("transport") == ["polling"]:
                client = scope.get("client")
                try:
                    self.registry.check(client[0] if client else "unknown")
                except Refused as exc:
                    await refusal(exc)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def listing(
    registry: ConnectionRegistry, auth: Authenticator
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """``GET /api/connections``: every live connection of this node, for an admin."""

    async def connections(request: Request) -> JSONResponse:
        try:
            principal = auth.authenticate(
                token_from_headers_and_query(request.headers, request.query_params)
            )
        except HeraldError as exc:
            return JSONResponse({"error": exc.code, "detail": exc.detail}, exc.status)
        if not is_admin(principal, auth.enabled):
            detail = "listing connections needs an API key or a token with the admin claim"
            return JSONResponse({"error": "forbidden", "detail": detail}, 403)
        rows = registry.public()
        limits = {"total": registry.total, "perAddress": registry.per_address}
        return JSONResponse({"connections": rows, "count": len(rows), "limits": limits})

    return connections
