"""Two API nodes and two workers on one Redis, polling the X stand-in: a client on node A
gets each event once though a worker attached to nothing but Redis polled it; when node A
stops, its client resumes on node B from its last offset."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
import socketio

from tests.conftest import EXTERNAL_REDIS_URL, REPO_ROOT
from tests.servers import free_port

pytestmark = pytest.mark.slow

HERALD = [sys.executable, "-m", "herald.cli"]


class Cluster:
    def __init__(self, prefix: str) -> None:
        self.fakex_port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "REDIS_"))}
        self.env.update(
            REDIS_URL=EXTERNAL_REDIS_URL,
            HERALD_REDIS_PREFIX=prefix,
            HERALD_X_BASE_URL=f"http://127.0.0.1:{self.fakex_port}",
            HERALD_SESSION_COOKIE="cluster-test-session",
            HERALD_MIN_INTERVAL="0.5",
            HERALD_POLL_TIMEOUT="3",
            HERALD_RECONCILE_INTERVAL="1",
        )
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str, *args: str) -> None:
        self.procs[name] = subprocess.Popen(
            [*HERALD, *args], cwd=REPO_ROOT, env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


async def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{url} did not come up"
            await asyncio.sleep(0.1)


@pytest.fixture
def cluster(key_prefix: str, external_redis: aioredis.Redis) -> Iterator[Cluster]:
    nodes = Cluster(key_prefix)
    yield nodes
    nodes.stop_all()


async def test_two_nodes_two_workers_exactly_once_and_resume_elsewhere(cluster: Cluster) -> None:
    port_a, port_b = free_port(), free_port()
    cluster.spawn("fakex", "fakex", "--port", str(cluster.fakex_port))
    cluster.spawn("a", "serve", "--no-worker", "--port", str(port_a))
    cluster.spawn("b", "serve", "--no-worker", "--port", str(port_b))
    cluster.spawn("w1", "worker")
    cluster.spawn("w2", "worker")
    fakex = f"http://127.0.0.1:{cluster.fakex_port}"
    node_a, node_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    for url in (f"{fakex}/_fakex/requests", f"{node_a}/api/health", f"{node_b}/api/health"):
        await wait_http(url)

    received: list[dict[str, Any]] = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("stream:tweet:new", received.append)
    await client.connect(node_a, transports=["websocket"])
    async with httpx.AsyncClient(timeout=10) as http:
        stream = (
            await http.post(
                f"{node_b}/api/streams/start",
                json={"type": "tweet", "username": "alice", "interval": 0.5},
            )
        ).json()
        sid = stream["id"]
        await until(lambda: polls(http, node_b, sid, 1))
        posted = [
            (await http.post(f"{fakex}/_fakex/users/alice/tweets", json={"text": f"t{i}"})).json()[
                "id"
            ]
            for i in range(3)
        ]
        await until(lambda: _count(received, 3))
        done = int((await http.get(f"{node_b}/api/streams/{sid}")).json()["polls"])
        await until(lambda: polls(http, node_b, sid, done + 2))  # more polls; none repeats
        posted.append(await _post(http, fakex, "sentinel"))  # arrives after any repeat would
        await until(lambda: _count(received, 4))
        assert [e["tweet"]["id"] for e in received] == posted
        last_offset = received[-1]["offset"]

        cluster.stop("a")  # node A goes away with its clients
        await until(lambda: _disconnected(client))
        later = [
            (
                await http.post(f"{fakex}/_fakex/users/alice/tweets", json={"text": f"late{i}"})
            ).json()["id"]
            for i in range(2)
        ]
        await until(lambda: history_has(http, node_b, sid, later))

        resumed: list[dict[str, Any]] = []
        other = socketio.AsyncClient(reconnection=False)
        other.on("stream:tweet:new", resumed.append)
        await other.connect(node_b, transports=["websocket"])
        ack = await other.call(
            "subscribe", {"streamIds": [sid], "types": ["stream:tweet:new"], "since": last_offset}
        )
        assert ack["recovered"] is True
        await until(lambda: _count(resumed, 2))
        later.append(await _post(http, fakex, "sentinel2"))  # after any replay repeat
        await until(lambda: _count(resumed, 3))
        assert [e["tweet"]["id"] for e in resumed] == later
        await other.disconnect()
    if client.connected:
        await client.disconnect()


async def _post(http: httpx.AsyncClient, fakex: str, text: str) -> str:
    answer = await http.post(f"{fakex}/_fakex/users/alice/tweets", json={"text": text})
    return str(answer.json()["id"])


async def until(probe: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def polls(http: httpx.AsyncClient, node: str, sid: str, at_least: int) -> bool:
    return int((await http.get(f"{node}/api/streams/{sid}")).json()["polls"]) >= at_least


async def history_has(http: httpx.AsyncClient, node: str, sid: str, ids: list[str]) -> bool:
    events = (await http.get(f"{node}/api/streams/{sid}/history", params={"limit": 100})).json()[
        "events"
    ]
    return set(ids) <= {e["tweet"]["id"] for e in events if e["type"] == "stream:tweet:new"}


async def _count(items: list[Any], n: int) -> bool:
    return len(items) >= n


async def _disconnected(client: socketio.AsyncClient) -> bool:
    return not client.connected
