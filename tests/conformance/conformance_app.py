"""The server the Socket.IO protocol suite expects, on herald's own Socket.IO stack.

Its Readme: port 3000, ``pingInterval`` 300 ms, ``pingTimeout`` 200 ms, ``maxPayload``
1e6, an ``auth`` event echoing the handshake's auth on connect, ``message`` echoed as
``message-back`` and ``message-with-ack`` acknowledged with its arguments, on ``/`` and
``/custom``. A test app only: herald's production routes stay as they are.
"""

from __future__ import annotations

from typing import Any

import socketio

from herald.delivery.sioserver import HeraldSocketServer


def conformance_app() -> Any:
    auths: dict[tuple[str, str], Any] = {}

    async def after_connect(sid: str, namespace: str) -> None:
        # Emitted once the CONNECT packet is out: nothing goes before it.
        auth = auths.pop((sid, namespace), None)
        await sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=namespace)

    sio = HeraldSocketServer(
        after_connect=after_connect,
        async_mode="asgi",
        cors_allowed_origins="*",
        ping_interval=0.3,
        ping_timeout=0.2,
        max_http_buffer_size=1_000_000,
    )
    for namespace in ("/", "/custom"):

        async def connect(sid: str, environ: Any, auth: Any = None, ns: str = namespace) -> None:
            auths[(sid, ns)] = auth

        async def message(sid: str, *args: Any, ns: str = namespace) -> None:
            await sio.emit("message-back", tuple(args), to=sid, namespace=ns)

        async def message_with_ack(sid: str, *args: Any) -> Any:
            return tuple(args)

        sio.on("connect", connect, namespace=namespace)
        sio.on("message", message, namespace=namespace)
        sio.on("message-with-ack", message_with_ack, namespace=namespace)
    return socketio.ASGIApp(sio, socketio_path="socket.io")
