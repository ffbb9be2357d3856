"""Direct messages are one account's: a token limited to one x:dm stream reads that inbox's
events and nothing of another account's, over every route a limited token may call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from herald.service import Herald
from herald.testing.fakex import create_app as create_fakex
from tests.auth.auth_support import ADMIN, API_KEY, SECRET, bearer, make_jwt
from tests.servers import herald_settings, serve_asgi, serve_herald

pytestmark = pytest.mark.timeout(60)
ALICE_COOKIE = "a11ce00c1e5ec4e7a17e5e55101c00c1e5ec4a1"  # made up
BOB_COOKIE = "b0b0000c1e5ec4e7a17e5e55101c00c1e5ec4b0"  # made up
BOB_SECRET_TEXT = "bob's private message, for bob's eyes"


class Inboxes:
    def __init__(self, http: httpx.AsyncClient, url: str, fakex: str) -> None:
        self.http, self.url, self.fakex = http, url, fakex

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, f"{self.url}{path}", **kwargs)

    async def control(self, path: str, body: dict[str, Any]) -> None:
        response = await self.http.post(f"{self.fakex}/_fakex{path}", json=body)
        assert response.status_code < 400, response.text


@pytest.fixture
async def inboxes(external_redis: aioredis.Redis, key_prefix: str) -> AsyncIterator[Inboxes]:
    async with serve_asgi(create_fakex()) as fakex_url:
        settings = herald_settings(
            key_prefix,
            api_keys=[API_KEY],
            jwt_secret=SECRET,
            x_base_url=fakex_url,  # no HERALD_X_TRANSACTION_ID: a stand-in is not signed for
            secret_key="dm auth test key",
            poll_timeout=5,
        )
        async with (
            Herald(settings, worker=False, delivery=False) as herald,
            serve_herald(herald) as url,
            httpx.AsyncClient(timeout=10) as http,
        ):
            yield Inboxes(http, url, fakex_url)


async def dm_stream(world: Inboxes, cookie: str, owner: str) -> str:
    await world.control("/sessions", {"authToken": cookie, "username": owner})
    started = await world.api(
        "POST",
        "/api/streams/start",
        json={"type": "x:dm", "target": "me", "authToken": cookie, "interval": 3600},
        headers=ADMIN,
    )
    assert started.status_code == 201, started.text
    stream_id = str(started.json()["id"])
    polled = await world.api("POST", f"/api/streams/{stream_id}/poll", headers=ADMIN)
    assert polled.status_code == 200 and polled.json()["outcome"] == "baseline", polled.text
    return stream_id


async def test_a_token_of_one_inbox_cannot_read_another_accounts_messages(
    inboxes: Inboxes,
) -> None:
    alice = await dm_stream(inboxes, ALICE_COOKIE, "alice")
    bob = await dm_stream(inboxes, BOB_COOKIE, "bob")
    await inboxes.control("/users/alice/dms", {"from": "carol", "text": "hello alice"})
    await inboxes.control("/users/bob/dms", {"from": "carol", "text": BOB_SECRET_TEXT})
    for stream_id in (alice, bob):
        polled = await inboxes.api("POST", f"/api/streams/{stream_id}/poll", headers=ADMIN)
        assert polled.json()["events"] == 1, polled.text
    only_alice = bearer(make_jwt(sub="alice-app", streams=[alice]))
    own = await inboxes.api("GET", f"/api/streams/{alice}/history", headers=only_alice)
    assert own.status_code == 200 and "hello alice" in own.text
    for method, path, body in [
        ("GET", f"/api/streams/{bob}/history", None),
        ("GET", f"/api/streams/{bob}", None),
        ("POST", f"/api/streams/{bob}/poll", None),
        ("PATCH", f"/api/streams/{bob}", {"interval": 300}),
        # re-pointing its own stream at another account's cookie needs an administrator
        ("PATCH", f"/api/streams/{alice}", {"authToken": BOB_COOKIE}),
        # and so does a new inbox stream, of any account
        ("POST", "/api/streams/start", {"type": "x:dm", "target": "me"}),
        ("POST", "/api/streams/start", {"type": "x:dm", "target": "me", "authToken": BOB_COOKIE}),
        ("GET", "/api/accounts", None),
    ]:
        response = await inboxes.api(method, path, json=body, headers=only_alice)
        assert response.status_code == 403, (method, path, response.status_code, response.text)
        assert BOB_SECRET_TEXT not in response.text
    log = await inboxes.api(
        "GET", "/api/events/log", params={"since": "0-0", "limit": 1000}, headers=only_alice
    )
    assert log.status_code == 200
    assert "hello alice" in log.text and BOB_SECRET_TEXT not in log.text
    # the administrator sees both, and bob's stream still reads bob's inbox only
    bobs = await inboxes.api("GET", f"/api/streams/{bob}/history", headers=ADMIN)
    assert BOB_SECRET_TEXT in bobs.text and "hello alice" not in bobs.text
    for text in (ALICE_COOKIE, BOB_COOKIE):
        assert text not in own.text and text not in log.text and text not in bobs.text
