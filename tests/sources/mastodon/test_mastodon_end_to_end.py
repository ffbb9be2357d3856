"""Every Mastodon type end to end: a real ``herald serve`` polling a real ``herald fakedon``
(built from the cassettes) over HTTP, events on ``/ws``. Each stream baselines silently,
reports each new item once, and after a restart of herald resumes with what was posted
while it was down: nothing lost, nothing doubled. The access token is nowhere in sight."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets

from tests.conftest import EXTERNAL_REDIS_URL
from tests.processes import herald_process
from tests.servers import free_port
from tests.sources.mastodon.conftest import TOKEN
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
ME = "mastodonpy_test"
ITEM_EVENTS = {"stream:post:new", "stream:mention:new", "stream:follower:new"}


class Feed:
    """A /ws subscription collecting every event body, resumable from its last offset."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    @asynccontextmanager
    async def follow(self, url: str) -> AsyncIterator[None]:
        since = self.events[-1]["offset"] if self.events else None
        payload: dict[str, Any] = {"since": since} if since else {}
        async with websockets.connect(url.replace("http", "ws") + "/ws") as ws:
            await ws.send(
                orjson.dumps(
                    {"type": "events:stream:v1:requested", "id": "e2e", "payload": payload}
                ).decode()
            )

            async def read() -> None:
                async for raw in ws:
                    msg = orjson.loads(raw)
                    if msg["type"] == "events:stream:v1:stream":
                        self.events.append(msg["payload"])

            task = asyncio.create_task(read())
            try:
                yield
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def items(self) -> Counter[tuple[str, str, str]]:
        """(event type, stream id, object id) -> times reported."""
        found: Counter[tuple[str, str, str]] = Counter()
        for e in self.events:
            if e["type"] in ITEM_EVENTS:
                body = e.get("post") or e.get("mention") or e.get("follower") or {}
                found[(e["type"], e["streamId"], str(body.get("id")))] += 1
        return found

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


