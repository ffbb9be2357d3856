"""Malformed Socket.IO input ends the connection cleanly and frees it at once."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from delivery_helpers import Server, append, tweet, wait_for
from websockets.asyncio.client import ClientConnection

pytestmark = pytest.mark.timeout(30)


async def connected(server: Server) -> ClientConnection:
    url = server.ws_url.replace("/ws", "/socket.io/?EIO=4&transport=websocket")
    ws = await websockets.connect(url)
    assert str(await asyncio.wait_for(ws.recv(), 5)).startswith("0{")
    await ws.send("40")
    assert str(await asyncio.wait_for(ws.recv(), 5)).startswith("40{")
    await wait_for(lambda: server.delivery.connected_clients()["socketio"] == 1)
    return ws


async def closed_by_server(ws: ClientConnection) -> None:
    """Read until the server closes; event frames may come first."""
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 5)


async def test_an_empty_frame_closes_and_frees_the_client(server: Server) -> None:
    ws = await connected(server)
    await ws.send("")
    await closed_by_server(ws)
    await wait_for(lambda: server.delivery.connected_clients()["socketio"] == 0, timeout=5)
    assert len(server.delivery.ctx.connections) == 0


@pytest.mark.parametrize("event", ['["disconnect","x"]', '["connect",{"HTTP_X":1},{}]'])
async def test_a_client_cannot_emit_the_servers_own_events(server: Server, event: str) -> None:
    """Before, ``disconnect`` ran the server's handler: delivery stopped while the socket
    stayed open; ``connect`` re-ran the handshake with an environ the client made up."""
    ws = await connected(server)
    await ws.send("42" + event)
    await append(server.redis, server.keys, [tweet(1)])
    await closed_by_server(ws)
    await wait_for(lambda: server.delivery.connected_clients()["socketio"] == 0, timeout=5)
    assert len(server.delivery.ctx.connections) == 0
