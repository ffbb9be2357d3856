"""Letting go of a client's socket at once when herald ends its connection.

When herald cuts a client off (it fell too far behind, or the server stops), the reason is
written right after whatever the socket still holds, and then the socket must go: a client
that stopped reading would otherwise keep its server socket (and the buffered bytes) until
the kernel's own timeouts, a minute or more. :func:`release` gives the peer a short bounded
flush: each :data:`TICK` the write buffer must shrink, or the transport is aborted; once it
is empty the transport closes normally, so a client that reads gets everything, reason
included.

ASGI does not expose the transport of an HTTP request, so ``herald serve`` runs uvicorn with
:class:`HeraldHttpProtocol`, which puts it in the scope under :data:`SCOPE_KEY` (the
WebSocket side has :mod:`herald.delivery.direct`). Under another server the key is absent
and the transports fall back to ending the response or closing the WebSocket through ASGI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from websockets.protocol import State

from herald.delivery.direct import HeraldWebSocketProtocol, is_open, text_frame, write

SCOPE_KEY = "herald.transport"
#: The peer must take some of the buffered bytes in every tick, or the socket is aborted.
TICK = 2.0
#: However steadily a cut-off client reads, its socket is gone after this long.
LIMIT = 6.0


class HeraldHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with each request's transport reachable from its scope."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        scope: Any = self.scope
        scope[SCOPE_KEY] = self.transport


def transport_of(scope: Mapping[str, Any] | None) -> asyncio.Transport | None:
    transport = scope.get(SCOPE_KEY) if scope is not None else None
    return transport if isinstance(transport, asyncio.Transport) else None


def release(
    transport: asyncio.Transport,
    *,
    done: Callable[[], bool] = lambda: True,
    tick: float = TICK,
    limit: float = LIMIT,
) -> None:
    """Close ``transport`` once its buffer is written and ``done()``; abort it if it stalls.

    ``done`` says that nothing more will be written (an SSE response may still be writing
    its closing event). Never waits: a timer on the event loop does the watching.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    last = transport.get_write_buffer_size()

    def check() -> None:
        nonlocal last
        if transport.is_closing() and transport.get_write_buffer_size() == 0:
            return  # closed, or closing with nothing left to write
        size = transport.get_write_buffer_size()
        finished = done()
        if size == 0 and finished:
            transport.close()
            return
        stalled = size > 0 and size >= last
        if stalled or loop.time() >= deadline:
            transport.abort()
            return
        last = size
        loop.call_later(tick, check)

    loop.call_later(tick if last else 0, check)


def close_websocket(
    proto: HeraldWebSocketProtocol, code: int, reason: str, before: Iterable[bytes] = ()
) -> bool:
    """Write the text messages ``before``, then a close frame, straight to the socket.

    It does not wait for the socket's buffer to drain (ASGI's ``send`` would, for ever, on a
    peer that stopped reading); :func:`release` then lets go of the socket. ``False`` when
    the connection was already closed or closing.
    """
    conn = proto.conn
    if proto.disconnected or proto.close_sent or conn.state is not State.OPEN:
        return False
    for data in before:
        conn.send_text(data)
    conn.send_close(code, reason)
    proto.transport.write(b"".join(conn.data_to_send()))
    proto.close_sent = True
    proto.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
    if proto.read_paused:
        proto.read_paused = False
        proto.transport.resume_reading()
    release(proto.transport)
    return True


def sio_notice(proto: Any, queued: bool, event: str, notice: dict[str, Any]) -> bool:
    """Write ``42[event, notice]`` and the namespace disconnect ``41`` straight to a Socket.IO
    client's WebSocket, right behind what it holds (Engine.IO's queue would wait for a
    socket that drains, which a stalled client's never does). ``False`` when the client's
    events go through that queue (``queued``: they must not be overtaken) or it has no
    open WebSocket: then the notice has to be queued.
    """
    if queued or not isinstance(proto, HeraldWebSocketProtocol) or not is_open(proto):
        return False
    packet = b'42["' + event.encode() + b'",' + orjson.dumps(notice) + b"]"
    for data in (packet, b"41"):
        write(proto, text_frame(data), data)
    return True


def let_go(proto: Any) -> None:
    """:func:`release` the WebSocket behind ``proto``, if there is one."""
    if isinstance(proto, HeraldWebSocketProtocol):
        release(proto.transport)
