"""The REST door for Mastodon types: targets are checked (400 naming the field, nothing
stored), and a token is stored encrypted under an id that is all a stream shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.service import Herald
from herald.store.mastodon_tokens import token_key
from tests.servers import herald_settings, serve_herald

TOKEN = "api-door-mastodon-token-0a1b2c3d"


@pytest.fixture
async def rest(
    external_redis: Any, key_prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[Herald, httpx.AsyncClient]]:
    settings = herald_settings(key_prefix, data_dir=tmp_path, secret_key="k" * 20)
    async with (
        Herald(settings, worker=False) as herald,
        serve_herald(herald) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        yield herald, http


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "mastodon:status", "username": "nobody"}, "username"),
        ({"type": "mastodon:status", "target": "nobody@"}, "target"),
        ({"type": "mastodon:status", "username": "a@https://x.org"}, "username"),
        ({"type": "mastodon:follower", "username": "a@x.org:99999"}, "username"),
        ({"type": "mastodon:hashtag", "username": "two words@x.org"}, "username"),
        ({"type": "mastodon:public", "username": "x.org/path"}, "username"),
        (
            {"type": "mastodon:public", "username": "x.org", "options": {"local": "yes"}},
            "options.local",
        ),
        ({"type": "mastodon:public", "username": "x.org", "options": {"remote": True}}, "options"),
        ({"type": "mastodon:mention", "username": "me@x.org", "authToken": "a\tb"}, "authToken"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    rest: tuple[Herald, httpx.AsyncClient], body: dict[str, Any], field: str
) -> None:
    _, http = rest
    response = await http.post("/api/streams/start", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(f"{field}:"), response.json()
    assert (await http.get("/api/streams")).json()["streams"] == []


async def test_a_token_is_stored_encrypted_and_shown_by_id_only(
    rest: tuple[Herald, httpx.AsyncClient], external_redis: Any
) -> None:
    herald, http = rest
    body = {"type": "mastodon:mention", "username": "Me@Example.org", "authToken": TOKEN}
    started = await http.post("/api/streams/start", json=body)
    assert started.status_code == 201, started.text
    stream = started.json()
    assert stream["username"] == "me@example.org" and TOKEN not in started.text
    listed = await http.get(f"/api/streams/{stream['id']}")
    assert TOKEN not in listed.text
    sealed = await external_redis.hget(token_key(herald.keys, listed.json()["accountId"]), "token")
    assert sealed is not None and TOKEN.encode() not in sealed
    # not an X account: the X pool never sees a Mastodon token
    assert (await http.get("/api/accounts")).json()["accounts"] == []
