"""``/ws`` refuses a message above herald's limit as its header arrives: 20 clients sending
16 MiB frames in parallel get close 1009 and the server's memory hardly moves."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from served import serve_subprocess

pytestmark = pytest.mark.timeout(90)

CLIENTS = 20
FRAME = 16 * 1024 * 1024
CHUNK = 64 * 1024


async def _exactly(sock: socket.socket, n: int) -> bytes:
    loop = asyncio.get_running_loop()
    data = b""
    while len(data) < n:
        chunk = await loop.sock_recv(sock, n - len(data))
        if not chunk:
            raise ConnectionError("closed before the close frame")
        data += chunk
    return data


async def _close_frame(sock: socket.socket) -> tuple[int, str]:
    """Read server frames until the close frame; its code and reason."""
    while True:
        b0, b1 = await _exactly(sock, 2)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await _exactly(sock, 2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await _exactly(sock, 8))
        payload = await _exactly(sock, n)
        if b0 & 0x0F == 0x8:
            return struct.unpack("!H", payload[:2])[0], payload[2:].decode()


async def oversized_frame(port: int) -> tuple[int, str]:
    """Open ``/ws`` unauthenticated and send one 16 MiB text frame while reading replies."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        await loop.sock_sendall(
            sock,
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode(),
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += await _exactly(sock, 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        reply = asyncio.create_task(_close_frame(sock))

        async def send_frame() -> None:
            header = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", FRAME) + os.urandom(4)
            await loop.sock_sendall(sock, header)
            chunk = b"a" * CHUNK
            for _ in range(FRAME // CHUNK):
                if reply.done():
                    return
                await loop.sock_sendall(sock, chunk)

        sender = asyncio.create_task(send_frame())
        try:
            return await asyncio.wait_for(asyncio.shield(reply), 30)
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
    finally:
        sock.close()


async def test_parallel_oversized_frames_are_closed_with_1009(
    external_redis: aioredis.Redis, key_prefix: str, tmp_path: Path
) -> None:
    async with serve_subprocess(key_prefix, tmp_path / "serve.log") as server:
        before = server.rss()
        closes = await asyncio.gather(*(oversized_frame(server.port) for _ in range(CLIENTS)))
        grown = server.rss() - before
        for code, reason in closes:
            assert code == 1009, (code, reason)
            assert "exceeds limit of 65536 bytes" in reason, reason
        # 20 x 16 MiB would be 320 MiB read into memory; refused at the header it is ~nothing.
        assert grown < 40 * 2**20, f"server RSS grew by {grown / 2**20:.0f} MiB"
        assert await server.healthy()
