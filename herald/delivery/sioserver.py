"""python-socketio's server with what herald needs from the Socket.IO protocol.

python-socketio 5.18 has no hook for what happens around the ``CONNECT`` packet, so this
subclass takes over three of its handlers (its private API; the version is pinned):

- **Connect.** The connect handler may return a dict of extra ``CONNECT`` fields (the
  recovery ``pid``); ``after_connect`` runs once the ``CONNECT`` packet is queued, so a
  transport starts delivery only behind it. An unknown namespace gets the protocol's
  ``{"message": "Invalid namespace"}``.
- **Malformed packets**, and events for a namespace the client is not connected to, close
  the connection (as socket.io's server does) with one log line, rate-limited, instead of
  a traceback per packet or a call that is never answered.
- **Unknown events** called with an ack get an ``{error: "unknown_event", detail}`` ack
  instead of a silence the caller can only time out on.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import engineio.exceptions
import engineio.packet
import socketio
from socketio import packet as sio_packet

log = logging.getLogger(__name__)

AfterConnect = Callable[[str, str], Awaitable[None]]

#: At most one "malformed packet" line per this many seconds (the rest are counted).
MALFORMED_LOG_INTERVAL = 10.0


class ThrottledLog:
    """One warning per interval; what was held back is counted into the next line."""

    def __init__(self, logger: logging.Logger, interval: float) -> None:
        self.logger = logger
        self.interval = interval
        self._last = -interval
        self._held = 0

    def warning(self, msg: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            self._held += 1
            return
        held, self._held, self._last = self._held, 0, now
        suffix = f" ({held} more since the last report)" if held else ""
        self.logger.warning(msg + suffix, *args)


MALFORMED = ThrottledLog(log, MALFORMED_LOG_INTERVAL)


def describe(exc: BaseException) -> str:
    """A short, single-line reason (never the packet itself: it may be huge or hostile)."""
    return f"{type(exc).__name__}: {str(exc)[:80]}".replace("\n", " ")


async def _guarded_receive(sock: Any, receive: Callable[[Any], Awaitable[None]], pkt: Any) -> None:
    """Engine.IO's ``receive``: a malformed packet closes the session with one log line."""
    try:
        await receive(pkt)
    except engineio.exceptions.EngineIOError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        MALFORMED.warning("malformed Engine.IO packet; closing the connection: %s", describe(exc))
        await sock.close(wait=False, abort=True)
        raise engineio.exceptions.SocketIsClosedError() from exc


class HeraldSocketServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, *, after_connect: AfterConnect | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.after_connect = after_connect

    def _serves(self, namespace: str) -> bool:
        return bool(
            namespace in self.handlers
            or namespace in self.namespace_handlers
            or self.namespaces == "*"
            or (self.namespaces and namespace in self.namespaces)
        )

    async def _connect_error(self, eio_sid: str, namespace: str, data: Any) -> None:
        await self._send_packet(
            eio_sid, self.packet_class(sio_packet.CONNECT_ERROR, data=data, namespace=namespace)
        )

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        namespace = namespace or "/"
        if not self._serves(namespace):
            await self._connect_error(eio_sid, namespace, {"message": "Invalid namespace"})
            return
        sid = await self.manager.pre_connect(eio_sid, namespace)
        if sid is None:
            await self._connect_error(eio_sid, namespace, {"message": "Already connected"})
            return
        try:
            result = await self._trigger_event(
                "connect", namespace, sid, self.environ[eio_sid], data
            )
        except socketio.exceptions.ConnectionRefusedError as exc:
            result, reason = False, exc.error_args
        else:
            reason = {"message": "Connection refused by server"}
        if result is False:
            await self._connect_error(eio_sid, namespace, reason)
            await self.manager.disconnect(sid, namespace, ignore_queue=True)
            return
        extra = result if isinstance(result, dict) else {}
        await self._send_packet(
            eio_sid,
            self.packet_class(sio_packet.CONNECT, {**extra, "sid": sid}, namespace=namespace),
        )
        await self.manager.connect(sid, namespace)
        if self.after_connect is not None:
            await self.after_connect(sid, namespace)

    async def _handle_eio_connect(self, eio_sid: str, environ: Any) -> Any:
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None:
            sock.receive = functools.partial(_guarded_receive, sock, sock.receive)
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        await super()._handle_eio_disconnect(eio_sid, reason)
        # Engine.IO leaves a pending long-poll hanging until its ping timeout, so a closing
        # polling client would wait half a minute: answer it now.
        # A NOOP answers it, as the Engine.IO protocol asks; ``None`` ends the socket's queue.
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None:
            sock.queue.put_nowait(engineio.packet.Packet(engineio.packet.NOOP))
            sock.queue.put_nowait(None)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            self._binary_packet.pop(eio_sid, None)
            MALFORMED.warning(
                "malformed Socket.IO packet; closing the connection: %s", describe(exc)
            )
            await self.eio.disconnect(eio_sid)

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:
        # As socket.io's own server does: a packet for a namespace the client is not
        # connected to (it left with ``41``, or never joined) ends the connection, instead
        # of a call that would never be answered.
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None or not self.manager.is_connected(sid, namespace):
            MALFORMED.warning(
                "Socket.IO event outside a connected namespace; closing the connection"
            )
            await self.eio.disconnect(eio_sid)
            return
        await super()._handle_event(eio_sid, namespace, id, data)

    async def _trigger_event(self, event: Any, namespace: str, *args: Any) -> Any:
        ret = await super()._trigger_event(event, namespace, *args)
        if ret is self.not_handled and event not in self.reserved_events:
            name = str(event)[:64]
            return {"error": "unknown_event", "detail": f"no handler for event {name!r}"}
        return ret
