"""Presence: ``GET /api/presence`` counts the live clients of every node on one store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
import websockets

from herald.delivery.presence import Presence
from herald.sources.memory import MemorySource
from herald.store.memory import MemoryPresence
from tests.dashboard.dash_support import DashServer, make_settings
from tests.waiting import wait_until


@pytest.fixture
async def nodes(external_redis: aioredis.Redis, key_prefix: str) -> AsyncIterator[list[DashServer]]:
    """Two server nodes sharing one Redis prefix, reporting presence every 0.2 s."""
    servers = [
        DashServer(make_settings(key_prefix, presence_interval=0.2), MemorySource())
        for _ in range(2)
    ]
    try:
        for server in servers:
            await server.start()
        yield servers
    finally:
        for server in servers:
            await server.stop()


async def presence(node: DashServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=node.url, timeout=10) as client:
        response = await client.get("/api/presence")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ws_url(node: DashServer) -> str:
    return node.url.replace("http://", "ws://") + "/ws"


async def _watching(node: DashServer, count: int, nodes: int | None = None) -> bool:
    body = await presence(node)
    return body["watching"] == count and (nodes is None or body["nodes"] == nodes)


async def test_clients_on_every_node_are_counted_and_leave(nodes: list[DashServer]) -> None:
    a, b = nodes
    await wait_until(lambda: _watching(a, 0, nodes=2), 10, what="both nodes reporting")
    first = await presence(a)
    assert first == {"watching": 0, "nodes": 2, "transports": first["transports"], "interval": 0.2}
    assert set(first["transports"]) == {"socketio", "ws", "sse"}
    async with websockets.connect(ws_url(a)), websockets.connect(ws_url(b)) as on_b:
        # Node A counts its own client at once and B's from B's last report.
        await wait_until(lambda: _watching(a, 2, nodes=2), 10, what="two watching, seen from A")
        await wait_until(lambda: _watching(b, 2), 10, what="two watching, seen from B")
        body = await presence(a)
        assert body["transports"]["ws"] == 2
        await on_b.close()
        await wait_until(lambda: _watching(a, 1), 10, what="B's client gone, seen from A")
        await b.stop()  # a clean stop leaves at once
        await wait_until(lambda: _watching(a, 1, nodes=1), 10, what="node B gone")
    await wait_until(lambda: _watching(a, 0, nodes=1), 10, what="nobody watching")


async def test_presence_answers_only_counts(nodes: list[DashServer]) -> None:
    async with websockets.connect(ws_url(nodes[0])):
        await wait_until(lambda: _watching(nodes[0], 1), 10, what="one watching")
        body = await presence(nodes[0])
    assert set(body) == {"watching", "nodes", "transports", "interval"}
    assert "127.0.0.1" not in str(body)  # who is connected is GET /api/connections' (admin)


async def test_a_node_reports_on_its_own_until_it_stops() -> None:
    store = MemoryPresence()
    counts = {"ws": 3}
    node = Presence(store, lambda: counts, interval=0.05, node="n1")
    other = Presence(store, lambda: {"ws": 1}, interval=60, node="n2")
    await node.start()
    try:
        await wait_until(lambda: _stored(store, {"n1": {"ws": 3}}), 5, what="the first report")
        counts = {"ws": 4}
        await wait_until(lambda: _stored(store, {"n1": {"ws": 4}}), 5, what="a later report")
        snap = await other.snapshot()
        assert snap == {"watching": 5, "nodes": 2, "transports": {"ws": 5}, "interval": 60}
        assert node.lease == pytest.approx(0.15)
    finally:
        await node.stop()
    assert await store.nodes() == {"n2": {"ws": 1}}


async def _stored(store: MemoryPresence, expected: dict[str, dict[str, int]]) -> bool:
    return await store.nodes() == expected
