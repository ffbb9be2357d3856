"""Serving a :class:`~herald.api.lifespan.HeraldApp` with uvicorn: the one stop path.

uvicorn alone re-raises SIGTERM and SIGINT once it has shut down, which kills the process
(exit 143) before anything after ``serve()`` runs, and it closes WebSockets with 1012 and
no reason. :class:`HeraldServer` makes both signals the same graceful stop: stop accepting,
tell every client why (``/ws`` 1001, Socket.IO ``herald:disconnect``, SSE's end), let
uvicorn finish the connections, then the app's lifespan stops the rest; the process then
exits normally.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import uvicorn

from herald.api.lifespan import HeraldApp
from herald.delivery.direct import uvicorn_options
from herald.errors import HeraldError

log = logging.getLogger("herald")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class HeraldServer(uvicorn.Server):
    """uvicorn's server with herald's stop: no re-raised signal, clients told first."""

    def __init__(
        self, config: uvicorn.Config, app: HeraldApp, on_ready: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self.app = app
        app.server_reports_errors = True  # startup() raises the app's error
        self._on_ready = on_ready

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Begin the graceful stop. A second signal does not force it: the stop is already
        bounded, and forcing it would skip stopping the embedded server."""
        if self.should_exit:
            log.warning("already stopping (%s ignored)", signal.Signals(sig).name)
            return
        log.info("%s: stopping", signal.Signals(sig).name)
        self.should_exit = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        except SystemExit:
            if self.app.startup_error is not None:  # say why, not just "exit 3"
                raise self.app.startup_error from None
            raise
        if self._on_ready is not None and not self.should_exit:
            self._on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in getattr(self, "servers", []):
            server.close()  # no new connections while clients are told to go
        await self.app.close_clients()
        await super().shutdown(sockets=sockets)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, bound before anything starts, so a taken port
    fails at once instead of after the storage and the engine have started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except (OSError, OverflowError) as exc:  # OverflowError: a port past 65535
        sock.close()
        reason = getattr(exc, "strerror", None) or exc
        raise HeraldError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def make_server(
    app: HeraldApp, on_ready: Callable[[], None] | None = None, **options: Any
) -> HeraldServer:
    """The server ``herald serve`` and the tests run: lifespan on, herald's WebSocket
    protocol (see :mod:`herald.delivery.direct`). Serve it with ``serve(sockets=[listen()])``."""
    settings: dict[str, Any] = {"log_level": "warning", **uvicorn_options(), **options}
    settings["lifespan"] = "on"
    return HeraldServer(uvicorn.Config(app, **settings), app, on_ready)
