"""The client's mutations: what is POSTed, and which error says "nothing was sent" and
which "it may have been applied"."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_x_client_txid import Factory
from x_scripted import Answer, Script
from x_support import AUTH_TOKEN, free_port, serve_asgi

from herald.config import Settings
from herald.errors import (
    AccountLocked,
    AutomationSuspected,
    RateLimited,
    SchemaError,
    UpstreamError,
    WriteOutcomeUnknown,
    WriteRefused,
)
from herald.sources.x.client import XClient
from herald.sources.x.operations import load_operations


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Script, str]]:
    script = Script()
    async with serve_asgi(script.app()) as url:
        yield script, url


def settings(url: str, tmp_path: Path, *, txid: bool = False) -> Settings:
    return Settings(x_base_url=url, x_transaction_id=txid, poll_timeout=1, data_dir=tmp_path)


def x_errors(code: int, message: str) -> dict[str, object]:
    return {"errors": [{"code": code, "message": message}], "data": {}}


async def test_post_body_and_signature(peer: tuple[Script, str], tmp_path: Path) -> None:
    script, url = peer
    script.then(Answer(200, {"data": {"favorite_tweet": "Done"}}))
    factory = Factory()
    async with XClient(
        settings(url, tmp_path, txid=True), AUTH_TOKEN, transaction_ids=factory
    ) as c:
        answer = await c.graphql_post("FavoriteTweet", {"tweet_id": "20"})
    assert answer.body == {"data": {"favorite_tweet": "Done"}}
    sent = next(s for s in script.seen if "/graphql/" in s.path)
    op = load_operations()["FavoriteTweet"]
    assert sent.method == "POST"
    assert sent.path == op.path
    body = json.loads(sent.body)
    assert body == {"variables": {"tweet_id": "20"}, "queryId": op.query_id}  # no features
    assert sent.headers["x-csrf-token"] == script.ct0
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["x-client-transaction-id"]


async def test_create_tweet_sends_the_web_apps_variables_and_features(
    peer: tuple[Script, str], tmp_path: Path
) -> None:
    script, url = peer
    script.then(Answer(200, {"data": {"create_tweet": {}}}))
    async with XClient(settings(url, tmp_path), AUTH_TOKEN) as client:
        await client.graphql_post("CreateTweet", {"tweet_text": "hi"})
    body = json.loads(next(s for s in script.seen if "/graphql/" in s.path).body)
    assert body["variables"]["tweet_text"] == "hi"
    assert body["variables"]["dark_request"] is False
    assert body["variables"]["media"] == {"media_entities": [], "possibly_sensitive": False}
    assert body["features"]["responsive_web_edit_tweet_api_enabled"] is True


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (Answer(200, x_errors(226, "looks automated (226)")), AutomationSuspected),
        (Answer(200, x_errors(326, "temporarily locked (326)")), AccountLocked),
        (Answer(403, x_errors(326, "To protect our users ... locked")), AccountLocked),
        (Answer(429, x_errors(88, "Rate limit exceeded")), RateLimited),
        (Answer(200, x_errors(139, "already favorited")), WriteRefused),
        (Answer(503, {"errors": [{"code": 130, "message": "Over capacity"}]}), WriteOutcomeUnknown),
        (Answer(200, raw=b"<html>cut"), SchemaError),
        (Answer(200, delay=3), WriteOutcomeUnknown),
        (Answer(404, {}), UpstreamError),
    ],
)
async def test_each_answer_maps_to_its_error(
    peer: tuple[Script, str], tmp_path: Path, answer: Answer, error: type[Exception]
) -> None:
    script, url = peer
    script.then(answer)
    async with XClient(settings(url, tmp_path), AUTH_TOKEN) as client:
        with pytest.raises(error) as caught:
            await client.graphql_post("FavoriteTweet", {"tweet_id": "20"})
    if isinstance(caught.value, WriteRefused):
        assert caught.value.x_codes == frozenset({139})
    assert AUTH_TOKEN not in str(caught.value)
    assert len([s for s in script.seen if "/graphql/" in s.path]) == 1  # never retried


async def test_a_connection_never_made_is_upstream_error_nothing_sent(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with XClient(settings(url, tmp_path), f"auth_token={AUTH_TOKEN}; ct0=abc") as client:
        with pytest.raises(UpstreamError) as caught:
            await client.graphql_post("FavoriteTweet", {"tweet_id": "20"})
    assert "nothing was sent" in caught.value.detail


async def test_screen_name_is_read_from_account_settings(tmp_path: Path) -> None:
    from herald.testing.fakex.app import create_app

    async with serve_asgi(create_app()) as url:
        client = XClient(settings(url, tmp_path), AUTH_TOKEN)
        try:
            assert await client.screen_name() == "fakex_session"
        finally:
            await client.aclose()
