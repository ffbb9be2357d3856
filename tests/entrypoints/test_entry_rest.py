"""``POST /api/commands``, ``GET /api/commands[/{id}]``: every type, the outcomes, the
refusals, idempotency, and who may write."""

from __future__ import annotations

from typing import Any

import pytest

from herald.commands.base import COMMAND_TYPES
from tests.entrypoints.support import REFUSED_KINDS, CommandServer, headers, token
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def body(kind: str, marker: str = "123", **extra: Any) -> dict[str, Any]:
    data = {"text": f"hello {marker}"} if kind == "post_tweet" else {"tweet_id": marker}
    return {"type": kind, "data": data, **extra}


async def test_every_type_succeeds_with_its_result(server: CommandServer) -> None:
    for kind in COMMAND_TYPES:
        sent = body(kind, commandId=f"c-{kind}")
        response = await server.client.post("/api/commands", json=sent)
        assert response.status_code == 200, response.text
        command = response.json()
        assert command["id"] == f"c-{kind}" and command["type"] == kind
        assert command["state"] == "succeeded" and command["result"]["tweetId"]
        stored = await server.client.get(f"/api/commands/c-{kind}")
        assert stored.json() == command
        assert server.commands.executions[f"c-{kind}"] == 1


async def test_failed_and_uncertain_are_answers_not_http_errors(server: CommandServer) -> None:
    failed = await server.client.post("/api/commands", json=body("like_tweet", "fail-1"))
    assert failed.status_code == 200
    assert failed.json()["state"] == "failed" and failed.json()["error"]["code"] == "x_error"
    unsure = await server.client.post("/api/commands", json=body("post_tweet", "uncertain"))
    assert unsure.status_code == 200
    assert unsure.json()["state"] == "uncertain" and "result" not in unsure.json()


async def test_same_command_id_twice_is_one_execution_and_the_first_answer(
    server: CommandServer,
) -> None:
    first = await server.client.post("/api/commands", json=body("retweet", commandId="dup-1"))
    again = await server.client.post("/api/commands", json=body("retweet", commandId="dup-1"))
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert server.commands.executions["dup-1"] == 1


async def test_no_wait_answers_202_and_the_outcome_is_read_later(server: CommandServer) -> None:
    server.commands.gate.clear()
    response = await server.client.post(
        "/api/commands", params={"wait": "false"}, json=body("like_tweet", commandId="nw-1")
    )
    assert response.status_code == 202
    assert response.json()["state"] in ("requested", "running")
    # A second submit of the same id while it runs waits for the first run's outcome.
    timed = await server.client.post(
        "/api/commands", params={"timeout": "0.2"}, json=body("like_tweet", commandId="nw-1")
    )
    assert timed.status_code == 202
    server.commands.gate.set()

    async def done() -> bool:
        got = await server.client.get("/api/commands/nw-1")
        return bool(got.json()["state"] == "succeeded")

    await wait_until(done, what="the command finished")
    assert server.commands.executions["nw-1"] == 1
    listed = (await server.client.get("/api/commands")).json()
    assert listed["count"] == 1 and listed["commands"][0]["id"] == "nw-1"


BAD_ENVELOPES: list[tuple[dict[str, Any], str]] = [
    ({"type": "nuke_account", "data": {}}, "type"),
    ({"data": {"tweet_id": "1"}}, "type"),
    ({"type": "like_tweet"}, "data"),
    ({"type": "like_tweet", "data": ["1"]}, "data"),
    ({"type": "like_tweet", "data": {"tweet_id": "1"}, "commandId": "a b"}, "commandId"),
    ({"type": "like_tweet", "data": {"tweet_id": "1"}, "commandId": 7}, "commandId"),
    ({"type": "like_tweet", "data": {"tweet_id": "1"}, "commandId": "x" * 129}, "commandId"),
    ({"type": "like_tweet", "data": {"tweet_id": "1"}, "accountId": ""}, "accountId"),
    ({"type": "like_tweet", "data": {"tweet_id": "1"}, "extra": 1}, "extra"),
    ({"type": "like_tweet", "data": {}}, "data.tweet_id"),
]