class Scene:
    """The two servers, the streams, and what each stream must report."""

    def __init__(self, http: httpx.AsyncClient, don_url: str, url: str, host: str) -> None:
        self.http, self.don_url, self.url, self.host = http, don_url, url, host
        self.ids: dict[str, str] = {}
        self.expected: set[tuple[str, str, str]] = set()
        self.answers: list[str] = []

    async def don(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.http.post(f"{self.don_url}/_fakedon{path}", json=body)
        assert response.status_code < 400, response.text
        return response.json()

    async def api(self, method: str, path: str, **kw: Any) -> Any:
        response = await self.http.request(method, f"{self.url}{path}", **kw)
        self.answers.append(response.text)
        assert response.status_code < 400, response.text
        return response.json()

    async def start(self) -> None:
        host = self.host
        starts = {
            "status": {"type": "mastodon:status", "username": f"{ME}@{host}"},
            "follower": {"type": "mastodon:follower", "username": f"@{ME}@{host}"},
            "mention": {"type": "mastodon:mention", "username": host, "authToken": TOKEN},
            "hashtag": {"type": "mastodon:hashtag", "username": f"#Hoot@{host}"},
            "public": {"type": "mastodon:public", "username": host, "options": {"local": True}},
        }
        for name, body in starts.items():
            answer = await self.api("POST", "/api/streams/start", json={**body, "interval": 1})
            self.ids[name] = answer["id"]

    async def polls(self) -> dict[str, int]:
        counts = {}
        for sid in self.ids.values():
            status = await self.api("GET", f"/api/streams/{sid}")
            assert not status["lastError"], status
            counts[sid] = status["polls"]
        return counts

    async def polled_since(self, before: dict[str, int], more: int) -> bool:
        now = await self.polls()
        return all(now[sid] >= before.get(sid, 0) + more for sid in self.ids.values())

    async def post(self, text: str) -> str:
        return str((await self.don("/statuses", {"account": ME, "text": text}))["id"])

    async def phase(self, tag: str) -> None:
        """Post one of everything and record what each stream must report."""
        own = await self.post(f"{tag} #hoot")
        for name in ("status", "hashtag", "public"):
            self.expected.add(("stream:post:new", self.ids[name], own))
        mention = await self.don("/mentions", {"from": "admin", "to": ME, "text": tag})
        self.expected.add(("stream:post:new", self.ids["public"], str(mention["id"])))
        await self.don(f"/accounts/{ME}/followers", {"username": f"fan_{tag}"})


def environment(key_prefix: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": EXTERNAL_REDIS_URL,
        "HERALD_REDIS_PREFIX": key_prefix,
        "HERALD_DATA_DIR": str(tmp_path / "data"),
        "HERALD_SECRET_KEY": "mastodon-e2e-secret-key",
        "HERALD_MIN_INTERVAL": "0.5",
        "HERALD_POLL_TIMEOUT": "5",
        "HERALD_RECONCILE_INTERVAL": "0.5",
    }


async def test_every_type_baselines_reports_once_and_survives_a_restart(
    external_redis: Any, key_prefix: str, tmp_path: Path, cassettes: Path
) -> None:
    don_port, port = free_port(), free_port()
    don_url, url = f"http://127.0.0.1:{don_port}", f"http://127.0.0.1:{port}"
    env = environment(key_prefix, tmp_path)
    serve_args = ["serve", "-v", "--port", str(port)]
    logs = [tmp_path / "serve1.log", tmp_path / "serve2.log"]
    don_args = ["fakedon", "--fixtures", str(cassettes), "--port", str(don_port)]
    feed = Feed()
    async with (
        herald_process(don_args, env, tmp_path / "fakedon.log", f"{don_url}/api/v2/instance"),
        httpx.AsyncClient(timeout=30) as http,
    ):
        scene = Scene(http, don_url, url, f"127.0.0.1:{don_port}")
        await scene.don("/tokens", {"token": TOKEN, "account": ME})
        async with herald_process(serve_args, env, logs[0], f"{url}/api/health"):
            await scene.start()
            async with feed.follow(url):
                await wait_until(lambda: scene.polled_since({}, 2), 60, what="two polls each")
                assert feed.items() == Counter(), "a baseline announced something"
                await scene.phase("first")
                await wait_until(
                    lambda: (
                        len(feed.of("stream:mention:new")) >= 1
                        and len(feed.of("stream:follower:new")) >= 1
                        and scene.expected <= set(feed.items())
                    ),
                    60,
                    what="the first phase's events",
                )
        # herald is down: the world moves on
        await scene.phase("second")
        scene.expected.add(("stream:post:new", scene.ids["status"], await scene.post("again")))
        async with herald_process(serve_args, env, logs[1], f"{url}/api/health"):
            async with feed.follow(url):
                await wait_until(
                    lambda: (
                        len(feed.of("stream:mention:new")) >= 2
                        and len(feed.of("stream:follower:new")) >= 2
                        and scene.expected <= set(feed.items())
                    ),
                    60,
                    what="what was posted while herald was down",
                )
                polls = await scene.polls()
                await wait_until(lambda: scene.polled_since(polls, 2), 60, what="two more polls")
            for sid in scene.ids.values():
                await scene.api("GET", f"/api/streams/{sid}/history", params={"limit": 100})
    check(feed, scene, logs)


def check(feed: Feed, scene: Scene, logs: list[Path]) -> None:
    items, ids, host = feed.items(), scene.ids, scene.host
    assert scene.expected <= set(items), scene.expected - set(items)
    assert [k for k, n in items.items() if n > 1] == [], "an item reported twice"
    assert len([k for k in items if k[1] == ids["status"]]) == 3
    assert len([k for k in items if k[1] == ids["hashtag"]]) == 2
    mentions = feed.of("stream:mention:new")
    assert len(mentions) == 2 and all(m["mention"]["author"] == f"admin@{host}" for m in mentions)
    followers = sorted(e["follower"]["username"] for e in feed.of("stream:follower:new"))
    assert followers == [f"fan_first@{host}", f"fan_second@{host}"]
    counts = [(e["previous"], e["followersCount"]) for e in feed.of("stream:follower:count")]
    assert counts == [(0, 1), (1, 2)]
    post = feed.of("stream:post:new")[0]["post"]
    assert set(post) >= {"id", "text", "author", "authorName", "timestamp", "url"}
    assert "<" not in post["text"] and post["text"] == "first #hoot"
    assert feed.of("stream:error") == []
    for text in [*scene.answers, *(orjson.dumps(e).decode() for e in feed.events)]:
        assert TOKEN not in text
    for log in logs:
        assert TOKEN not in log.read_text("utf-8", "replace")
