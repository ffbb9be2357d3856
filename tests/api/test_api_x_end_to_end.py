"""The X path end to end: herald's server polling the X stand-in over real HTTP, events on a
Socket.IO client in the seed's shapes, once each — and the session cookie nowhere in sight."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
import websockets

from herald.config import Settings
from herald.service import Herald
from herald.testing.fakex import create_app as create_fakex
from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import HERALD_BIN, herald_process
from tests.servers import free_port, serve_asgi, serve_herald
from tests.waiting import wait_until

COOKIE = "e2e0c00c1e5ec4e7a17e5e55101c00c1e5ec4fe"  # made up; grepped for everywhere below

pytestmark = pytest.mark.slow
EVENT_NAMES = (
    "stream:tweet:new",
    "stream:mention:new",
    "stream:follower:new",
    "stream:follower:lost",
    "stream:follower:count",
    "stream:error",
)


class World:
    def __init__(self, herald: Herald, url: str, fakex: str, http: httpx.AsyncClient) -> None:
        self.herald, self.url, self.fakex, self.http = herald, url, fakex, http
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.markers: list[dict[str, Any]] = []  # stream:updated, appended by settle()
        self.answers: list[str] = []

    async def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.url}{path}", **kwargs)
        self.answers.append(response.text)
        assert response.status_code < 400, response.text
        return response.json()

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.fakex}/_fakex{path}", **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    def got(self, kind: str) -> list[dict[str, Any]]:
        return [body for name, body in self.received if name == kind]


@pytest.fixture
async def world(key_prefix: str, external_redis: Any, tmp_path: Path) -> AsyncIterator[World]:
    async with serve_asgi(create_fakex()) as fakex_url:
        settings = Settings(
            redis_url=EXTERNAL_REDIS_URL,
            redis_prefix=key_prefix,
            data_dir=tmp_path,
            x_base_url=fakex_url,
            min_interval=0.5,
            poll_timeout=5,
            reconcile_interval=0.5,
        )
        async with (
            Herald(settings) as herald,
            serve_herald(herald) as url,
            httpx.AsyncClient(timeout=10) as http,
        ):
            world = World(herald, url, fakex_url, http)
            client = socketio.AsyncClient()
            for name in EVENT_NAMES:
                client.on(name, lambda data, name=name: world.received.append((name, data)))
            client.on("stream:updated", world.markers.append)
            await client.connect(url, transports=["websocket"])
            yield world
            await client.disconnect()


async def baseline_done(world: World, stream_id: str) -> dict[str, Any]:
    for _ in range(200):
        status: dict[str, Any] = await world.api("GET", f"/api/streams/{stream_id}")
        if status["polls"] >= 1:
            assert status["polls"] == 1, status
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"no baseline poll of {stream_id} within 10 s")


async def post(world: World, author: str, text: str) -> str:
    answer = await world.control("POST", f"/users/{author}/tweets", json={"text": text})
    return str(answer["id"])


async def settle(world: World, stream_id: str) -> None:
    """Append a marker to the log (an empty update: ``stream:updated``) and wait for it.

    One connection gets the log in order, so once the marker is in, every event appended
    before it (by a poll, or a repeat that should not be there) is in too.
    """
    before = len(world.markers)
    await world.api("PATCH", f"/api/streams/{stream_id}", json={"options": {}})
    await wait_until(lambda: len(world.markers) > before, 10, what="the marker event")


async def test_each_stream_type_end_to_end_with_poll_now_and_scheduler(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ids = {}
    for kind in ("tweet", "follower", "mention"):
        body = {"type": kind, "username": "alice", "interval": 3600, "authToken": COOKIE}
        ids[kind] = (await world.api("POST", "/api/streams/start", json=body))["id"]
    for kind, sid in ids.items():
        # A new stream is polled at once by the scheduler: that first poll is the baseline.
        # Waiting for it (not racing it with poll-now, which would answer 409 busy) keeps the
        # rest of the test deterministic: at 3600 s, every later poll is a poll-now.
        status = await baseline_done(world, sid)
        assert status["lastError"] is None, (kind, status)
        assert status["counts"] == {"stream:started": 1}, (kind, status)
    await settle(world, ids["follower"])
    assert world.received == []  # no flood on start

    tweets = [await post(world, "alice", f"news {i} & more") for i in range(3)]
    for name in ("dave", "erin"):
        await world.control("POST", "/users/alice/followers", json={"username": name})
    await world.control("DELETE", "/users/alice/followers/bob")
    mentions = [await post(world, "carol", f"hey @alice {i}") for i in range(2)]
    for kind in ("tweet", "follower", "mention"):
        await world.api("POST", f"/api/streams/{ids[kind]}/poll")
    await settle(world, ids["follower"])

    new_tweets = world.got("stream:tweet:new")
    assert [e["tweet"]["id"] for e in new_tweets] == tweets
    first = new_tweets[0]
    assert first["streamId"] == ids["tweet"] and first["username"] == "alice"
    assert {"text", "author", "timestamp", "url", "isRetweet", "isReply"} <= set(first["tweet"])
    assert first["tweet"]["author"] == "alice" and first["tweet"]["url"].endswith(tweets[0])
    followers = sorted(e["follower"]["username"] for e in world.got("stream:follower:new"))
    assert followers == ["dave", "erin"]
    assert [e["unfollower"]["username"] for e in world.got("stream:follower:lost")] == ["bob"]
    count = world.got("stream:follower:count")
    assert len(count) == 1 and count[0]["delta"] == 1
    assert [e["mention"]["id"] for e in world.got("stream:mention:new")] == mentions
    assert all(e["mention"]["author"] == "carol" for e in world.got("stream:mention:new"))
    assert world.got("stream:error") == []

    # the scheduler, with no poll-now: shorten the interval, post, and wait
    await world.api("PATCH", f"/api/streams/{ids['tweet']}", json={"interval": 0.5})
    late = await post(world, "alice", "scheduled")
    await wait_until(lambda: len(world.got("stream:tweet:new")) >= 4, 10, what="the late tweet")
    polled = (await world.api("GET", f"/api/streams/{ids['tweet']}"))["polls"]

    async def two_more_polls() -> bool:
        status = await world.api("GET", f"/api/streams/{ids['tweet']}")
        return bool(status["polls"] >= polled + 2)

    await wait_until(two_more_polls, 10, what="two more scheduled polls")  # none may repeat
    await settle(world, ids["follower"])
    assert [e["tweet"]["id"] for e in world.got("stream:tweet:new")] == [*tweets, late]

    await assert_cookie_nowhere(world, caplog)


async def assert_cookie_nowhere(world: World, caplog: pytest.LogCaptureFixture) -> None:
    for path in ("/api/streams", "/api/accounts", "/api/streams/stats", "/metrics"):
        response = await world.http.get(f"{world.url}{path}")
        world.answers.append(response.text)
    for sid in [s["id"] for s in (await world.api("GET", "/api/streams"))["streams"]]:
        await world.api("GET", f"/api/streams/{sid}")
        await world.api("GET", f"/api/streams/{sid}/history", params={"limit": 1000})
    assert not [a for a in world.answers if COOKIE in a], "cookie in an API answer"
    assert not [body for _, body in world.received if COOKIE in str(body)], "cookie in an event"
    assert COOKIE not in caplog.text, "cookie in a log line"
    redis = world.herald.redis
    async for key in redis.scan_iter(match=f"{world.herald.keys.prefix}*"):
        dump = await dump_key(redis, key)
        assert COOKIE.encode() not in repr(dump).encode(), f"cookie in plain text at {key!r}"


async def dump_key(redis: Any, key: bytes) -> Any:
    kind = (await redis.type(key)).decode()
    if kind == "string":
        return await redis.get(key)
    if kind == "hash":
        return await redis.hgetall(key)
    if kind == "zset":
        return await redis.zrange(key, 0, -1)
    if kind == "set":
        return await redis.smembers(key)
    if kind == "list":
        return await redis.lrange(key, 0, -1)
    return await redis.xrange(key)


# --- x:search through real `herald serve` and `herald fakex` processes ------------------------
SEARCH_PAGES = 2  # HERALD_MAX_PAGES: two pages of 20 from the stand-in
ITEM_KINDS = ("stream:tweet:new", "stream:gap")
STARTUP = 90  # seconds a process may take to answer on a crowded machine (a bound, not a wait)


class Receivers:
    """One /ws subscriber and one Socket.IO client, each keeping what it received."""

    def __init__(self) -> None:
        self.ws: list[dict[str, Any]] = []
        self.sio: list[dict[str, Any]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._client = socketio.AsyncClient()

    async def connect(self, url: str) -> None:
        for name in ("stream:tweet:new", "stream:gap", "stream:error", "stream:updated"):
            self._client.on(name, lambda data, name=name: self.sio.append({**data, "type": name}))
        await self._client.connect(url, transports=["websocket"])
        socket = await websockets.connect(url.replace("http", "ws", 1) + "/ws")
        request = {"type": "events:stream:v1:requested", "id": "e2e", "payload": {}}
        await socket.send(json.dumps(request))
        started = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert started["type"] == "events:stream:v1:started", started
        self._tasks.append(asyncio.create_task(self._read(socket)))

    async def _read(self, socket: Any) -> None:
        async with socket:
            async for raw in socket:
                message = json.loads(raw)
                if message["type"] == "events:stream:v1:stream":
                    self.ws.append(message["payload"])

    async def close(self) -> None:
        await self._client.disconnect()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def of(self, kind: str, where: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in where if e["type"] == kind]


class Stack:
    """`herald fakex` and `herald serve` as subprocesses; serve can be restarted."""

    def __init__(self, tmp_path: Path, key_prefix: str) -> None:
        self.tmp_path = tmp_path
        self.fake_port, self.port = free_port(), free_port()
        self.fakex = f"http://127.0.0.1:{self.fake_port}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "REDIS_URL": EXTERNAL_REDIS_URL,
            "HERALD_REDIS_PREFIX": key_prefix,
            "HERALD_DATA_DIR": str(tmp_path / "data"),
            "HERALD_X_BASE_URL": self.fakex,
            "HERALD_SESSION_COOKIE": f"auth_token={COOKIE}",
            "HERALD_SECRET_KEY": "e2e search secret key",
            "HERALD_MAX_PAGES": str(SEARCH_PAGES),
            "HERALD_POLL_TIMEOUT": "10",
            "HERALD_MIN_INTERVAL": "0.5",
        }

    def fakex_process(self) -> Any:
        args = ["fakex", "--port", str(self.fake_port)]
        log = self.tmp_path / "fakex.log"
        return herald_process(args, self.env, log, f"{self.fakex}/", timeout=STARTUP)

    def serve_process(self, run: int) -> Any:
        args = ["serve", "--port", str(self.port)]
        log = self.tmp_path / f"serve{run}.log"
        return herald_process(args, self.env, log, f"{self.url}/api/health", timeout=STARTUP)

    async def cli(self, *args: str) -> dict[str, Any]:
        proc = await asyncio.create_subprocess_exec(
            HERALD_BIN,
            *args,
            "--url",
            self.url,
            "--json",
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, (out, err)
        answer: dict[str, Any] = json.loads(out)
        return answer


@pytest.mark.timeout(360)  # two starts of herald serve and a few hundred requests
async def test_an_x_search_stream_through_herald_serve_and_fakex_processes(
    external_redis: Any, key_prefix: str, tmp_path: Path
) -> None:
    stack = Stack(tmp_path, key_prefix)
    async with stack.fakex_process(), httpx.AsyncClient(timeout=20) as http:

        async def tweet(author: str, text: str) -> str:
            answer = await http.post(
                f"{stack.fakex}/_fakex/users/{author}/tweets", json={"text": text}
            )
            assert answer.status_code == 201, answer.text
            return str(answer.json()["id"])

        async def api(method: str, path: str, **kwargs: Any) -> Any:
            answer = await http.request(method, f"{stack.url}{path}", **kwargs)
            assert answer.status_code < 400, answer.text
            return answer.json()

        async def settle(receivers: Receivers, sid: str) -> None:
            """An empty update appends stream:updated; once both clients have it, they have
            every event appended before it."""
            before = len(receivers.of("stream:updated", receivers.ws))
            before_sio = len(receivers.of("stream:updated", receivers.sio))
            await api("PATCH", f"/api/streams/{sid}", json={"options": {}})
            await wait_until(
                lambda: (
                    len(receivers.of("stream:updated", receivers.ws)) > before
                    and len(receivers.of("stream:updated", receivers.sio)) > before_sio
                ),
                20,
                what="the marker on /ws and Socket.IO",
            )

        old = await tweet("bob", "an old #python tweet, there before the stream")
        async with stack.serve_process(1):
            receivers = Receivers()
            await receivers.connect(stack.url)
            try:
                started = await stack.cli(
                    "streams", "start", "x:search", " #python ", "--interval", "3600"
                )
                sid = started["id"]
                assert (started["type"], started["target"]) == ("x:search", "#python")
                assert started["platform"] == "x" and started["username"] == "#python"

                async def polls() -> int:
                    return int((await api("GET", f"/api/streams/{sid}"))["polls"])

                await wait_until(lambda: polls_at_least(polls, 1), 20, what="the baseline")
                # the same query in other letters is the same stream; a bad one is refused
                start = f"{stack.url}/api/streams/start"
                again = await http.post(start, json={"type": "x:search", "target": "#PYTHON"})
                assert again.status_code == 409 and sid in again.text, again.text
                for field, bad in (("target", "#python\nrust"), ("username", "x" * 501)):
                    body = {"type": "x:search", field: bad}
                    refused = await http.post(start, json=body)
                    assert refused.status_code == 400, refused.text
                    assert refused.json()["detail"].startswith(f"{field}: "), refused.text
                assert (await api("GET", "/api/streams"))["count"] == 1
                await settle(receivers, sid)
                for where in (receivers.ws, receivers.sio):  # baseline: silent
                    assert receivers.of("stream:tweet:new", where) == []

                found = [await tweet("carol", f"#python news {i}") for i in range(3)]
                await tweet("carol", "#pythonista and pythons")  # not the hashtag
                await tweet("carol", "#rust only")
                found.append(await tweet("alice", "Python, as in #Python."))
                await api("POST", f"/api/streams/{sid}/poll")
                await settle(receivers, sid)
                for where in (receivers.ws, receivers.sio):
                    got = [e["tweet"]["id"] for e in receivers.of("stream:tweet:new", where)]
                    assert got == found, got
                    first = receivers.of("stream:tweet:new", where)[0]
                    assert first["streamId"] == sid and first["username"] == "#python"
                    assert (first["platform"], first["target"]) == ("x", "#python")
                    assert first["tweet"]["author"] == "carol"
                    assert first["tweet"]["text"] == "#python news 0"
                    assert old not in got

                # a burst bigger than the page bound: what fits, and one gap before it
                burst = [await tweet("bob", f"#python burst {i}") for i in range(50)]
                await api("POST", f"/api/streams/{sid}/poll")
                await settle(receivers, sid)
                for where in (receivers.ws, receivers.sio):
                    gaps = receivers.of("stream:gap", where)
                    assert len(gaps) == 1 and gaps[0]["pages"] == SEARCH_PAGES, gaps
                    assert gaps[0]["streamType"] == "x:search"
                    got = [e["tweet"]["id"] for e in receivers.of("stream:tweet:new", where)]
                    assert got[4:] == burst[10:]  # the newest 40; the 10 older are the hole
                    kinds = [e["type"] for e in where if e["type"] in ITEM_KINDS]
                    assert kinds.index("stream:gap") == 4  # before the burst's tweets
            finally:
                await receivers.close()

        # herald is down: new matching tweets wait for it
        later = [await tweet("alice", f"while down #python {i}") for i in range(3)]
        async with stack.serve_process(2):
            receivers = Receivers()
            await receivers.connect(stack.url)
            try:
                status = await api("GET", f"/api/streams/{sid}")
                assert status["status"] == "active" and status["polls"] >= 3
                await api("POST", f"/api/streams/{sid}/poll")
                await settle(receivers, sid)
                for where in (receivers.ws, receivers.sio):
                    got = [e["tweet"]["id"] for e in receivers.of("stream:tweet:new", where)]
                    assert got == later, got
                    assert receivers.of("stream:gap", where) == []
            finally:
                await receivers.close()
            history = await api("GET", f"/api/streams/{sid}/history", params={"limit": 1000})
        ids = [e["tweet"]["id"] for e in history["events"] if e["type"] == "stream:tweet:new"]
        assert sorted(ids) == sorted([*found, *burst[10:], *later])  # once each, none lost
        assert old not in ids


async def polls_at_least(polls: Any, count: int) -> bool:
    return bool(await polls() >= count)
