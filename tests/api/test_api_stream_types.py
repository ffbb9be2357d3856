"""Stream types as data over REST: the catalog route, target/username, platform and target on
streams and events, the OpenAPI document, and a test-only platform run end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
import websockets
from websockets.asyncio.client import ClientConnection

from herald.errors import UpstreamError
from herald.service import Herald
from herald.sources import catalog
from herald.sources.catalog import stream_types
from tests.api.conftest import Server
from tests.platforms import demo
from tests.servers import herald_settings, serve_herald

pytestmark = pytest.mark.timeout(60)

REQUESTED = "events:stream:v1:requested"


async def test_stream_types_route_lists_the_catalog(server: Server) -> None:
    answer = (await server.client.get("/api/stream-types")).json()
    served = set(server.herald.sources.stream_types)
    assert [t["type"] for t in answer["types"]] == [
        t.name for t in stream_types() if t.name in served
    ]
    assert answer["count"] == len(answer["types"])
    tweet = next(t for t in answer["types"] if t["type"] == "tweet")
    assert tweet["platform"] == "x" and tweet["aliases"] == ["x:tweet"]
    assert tweet["target"]["label"] == "username" and tweet["target"]["pattern"]
    assert tweet["events"] == ["stream:tweet:new", "stream:tweet:metrics", "stream:tweet:deleted"]
    assert tweet["payloadKey"] == "tweet"
    assert "followerSnapshotLimit" in tweet["options"]


@pytest.mark.herald_options(worker=False)
async def test_target_and_its_alias_username(server: Server) -> None:
    c = server.client
    by_target = await c.post("/api/streams/start", json={"type": "tweet", "target": "@ann"})
    assert by_target.status_code == 201, by_target.text
    stream = by_target.json()
    assert (stream["target"], stream["username"], stream["platform"]) == ("ann", "ann", "x")
    assert list(stream)[:4] == ["id", "type", "platform", "target"]
    # the seed's body, and both names saying the same thing (after normalisation)
    seed = await c.post("/api/streams/start", json={"type": "x:mention", "username": "ann"})
    assert seed.status_code == 201 and seed.json()["type"] == "mention"
    both = {"type": "follower", "target": "ann", "username": "@ann"}
    assert (await c.post("/api/streams/start", json=both)).status_code == 201
    listed = (await c.get("/api/streams")).json()["streams"]
    assert {(s["platform"], s["target"]) for s in listed} == {("x", "ann")}
    status = (await c.get(f"/api/streams/{stream['id']}")).json()
    assert status["target"] == "ann" and status["platform"] == "x"

    before = await server.herald.manager.list_streams()
    refused = [
        ({"type": "tweet", "target": "bob", "username": "carol"}, "username: is an alias"),
        ({"type": "tweet"}, "target: required"),
        ({"type": "tweet", "target": "not a handle!"}, "target: "),
        ({"type": "tweet", "username": "not a handle!"}, "username: "),
        ({"type": "podcast", "target": "bob"}, "type: must be one of tweet"),
        ({"type": "tweet", "target": "bob", "username": None}, "username: must be a string"),
        ({"type": "tweet", "target": None}, "target: must be a string"),
    ]
    for body, detail in refused:
        answer = await c.post("/api/streams/start", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"] == "validation_error"
        assert answer.json()["detail"].startswith(detail), answer.json()
    assert await server.herald.manager.list_streams() == before  # nothing stored


@pytest.mark.herald_options(worker=False)
async def test_every_event_body_carries_platform_and_target(server: Server) -> None:
    c = server.client
    sid = (await c.post("/api/streams/start", json={"type": "tweet", "target": "dan"})).json()["id"]
    await c.post(f"/api/streams/{sid}/poll")  # baseline
    server.source.post("dan", "hello")
    await c.post(f"/api/streams/{sid}/poll")
    server.source.fail_next(UpstreamError("upstream answered 503"))
    await c.post(f"/api/streams/{sid}/poll")
    await c.post(f"/api/streams/{sid}/pause")
    events = (await c.get(f"/api/streams/{sid}/history?limit=50")).json()["events"]
    kinds = {e["type"] for e in events}
    assert {"stream:started", "stream:tweet:new", "stream:error", "stream:paused"} <= kinds
    for event in events:
        assert (event["platform"], event["target"], event["username"]) == ("x", "dan", "dan")


async def test_openapi_document_derives_from_the_catalog(server: Server) -> None:
    document = (await server.client.get("/openapi.json")).json()
    start = document["paths"]["/api/streams/start"]["post"]
    schema = start["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["type"]["enum"] == list(stream_types().names)
    assert schema["required"] == ["type"]
    assert {"target", "username"} <= set(schema["properties"])
    rules = {name: r for r in schema["anyOf"] for name in r["properties"]["type"]["enum"]}
    assert set(rules) == set(stream_types().names), "every type and alias has its rule"
    tweet = rules["x:tweet"]["properties"]
    assert tweet["target"]["pattern"] == stream_types().get("tweet").target.pattern
    assert tweet["username"] == tweet["target"]
    for spec in stream_types():
        assert spec.target.description in schema["properties"]["target"]["description"]
    components = document["components"]["schemas"]
    assert components["TweetPayload"]["required"][:2] == ["id", "text"]
    assert "FollowerPayload" in components and "MentionPayload" in components


@pytest.fixture
def demo_platform() -> Any:
    demo.WORLD.boxes.clear()
    with catalog.platform("tests.platforms.demo") as module:
        yield module
    assert "demo:thing" not in stream_types()


@pytest.fixture
async def demo_server(
    demo_platform: Any, external_redis: aioredis.Redis, key_prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[Herald, httpx.AsyncClient, str]]:
    """A herald whose sources come from the catalog (X and the test platform), no worker:
    the test makes every poll through the REST route."""
    settings = herald_settings(
        key_prefix, secret_key="demo-secret-key-for-tests", data_dir=str(tmp_path)
    )
    async with (
        Herald(settings, worker=False) as herald,
        serve_herald(herald) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield herald, client, url


async def next_event(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    """The next event frame's body, skipping heartbeats."""
    async with asyncio.timeout(timeout):
        while True:
            msg = orjson.loads(await ws.recv())
            if msg["type"] == "events:stream:v1:stream":
                body: dict[str, Any] = msg["payload"]
                return body


