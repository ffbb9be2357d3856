"""Socket.IO refuses a packet larger than herald's message limit before buffering it."""

from __future__ import annotations

import asyncio
import struct

import pytest
from delivery_helpers import Server, StalledWebSocket

pytestmark = pytest.mark.timeout(60)

SIXTEEN_MB = 16 * 1024 * 1024


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_a_16_mb_packet_is_refused_early_with_a_reason(server: Server) -> None:
    ws = StalledWebSocket(server.url, "/socket.io/?EIO=4&transport=websocket")
    await ws.open()
    loop = asyncio.get_running_loop()
    before = rss_bytes()
    # One text frame announcing 16 MB, sent in 64 KiB chunks of one reused buffer, so the
    # only copy of the packet the server could hold is its own.
    header = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", SIXTEEN_MB) + bytes(4)
    chunk = b"4" * 65536
    try:
        await loop.sock_sendall(ws.sock, header)
        for _ in range(SIXTEEN_MB // len(chunk)):
            await loop.sock_sendall(ws.sock, chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused before all of it was sent: what should happen
    try:
        code, reason = await ws.read_until_close()
    except ConnectionError:
        code, reason = 1006, ""
    finally:
        ws.close()
    grown = rss_bytes() - before
    if server.direct_writes:
        # herald's own WebSocket protocol refuses the frame from its header.
        assert code == 1009, (code, reason)
        assert "limit" in reason or "too big" in reason, reason
        assert grown < 4 * 1024 * 1024, f"server grew by {grown / 1e6:.1f} MB"
    else:
        # Under uvicorn's stock protocol, Engine.IO refuses it once read.
        assert code in (1000, 1006, 1009, 1011), (code, reason)
