"""REST contract: the seed's curl calls verbatim, every route, and clear 4xx answers."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from tests.api.conftest import Server
from tests.conftest import need


async def curl(*args: str) -> tuple[int, dict[str, object]]:
    need(shutil.which("curl") is not None, "curl is not installed")
    proc = await asyncio.create_subprocess_exec(
        "curl", "-s", "-w", "\n%{http_code}", *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    body, _, code = out.decode().rpartition("\n")
    return int(code), json.loads(body)


async def test_seed_curl_commands_work_verbatim(server: Server) -> None:
    base = server.url
    code, started = await curl(
        "-X", "POST", f"{base}/api/streams/start",
        "-H", "Content-Type: application/json",
        "-d", '{"type": "tweet", "username": "elonmusk", "interval": 60}',
    )  # fmt: skip
    assert code == 201
    assert started["type"] == "tweet" and started["username"] == "elonmusk"
    assert started["status"] == "active" and started["interval"] == 60000
    stream_id = started["id"]
    code, listed = await curl(f"{base}/api/streams")
    assert code == 200 and [s["id"] for s in listed["streams"]] == [stream_id]  # type: ignore[union-attr]
    # the seed's stop call sends JSON without a JSON Content-Type (curl says form-urlencoded)
    code, stopped = await curl(
        "-X", "POST", f"{base}/api/streams/stop", "-d", json.dumps({"streamId": stream_id})
    )
    assert code == 200 and stopped == {"success": True, "streamId": stream_id}
    code, listed = await curl(f"{base}/api/streams")
    assert listed["streams"] == []


# No worker: the test drives every poll through the route. With the scheduler running, its
# immediate first poll could land between "fresh" being posted and the second poll-now.
@pytest.mark.herald_options(worker=False)
async def test_every_route(server: Server) -> None:
    c = server.client
    for i in range(3):
        server.source.post("ann", f"old {i}")
    created = (
        await c.post("/api/streams/start", json={"type": "tweet", "username": "@ann"})
    ).json()
    sid = created["id"]
    assert created["interval"] == 60000 and created["username"] == "ann"
    poll = await c.post(f"/api/streams/{sid}/poll")
    assert poll.status_code == 200 and poll.json()["outcome"] == "baseline"
    server.source.post("ann", "fresh")
    assert (await c.post(f"/api/streams/{sid}/poll")).json()["events"] == 1
    history = (await c.get(f"/api/streams/{sid}/history", params={"limit": 1})).json()
    assert history["count"] == 1 and history["events"][0]["tweet"]["text"] == "fresh"
    status = (await c.get(f"/api/streams/{sid}")).json()
    assert status["counts"]["stream:tweet:new"] == 1 and status["polls"] == 2
    assert (await c.post(f"/api/streams/{sid}/pause")).json()["status"] == "paused"
    assert (await c.post(f"/api/streams/{sid}/resume")).json()["status"] == "active"
    patched = await c.patch(f"/api/streams/{sid}", json={"interval": 120})
    assert patched.status_code == 200 and patched.json()["interval"] == 120000
    stats = (await c.get("/api/streams/stats")).json()
    assert (
        stats["total"] == 1
        and stats["active"] == 1
        and stats["eventsByType"]["stream:tweet:new"] == 1
    )
    health = await c.get("/api/health")
    assert health.status_code == 200 and health.json()["healthy"] is True
    metrics = await c.get("/metrics")
    assert "herald_polls_total" in metrics.text and "herald_events_total" in metrics.text
    docs = await c.get("/openapi.json")
    assert "/api/streams/start" in docs.json()["paths"]
    all_stopped = await c.post("/api/streams/stop-all")
    assert all_stopped.json() == {"stopped": 1, "failed": 0, "total": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "video", "username": "ann"}, "type"),
        ({"type": "tweet", "username": "no spaces allowed"}, "username"),
        ({"type": "tweet", "username": "ann", "interval": 5}, "interval"),
        ({"type": "tweet", "username": "ann", "interval": 7200}, "interval"),
        ({"type": "tweet", "username": "ann", "colour": "red"}, "colour"),
        ({"username": "ann"}, "type"),
    ],
)
async def test_bad_start_bodies_get_400_and_store_nothing(
    server: Server, body: dict[str, object], field: str
) -> None:
    response = await server.client.post("/api/streams/start", json=body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "validation_error" and answer["detail"].startswith(field)
    assert (await server.client.get("/api/streams")).json()["count"] == 0
    keys = await server.herald.redis.keys(f"{server.herald.keys.prefix}:stream:*")
    assert keys == []


async def test_malformed_oversized_unknown_and_duplicate(server: Server) -> None:
    c = server.client
    bad = await c.post(
        "/api/streams/start",
        content=b'{"type": "tweet", ',
        headers={"content-type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_json"
    huge = await c.post("/api/streams/start", content=b"{" + b" " * 200_000 + b"}")
    assert huge.status_code == 413 and huge.json()["error"] == "payload_too_large"
    missing = await c.get("/api/streams/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "stream_not_found"
    stop_missing = await c.post("/api/streams/stop", json={"streamId": "nope"})
    assert stop_missing.status_code == 404
    no_route = await c.get("/api/nothing-here")
    assert no_route.status_code == 404 and "detail" in no_route.json()
    bad_limit = await c.get("/api/streams/x/history", params={"limit": 0})
    assert bad_limit.status_code == 400 and bad_limit.json()["detail"].startswith("limit")
    first = await c.post("/api/streams/start", json={"type": "tweet", "username": "ann"})
    dup = await c.post("/api/streams/start", json={"type": "tweet", "username": "ANN"})
    assert dup.status_code == 409
    assert (
        dup.json()["streamId"] == first.json()["id"] and first.json()["id"] in dup.json()["detail"]
    )
    assert (await c.get("/api/streams")).json()["count"] == 1