async def test_bad_envelopes_are_400_naming_the_field_and_nothing_runs(
    server: CommandServer,
) -> None:
    for sent, field in BAD_ENVELOPES:
        response = await server.client.post("/api/commands", json=sent)
        assert response.status_code == 400, (sent, response.text)
        answer = response.json()
        assert answer["error"] == "validation_error" and answer["detail"].startswith(field), sent
    assert not server.commands.records


async def test_non_json_oversized_and_bad_timeout_are_400s(server: CommandServer) -> None:
    garbage = await server.client.post("/api/commands", content=b"{not json")
    assert garbage.status_code == 400 and garbage.json()["error"] == "invalid_json"
    big = {"type": "post_tweet", "data": {"text": "x" * 2_000_000}}
    assert (await server.client.post("/api/commands", json=big)).status_code == 413
    for bad in ("0", "-1", "121", "soon"):
        response = await server.client.post(
            "/api/commands", params={"timeout": bad}, json=body("like_tweet")
        )
        assert response.status_code == 400, bad
        assert set(response.json()) >= {"error", "detail"}
    assert not server.commands.records


async def test_refusals_before_anything_is_sent(server: CommandServer) -> None:
    server.commands.writes = False
    off = await server.client.post("/api/commands", json=body("post_tweet"))
    assert off.status_code == 403 and off.json()["error"] == "writes_disabled"
    server.commands.writes = True
    server.commands.retry_after = 12.5
    limited = await server.client.post("/api/commands", json=body("post_tweet"))
    assert limited.status_code == 429
    assert limited.json()["error"] == "write_rate_limited"
    assert limited.json()["retryAfter"] == 12.5 and limited.headers["Retry-After"] == "13"
    server.commands.retry_after = None
    server.commands.paused.add("acc-9")
    paused = await server.client.post("/api/commands", json=body("retweet", accountId="acc-9"))
    assert paused.status_code == 409 and paused.json()["error"] == "account_paused"
    assert not server.commands.records
    missing = await server.client.get("/api/commands/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_who_may_write_and_read(server: CommandServer) -> None:
    client = server.client
    anonymous = await client.post(
        "/api/commands", json=body("like_tweet"), headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401
    for kind in REFUSED_KINDS:
        refused = await client.post("/api/commands", json=body("like_tweet"), headers=headers(kind))
        assert refused.status_code == 403, kind
        assert refused.json()["error"] == "forbidden" and "commands" in refused.json()["detail"]
    assert not server.commands.records
    for kind in ("writer", "admin-key"):
        sent = body("like_tweet", commandId=f"by-{kind}")
        allowed = await client.post("/api/commands", json=sent, headers=headers(kind))
        assert allowed.status_code == 200, (kind, allowed.text)
    admin_jwt = await client.post(
        "/api/commands",
        json=body("like_tweet"),
        headers={"Authorization": f"Bearer {token('admin-jwt')}"},
    )
    assert admin_jwt.status_code == 200
    # Reading reaches across streams: any token without a streams claim.
    for kind, status in (("read-only", 200), ("writer", 200), ("restricted", 403)):
        assert (await client.get("/api/commands", headers=headers(kind))).status_code == status
        got = await client.get("/api/commands/by-writer", headers=headers(kind))
        assert got.status_code == status, kind
    assert (await client.get("/api/commands", headers={"Authorization": ""})).status_code == 401


async def test_a_restricted_token_cannot_carry_the_write_scope(server: CommandServer) -> None:
    from tests.auth.auth_support import make_jwt

    contradictory = make_jwt(streams=["s1"], scope="commands")
    response = await server.client.post(
        "/api/commands",
        json=body("like_tweet"),
        headers={"Authorization": f"Bearer {contradictory}"},
    )
    assert response.status_code == 401 and "scope" in response.json()["detail"]
    bad_scope = make_jwt(scope={"commands": True})
    response = await server.client.get(
        "/api/commands", headers={"Authorization": f"Bearer {bad_scope}"}
    )
    assert response.status_code == 401


async def test_openapi_documents_each_type(server: CommandServer) -> None:
    doc = (await server.client.get("/openapi.json")).json()
    post = doc["paths"]["/api/commands"]["post"]
    variants = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [v["properties"]["type"]["enum"][0] for v in variants] == list(COMMAND_TYPES)
    assert {"200", "202", "400", "401", "403", "409", "429"} <= set(post["responses"])
    assert "/api/commands/{command_id}" in doc["paths"]