async def test_a_registered_platform_runs_end_to_end(
    demo_server: tuple[Herald, httpx.AsyncClient, str],
) -> None:
    herald, client, url = demo_server
    types = (await client.get("/api/stream-types")).json()["types"]
    assert [t["type"] for t in types][-1] == "demo:thing"
    document = (await client.get("/openapi.json")).json()
    body = document["paths"]["/api/streams/start"]["post"]["requestBody"]
    assert (
        "demo:thing" in body["content"]["application/json"]["schema"]["properties"]["type"]["enum"]
    )

    demo.WORLD.add("attic", "an old thing")
    async with websockets.connect(url.replace("http", "ws", 1) + "/ws") as ws:
        await ws.send(orjson.dumps({"type": REQUESTED, "id": "all", "payload": {}}))
        started = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert started["type"] == "events:stream:v1:started"

        answer = await client.post(
            "/api/streams/start", json={"type": "demo:thing", "target": "attic"}
        )
        assert answer.status_code == 201, answer.text
        stream = answer.json()
        assert (stream["platform"], stream["target"]) == ("demo", "attic")
        sid = stream["id"]
        event = await next_event(ws)
        assert (event["type"], event["platform"], event["target"]) == (
            "stream:started",
            "demo",
            "attic",
        )
        baseline = (await client.post(f"/api/streams/{sid}/poll")).json()
        assert (baseline["outcome"], baseline["events"]) == ("baseline", 0)

        thing = demo.WORLD.add("attic", "a new thing", author="zoe")
        polled = (await client.post(f"/api/streams/{sid}/poll")).json()
        assert (polled["outcome"], polled["events"]) == ("ok", 1)
        event = await next_event(ws)
        assert event["type"] == "stream:post:new"
        assert (event["platform"], event["target"], event["streamId"]) == ("demo", "attic", sid)
        # a "post" is post-like whichever platform sends it: scored at ingest
        neutral = {"compound": 0.0, "label": "neutral"}
        assert event["post"] == {
            "id": thing.id,
            "text": "a new thing",
            "author": "zoe",
            "sentiment": neutral,
        }
        assert event["eventId"] == f"post:{thing.id}@{sid}"

    refused = await client.post("/api/streams/start", json={"type": "demo:thing", "target": "A!"})
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("target: 'A!' is not a box name")
    stats = await herald.manager.stats()
    assert stats["byType"] == {"demo:thing": 1}
