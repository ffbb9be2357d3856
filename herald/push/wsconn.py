"""One WebSocket client connection as a :class:`~herald.push.base.PushConnection`.

Built on ``websockets``' asyncio client. It maps every way a connection can fail to the
``SourceError`` kinds users see in ``stream:error`` (unreachable, TLS, refused handshake,
closed, too large), so push sources never let a library exception escape.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    PayloadTooBig,
)

from herald.errors import SourceError
from herald.push.base import Frame, PushStream

Updater = Callable[["WebSocketConnection", Sequence[PushStream]], Any]
"""Applies a new stream set in place (sends a message); returns True when it did."""


class PushConnectionError(SourceError):
    """The upstream connection could not be opened or was lost. ``kind`` says how:
    ``unreachable``, ``tls_error``, ``refused``, ``bad_url``, ``closed``, ``too_large``."""

    code = "connection_error"

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class WebSocketConnection:
    """A connected socket; :meth:`recv` returns frames, :meth:`send_json` sends messages."""

    def __init__(self, ws: ClientConnection, url: str, updater: Updater | None = None) -> None:
        self._ws = ws
        self.url = url
        self._updater = updater

    async def recv(self) -> Frame:
        try:
            data = await self._ws.recv()
        except PayloadTooBig as exc:
            raise PushConnectionError(
                "too_large", f"a frame exceeded the size cap ({exc})"
            ) from None
        except ConnectionClosed as exc:
            if isinstance(exc.__cause__, PayloadTooBig):  # websockets closes with 1009 first
                raise PushConnectionError(
                    "too_large", f"a frame exceeded the size cap ({exc.__cause__})"
                ) from None
            raise PushConnectionError(
                "closed", f"the upstream closed the connection ({exc})"
            ) from None
        except OSError as exc:
            raise PushConnectionError("closed", f"{type(exc).__name__}: {exc}") from None
        return Frame(data, time.time())

    async def send_json(self, message: Mapping[str, Any] | Sequence[Any]) -> None:
        try:
            await self._ws.send(orjson.dumps(message).decode())
        except (ConnectionClosed, OSError) as exc:
            raise PushConnectionError("closed", f"could not send ({type(exc).__name__})") from None

    async def send_text(self, text: str) -> None:
        try:
            await self._ws.send(text)
        except (ConnectionClosed, OSError) as exc:
            raise PushConnectionError("closed", f"could not send ({type(exc).__name__})") from None

    async def update(self, streams: Sequence[PushStream]) -> bool:
        if self._updater is None:
            return False
        return bool(await self._updater(self, streams))

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken socket: nothing left to do
            await self._ws.close()


async def open_websocket(
    url: str,
    *,
    max_frame_bytes: int = 1 << 20,
    ping_interval: float | None = 20.0,
    open_timeout: float = 10.0,
    headers: Mapping[str, str] | None = None,
    updater: Updater | None = None,
) -> WebSocketConnection:
    """Connect, or raise :class:`PushConnectionError` whose ``kind`` says what went wrong."""
    try:
        ws = await connect(
            url,
            max_size=max_frame_bytes,
            ping_interval=ping_interval,
            ping_timeout=ping_interval,
            open_timeout=open_timeout,
            additional_headers=dict(headers or {}),
            # frames are read one at a time by the runtime's reader: a bounded queue here
            # is what slows the upstream when herald cannot keep up (TCP backpressure)
            max_queue=64,
            compression=None,
        )
    except InvalidURI as exc:
        raise PushConnectionError("bad_url", f"{exc}") from None
    except ssl.SSLError as exc:
        raise PushConnectionError("tls_error", f"{exc.reason or exc}") from None
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise PushConnectionError("refused", f"the upstream answered HTTP {status}") from None
    except InvalidHandshake as exc:
        raise PushConnectionError("refused", f"bad WebSocket handshake ({exc})") from None
    except TimeoutError:
        raise PushConnectionError("unreachable", f"no answer within {open_timeout:g} s") from None
    except OSError as exc:
        raise PushConnectionError("unreachable", f"{exc.strerror or exc}") from None
    return WebSocketConnection(ws, url, updater)
