"""Writing an event's WebSocket frame straight to each recipient's socket.

Going through the ASGI ``send`` costs every recipient a task switch and a frame build. But
server-to-client frames are never masked, so when no extension (compression) was negotiated
one message is the same bytes for every client: herald builds the frame once per event and
hands it to each connection's transport with a single ``write``, as ``websockets.broadcast``
does. That is what lets one process feed thousands of clients.

It needs the uvicorn connection behind an ASGI WebSocket, which ASGI does not expose:
:class:`HeraldWebSocketProtocol` (uvicorn's sans-I/O WebSocket protocol, used by ``herald
serve``) puts itself in the scope under :data:`SCOPE_KEY`. Under any other server the key is
absent and the transports keep to the ordinary ASGI ``send``.

Ordering is the caller's job: a connection must not mix direct writes with frames still
waiting in another queue (see the Socket.IO and ``/ws`` sinks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from herald.config import Settings

SCOPE_KEY = "herald.websocket"


class HeraldWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, reachable from the ASGI scope."""

    async def run_asgi(self) -> None:
        scope: Any = self.scope
        scope[SCOPE_KEY] = self
        try:
            await super().run_asgi()
        finally:
            scope.pop(SCOPE_KEY, None)


def uvicorn_options(settings: Settings | None = None) -> dict[str, Any]:
    """What every herald server passes to ``uvicorn.Config`` (``settings``: from the env)."""
    from herald.delivery.release import HeraldHttpProtocol

    limit = (settings or Settings()).max_body_bytes
    return {
        "ws": HeraldWebSocketProtocol,
        # Request transports reachable from the scope, so a cut-off SSE client is let go.
        "http": HeraldHttpProtocol,
        # A WebSocket message above herald's body limit is refused as its header arrives
        # (close 1009, "message too big"), before its bytes are read into memory.
        "ws_max_size": limit,
        # Compressing each client's copy costs more than it saves on small JSON events, and
        # an uncompressed frame is the same bytes for every client.
        "ws_per_message_deflate": False,
        # A Socket.IO long-poll holds its request open for up to a minute; shutting down
        # must not wait for it (its client resumes from its offset on another node).
        "timeout_graceful_shutdown": 5,
    }


def protocol_of(scope: Mapping[str, Any] | None) -> HeraldWebSocketProtocol | None:
    if scope is None:
        return None
    proto = scope.get(SCOPE_KEY)
    return proto if isinstance(proto, HeraldWebSocketProtocol) else None


def text_frame(data: bytes) -> bytes:
    """An unmasked, uncompressed, final text frame carrying ``data``."""
    return Frame(Opcode.TEXT, data).serialize(mask=False, extensions=[])


def is_open(proto: HeraldWebSocketProtocol) -> bool:
    return (
        not proto.disconnected
        and not proto.close_sent
        and proto.conn.state is State.OPEN
        and not proto.transport.is_closing()
    )


def is_writable(proto: HeraldWebSocketProtocol) -> bool:
    """Open, and the transport's buffer is below its high-water mark."""
    return proto.writable.is_set() and is_open(proto)


def shares_frames(proto: HeraldWebSocketProtocol) -> bool:
    """Whether this connection takes the shared frames (no extension was negotiated)."""
    return not proto.conn.extensions


def write(proto: HeraldWebSocketProtocol, frame: bytes, data: bytes) -> None:
    """Send one text message: the shared ``frame``, or ``data`` framed for this connection."""
    conn = proto.conn
    if conn.extensions:  # negotiated by a server configured differently: frame it here
        conn.send_text(data)
        proto.transport.write(b"".join(conn.data_to_send()))
    else:
        proto.transport.write(frame)


def write_shared(
    proto: HeraldWebSocketProtocol,
    shared: dict[Any, Any],
    key: str,
    frames: Callable[[], Iterable[bytes]],
) -> None:
    """Write a list's frames in one call, joined once per ``shared`` dict under ``key``.

    The hub gives the members of a group one ``shared`` dict per batch, so the bytes are
    built once for all of them. Only for connections that :func:`shares_frames`.
    """
    blob: bytes | None = shared.get(key)
    if blob is None:
        blob = shared[key] = b"".join(frames())
    proto.transport.write(blob)
