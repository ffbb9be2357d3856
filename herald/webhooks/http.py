"""A small HTTP/1.1 client for webhook POSTs: one keep-alive connection per endpoint.

Why not httpx or aiohttp: a delivery is one small POST on a warm connection, thousands a
second, and both spend several times the CPU of the request itself on generality herald
does not use here (see the webhooks section of docs/benchmarks.md). This client does only
what a delivery needs, on asyncio streams:

- the request (line, headers, body) in one write; TLS through asyncio with SNI and
  certificate checks against the URL's host name, whatever address it connects to;
- the answer's status and headers (at most 64 KiB of them), then at most ``cap`` bytes of
  its body (``Content-Length``, chunked, or until the connection closes); a body over the
  cap is dropped with the connection;
- a connection the server closed while idle is replaced once, when no byte of the answer
  was read (the request cannot have been processed... except by a server that read it and
  closed without answering: the resend then carries the same ``webhook-id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass

MAX_HEAD = 64 * 1024


class HttpError(Exception):
    """The exchange failed; the message names how (never the URL)."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    size: int
    truncated: bool


class Connection:
    """A keep-alive connection to one address (reopened as needed)."""

    def __init__(self) -> None:
        self._key: tuple[str, int, str | None] | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tls: ssl.SSLContext | None = None

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        writer, self._writer, self._reader, self._key = self._writer, None, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    async def _open(self, address: str, port: int, tls_host: str | None, timeout: float) -> None:
        await self.close()
        context = None
        if tls_host is not None:
            if self._tls is None:
                self._tls = ssl.create_default_context()
            context = self._tls
        try:
            async with asyncio.timeout(timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    address,
                    port,
                    ssl=context,
                    server_hostname=tls_host,
                    limit=MAX_HEAD,
                )
        except TimeoutError:
            raise HttpError(f"connect timed out after {timeout:g}s") from None
        except ssl.SSLError as exc:
            raise HttpError(f"TLS failed: {exc.reason or 'handshake'}") from None
        except OSError as exc:
            raise HttpError(exc.strerror or "cannot connect") from None
        self._key = (address, port, tls_host)

    async def post(
        self,
        address: str,
        port: int,
        tls_host: str | None,
        request: bytes,
        *,
        connect_timeout: float,
        cap: int,
    ) -> Answer:
        """Send ``request`` (a whole HTTP/1.1 request) and read the answer."""
        reused = self._key == (address, port, tls_host) and self._writer is not None
        if not reused:
            await self._open(address, port, tls_host, connect_timeout)
        try:
            return await self._exchange(request, cap)
        except _Stale:
            if not reused:
                await self.close()
                raise HttpError("the server closed the connection without answering") from None
        await self._open(address, port, tls_host, connect_timeout)
        try:
            return await self._exchange(request, cap)
        except _Stale:
            await self.close()
            raise HttpError("the server closed the connection without answering") from None

    async def _exchange(self, request: bytes, cap: int) -> Answer:
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        answered = False
        try:
            writer.write(request)
            await writer.drain()
            answered = False
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as exc:
                    if not exc.partial:
                        raise _Stale() from None
                    raise HttpError("the answer ended inside its headers") from None
                except asyncio.LimitOverrunError:
                    raise HttpError(f"the answer's headers are over {MAX_HEAD} bytes") from None
                answered = True
                status, headers, keep = _parse_head(head)
                if status >= 200:
                    break
            if status in (204, 304):
                size, truncated, complete = 0, False, True
            else:
                size, truncated, complete = await _body(reader, headers, cap)
        except (asyncio.IncompleteReadError, ValueError, asyncio.LimitOverrunError):
            await self.close()
            raise HttpError("the answer ended early or is malformed") from None
        except (ConnectionError, ssl.SSLError) as exc:
            await self.close()
            if isinstance(exc, ConnectionResetError | BrokenPipeError) and not answered:
                raise _Stale() from None
            raise HttpError(type(exc).__name__) from None
        except BaseException:
            await self.close()  # timed out or cancelled mid-exchange: the connection is unusable
            raise
        if truncated or not complete or not keep:
            await self.close()
        return Answer(status, headers, size, truncated)


class _Stale(Exception):
    """The reused connection was closed before any byte of the answer arrived."""


def _parse_head(head: bytes) -> tuple[int, dict[str, str], bool]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError("not an HTTP/1.x answer")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = parts[0] != "HTTP/1.0" and headers.get("connection", "").lower() != "close"
    return int(parts[1]), headers, keep


async def _body(
    reader: asyncio.StreamReader, headers: dict[str, str], cap: int
) -> tuple[int, bool, bool]:
    """Read at most ``cap`` bytes of the body: (bytes read, truncated, fully read)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        size = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            length = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if length == 0:
                await reader.readuntil(b"\r\n")  # the (empty) trailer
                return size, False, True
            if size + length > cap:
                return size, True, False
            await reader.readexactly(length + 2)
            size += length
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit():
        length = int(declared)
        if length > cap:
            return 0, True, False
        await reader.readexactly(length)
        return length, False, True
    data = await reader.read(cap + 1)  # delimited by the close
    size = len(data)
    while data and size <= cap:
        data = await reader.read(cap + 1 - size)
        size += len(data)
    return min(size, cap), size > cap, False
