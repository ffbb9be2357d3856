"""A minimal WebSocket client protocol, cheap enough that the clients never set the pace.

python-socketio's AsyncClient (and even ``websockets``) spend more CPU per message than
the servers under test, so a load client built on them would measure itself. This one
parses unmasked server frames by hand and speaks just enough of three dialects:

- ``eio``: Engine.IO 4 / Socket.IO 5 over WebSocket (answers ``40``, pongs ``2``, counts
  ``42[...]`` events, resolves ``43`` acks);
- ``ws``: herald's ``/ws`` (sends ``events:stream:v1:requested``, counts ``...:stream``);
- ``raw``: every text frame is an event (the bare ``websockets.broadcast`` peer).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import struct
import time
from collections.abc import Callable
from typing import Any, cast

WS_REQUESTED = "events:stream:v1:requested"
WS_STREAM = b'{"type":"events:stream:v1:stream"'
EventHook = Callable[["WsConn", bytes, float], None]


def _frame(payload: bytes, opcode: int = 1) -> bytes:
    """A client frame, masked with an all-zero key (so the payload goes as it is)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + b"\0\0\0\0" + payload


class WsConn(asyncio.Protocol):
    """One client connection. ``on_event`` sees every event frame with its receive time."""

    def __init__(
        self, host: str, path: str, kind: str, on_event: EventHook, since: str | None = None
    ) -> None:
        self.host, self.path, self.kind = host, path, kind
        self.ws_payload: dict[str, Any] = {} if since is None else {"since": since}
        self.started: Any = None
        self.on_event = on_event
        self.transport: asyncio.Transport | None = None
        self.ready = asyncio.get_running_loop().create_future()
        self.closed = False
        self.cut = False
        self.received = 0
        self._buf = b""
        self._upgraded = False
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_ack = 0

    # --- transport callbacks -----------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before ready"))
        for fut in self._acks.values():
            if not fut.done():
                fut.set_exception(ConnectionError("closed"))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self._buf + data if self._buf else data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self._buf = buf
                return
            if b" 101 " not in buf[:20]:
                self._fail(f"upgrade refused: {buf[:40]!r}")
                return
            self._upgraded = True
            buf = buf[end + 4 :]
            if self.kind == "ws":
                self.send_json({"type": WS_REQUESTED, "id": "bench", "payload": self.ws_payload})
            elif self.kind == "raw" and not self.ready.done():
                self.ready.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n, head = b1 & 0x7F, 2
            if n == 126:
                if size - pos < 4:
                    break
                n, head = struct.unpack_from("!H", buf, pos + 2)[0], 4
            elif n == 127:
                if size - pos < 10:
                    break
                n, head = struct.unpack_from("!Q", buf, pos + 2)[0], 10
            if size - pos < head + n:
                break
            payload = buf[pos + head : pos + head + n]
            pos += head + n
            self._on_frame(b0 & 0x0F, payload, now)
        self._buf = buf[pos:]

    # --- messages ----------------------------------------------------------------
    def _on_frame(self, opcode: int, payload: bytes, now: float) -> None:
        if opcode == 9:  # ping
            self._write(_frame(payload, 10))
            return
        if opcode == 8:
            self.closed = True
            if self.transport is not None:
                self.transport.close()
            return
        if opcode not in (1, 2):
            return
        if self.kind == "eio":
            self._on_eio(payload, now)
        elif self.kind == "ws":
            if payload.startswith(WS_STREAM):
                self.received += 1
                self.on_event(self, payload, now)
            elif not self.ready.done() and b"events:stream:v1:started" in payload[:40]:
                self.started = json.loads(payload).get("payload")
                self.ready.set_result(None)
        else:
            self.received += 1
            self.on_event(self, payload, now)

    def _on_eio(self, payload: bytes, now: float) -> None:
        head = payload[:2]
        if head == b"42":
            if payload.startswith(b'42["herald:disconnect"'):
                self.cut = True
                return
            self.received += 1
            self.on_event(self, payload, now)
        elif payload == b"2":
            self._write(_frame(b"3"))
        elif head == b"43":
            body = payload[2:]
            i = 0
            while i < len(body) and body[i : i + 1].isdigit():
                i += 1
            fut = self._acks.pop(int(body[:i]), None)
            if fut is not None and not fut.done():
                fut.set_result(json.loads(body[i:]))
        elif head == b"40":
            if not self.ready.done():
                self.ready.set_result(None)
        elif payload[:1] == b"0":
            self._write(_frame(b"40"))
        elif head == b"41" or head == b"44":
            self.cut = True
            if not self.ready.done():
                self._fail(f"refused: {payload[:80]!r}")

    # --- sending -----------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.close()

    def send_json(self, message: Any) -> None:
        self._write(_frame(json.dumps(message).encode()))

    def emit(self, event: str, data: Any) -> asyncio.Future[Any]:
        """Socket.IO emit with an ack; the future resolves to the ack's arguments."""
        ack = self._next_ack
        self._next_ack += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack] = fut
        self._write(_frame(f"42{ack}".encode() + json.dumps([event, data]).encode()))
        return fut

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"\x88\x82\0\0\0\0\x03\xe8")
            self.transport.close()


async def connect(
    url: str, kind: str, on_event: EventHook, timeout: float = 30.0, since: str | None = None
) -> WsConn:
    """Open one connection (``ws://host:port/path``) and wait until it is ready.

    ``since`` is the ``/ws`` subscription's resume offset (Socket.IO resumes with ``emit``).
    """
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    loop = asyncio.get_running_loop()
    _, conn = await asyncio.wait_for(
        loop.create_connection(
            lambda: WsConn(hostport, "/" + path, kind, on_event, since), host, int(port or 80)
        ),
        timeout,
    )
    await asyncio.wait_for(asyncio.shield(conn.ready), timeout)
    return conn


def endpoint(base: str, kind: str) -> str:
    """The WebSocket URL of a transport on a server at ``base`` (``http://host:port``)."""
    ws = base.replace("http://", "ws://")
    if kind == "eio":
        return ws + "/socket.io/?EIO=4&transport=websocket"
    if kind == "ws":
        return ws + "/ws"
    return ws + "/"


_FIELDS: dict[bytes, re.Pattern[bytes]] = {}


def field_float(payload: bytes, name: bytes) -> float | None:
    """A number field of an event payload, without parsing the JSON (the load clients'
    CPU is part of what a latency figure measures, so this stays in C)."""
    pattern = _FIELDS.get(name)
    if pattern is None:
        pattern = _FIELDS[name] = re.compile(b'"' + re.escape(name) + rb'":(-?[0-9.eE+-]+)')
    found = pattern.search(payload)
    return float(found.group(1)) if found else None
