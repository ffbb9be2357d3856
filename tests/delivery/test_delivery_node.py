"""The npm socket.io-client, running the seed's snippet: events arrive without subscribing."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import orjson
import pytest
from delivery_helpers import Server, append_n

from tests.conftest import need

pytestmark = [pytest.mark.node, pytest.mark.timeout(60)]

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


async def test_npm_socketio_client_receives_events_without_subscribing(server: Server) -> None:
    node = shutil.which("node")
    need(node is not None, "node not installed")
    need(
        (NODE_DIR / "node_modules" / "socket.io-client").is_dir(),
        "tests/node/node_modules missing (run `make node-deps`)",
    )
    assert node is not None
    proc = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "compat_client.mjs"),
        server.url,
        "5",
        stdout=asyncio.subprocess.PIPE,
        cwd=NODE_DIR,
    )
    assert proc.stdout is not None
    try:
        first = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert first.strip() == b"connected"
        offsets = await append_n(server.redis, server.keys, 5)
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    events = [orjson.loads(line) for line in out.splitlines() if line.strip()]
    assert [e["offset"] for e in events] == offsets
    assert events[0]["type"] == "stream:tweet:new"
    assert events[0]["tweet"]["text"] == "tweet number 0"
