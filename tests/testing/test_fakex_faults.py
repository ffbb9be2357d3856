"""Each fault mode, as a client meets it."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from fastapi import FastAPI

from herald.errors import AccountAuthFailed
from herald.sources.x import parse_tweets, parse_user
from tests.testing.fakex_support import Gql, graphql, session_client
from tests.waiting import wait_until


async def fault(client: httpx.AsyncClient, **body: object) -> None:
    r = await client.post("/_fakex/faults", json=body)
    assert r.status_code == 201, r.text


async def test_status_429_with_reset(client: httpx.AsyncClient, gql: Gql) -> None:
    await fault(client, status=429, count=2, resetIn=120)
    for _ in range(2):
        r = await gql("UserByScreenName", screen_name="alice")
        assert r.status_code == 429
        assert r.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded."}]}
        assert r.headers["x-rate-limit-remaining"] == "0"
        assert time.time() + 110 < int(r.headers["x-rate-limit-reset"]) <= time.time() + 121
    assert (await gql("UserByScreenName", screen_name="alice")).status_code == 200


@pytest.mark.parametrize(("status", "code"), [(401, 32), (500, 131), (502, 131), (503, 130)])
async def test_status_faults(client: httpx.AsyncClient, gql: Gql, status: int, code: int) -> None:
    await fault(client, status=status, count=1)
    r = await gql("UserByScreenName", screen_name="alice")
    assert r.status_code == status
    assert r.json()["errors"][0]["code"] == code
    assert "x-rate-limit-remaining" in r.headers
    assert (await gql("UserByScreenName", screen_name="alice")).status_code == 200


async def test_fault_for_one_operation_only(client: httpx.AsyncClient, gql: Gql) -> None:
    await fault(client, status=503, count=1, operation="SearchTimeline")
    assert (await gql("UserByScreenName", screen_name="alice")).status_code == 200
    assert (await gql("SearchTimeline", rawQuery="@alice")).status_code == 503
    assert (await gql("SearchTimeline", rawQuery="@alice")).status_code == 200
    assert (await client.get("/_fakex/faults")).json() == {"pending": []}


async def test_garbage(client: httpx.AsyncClient, gql: Gql) -> None:
    await fault(client, mode="garbage", count=1)
    r = await gql("UserByScreenName", screen_name="alice")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


async def test_empty_timeline_has_no_entries(client: httpx.AsyncClient, gql: Gql) -> None:
    alice_id = parse_user((await gql("UserByScreenName", screen_name="alice")).json()).id
    await fault(client, mode="empty", count=2)
    timeline = (await gql("UserTweets", userId=alice_id)).json()
    assert timeline["data"]["user"]["result"]["timeline"]["timeline"]["instructions"] == []
    assert parse_tweets(timeline).tweets == []
    search = (await gql("SearchTimeline", rawQuery="@alice")).json()
    assert parse_tweets(search).tweets == []
    assert len(parse_tweets((await gql("UserTweets", userId=alice_id)).json()).tweets) == 3


async def test_logged_out(client: httpx.AsyncClient, gql: Gql) -> None:
    await fault(client, mode="logged_out", count=1)
    r = await gql("UserTweets", userId="1")
    assert r.status_code == 200
    assert r.json() == {"errors": [{"code": 32, "message": "Could not authenticate you."}]}
    with pytest.raises(AccountAuthFailed):
        parse_tweets(r.json())


async def test_fault_needs_status_or_mode(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_fakex/faults", json={"count": 1})).status_code == 422
    assert (await client.post("/_fakex/faults", json={"mode": "nope"})).status_code == 422
    assert (await client.post("/_fakex/faults", json={"status": 200})).status_code == 422


async def test_timeout_hangs_past_the_client_deadline(app: FastAPI, live_url: str) -> None:
    """Over a real socket: the client gives up; the stand-in notices and stops waiting."""
    async with session_client(live_url) as c:
        await fault(c, mode="timeout", count=1, seconds=30)
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await graphql_with_timeout(c, 0.5)
        assert 0.4 < time.monotonic() - started < 5
        ok = await graphql(c, "UserByScreenName", screen_name="alice")
        assert ok.status_code == 200
        assert (await c.get("/_fakex/requests")).json()["operations"]["UserByScreenName"] == 2


async def graphql_with_timeout(client: httpx.AsyncClient, seconds: float) -> httpx.Response:
    params = {"variables": json.dumps({"screen_name": "alice"})}
    timeout = httpx.Timeout(seconds)
    return await client.get("/i/api/graphql/q/UserByScreenName", params=params, timeout=timeout)


async def test_timeout_ends_at_reset(client: httpx.AsyncClient, gql: Gql) -> None:
    await fault(client, mode="timeout", count=1, seconds=30)
    hanging = asyncio.create_task(gql("UserByScreenName", screen_name="alice"))

    async def fault_taken() -> bool:  # the request took it and hangs from that moment
        return not (await client.get("/_fakex/faults")).json()["pending"]

    await wait_until(fault_taken, 10, what="the request taking the timeout fault")
    assert not hanging.done()
    await client.post("/_fakex/reset")
    r = await asyncio.wait_for(hanging, 5)
    assert r.status_code == 504
