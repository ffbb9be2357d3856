"""Malformed Engine.IO and Socket.IO packets end their connection cleanly, in one log line.

python-engineio parses a WebSocket frame outside its error handling: an empty frame kills
the connection's handler without the disconnect that frees the client (its slot and hub
membership stayed until the ping timeout). python-socketio logs a full traceback for every
packet it cannot decode, so a client could flood the server's log. :func:`check_frame`
refuses such a frame before Engine.IO parses it (the connection then closes as if the
client had gone), and :func:`install` turns a Socket.IO decoding error into a server-side
disconnect and one log line, rate-limited (:data:`herald.delivery.sioserver.MALFORMED`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from herald.delivery.sioserver import MALFORMED as MALFORMED_LOG

log = logging.getLogger(__name__)

#: Engine.IO v4 packet types: open, close, ping, pong, message, upgrade, noop.
_TYPES = frozenset("0123456")
#: Socket.IO packet types that carry an event: EVENT and BINARY_EVENT.
_EVENTS = frozenset("25")
#: What python-socketio raises on a packet it cannot decode.
MALFORMED = (ValueError, KeyError, IndexError, TypeError, AttributeError)


def check_frame(data: Any) -> Any:
    """``data`` when it can be an Engine.IO packet; ``OSError`` (a closed socket) if not."""
    if isinstance(data, bytes) and data:
        return data
    if isinstance(data, str) and data and data[0] in _TYPES:
        return data
    raise OSError("malformed Engine.IO packet")


def _check_event(sio: socketio.AsyncServer, data: str) -> None:
    """An event's name must be a string, and not one the server raises itself: a client
    emitting ``disconnect`` would otherwise run the server's disconnect handler (and free
    its connection slot) while its socket stays open."""
    pkt = sio.packet_class(encoded_packet=data)
    args = pkt.data
    if not isinstance(args, list) or not args or not isinstance(args[0], str):
        raise ValueError("an event must be a list starting with its name")
    if args[0] in sio.reserved_events:
        raise ValueError(f"a client may not emit {args[0]!r}")


def install(sio: socketio.AsyncServer) -> None:
    """Wrap Engine.IO's ``message`` handler of ``sio`` so a bad packet closes its client."""
    eio: Any = sio.eio
    handle: Callable[[str, Any], Awaitable[None]] = eio.handlers["message"]

    async def guarded(eio_sid: str, data: Any) -> None:
        try:
            if isinstance(data, str) and data[:1] in _EVENTS:
                _check_event(sio, data)
            await handle(eio_sid, data)
        except MALFORMED as exc:
            reason = f"{type(exc).__name__}: {exc}"[:100]
            MALFORMED_LOG.warning("malformed Socket.IO packet (%s); closing the connection", reason)
            await eio.disconnect(eio_sid)

    eio.on("message", guarded)
