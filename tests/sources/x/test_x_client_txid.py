"""The x-client-transaction-id header: computed by twscrape's signer, refreshed after a 404."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from twscrape.xclid import XClIdGen
from x_scripted import Answer, Script
from x_support import AUTH_TOKEN, serve_asgi

from herald.config import Settings
from herald.errors import UpstreamError
from herald.sources.x.client import Signer, XClient


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Script, str]]:
    script = Script()
    async with serve_asgi(script.app()) as url:
        yield script, url


class Factory:
    """Builds twscrape signers from fixed keys (x.com's page is not fetched in tests)."""

    def __init__(self) -> None:
        self.made = 0
        self.cookies: list[dict[str, str]] = []

    async def __call__(self, cookies: dict[str, str]) -> Signer:
        self.made += 1
        self.cookies.append(cookies)
        signer: Signer = XClIdGen(list(range(48)), f"animkey{self.made}")
        return signer


def settings(url: str, tmp_path: Path) -> Settings:
    return Settings(x_base_url=url, x_transaction_id=True, poll_timeout=2, data_dir=tmp_path)


async def test_header_is_sent_and_reused(peer: tuple[Script, str], tmp_path: Path) -> None:
    script, url = peer
    factory = Factory()
    async with XClient(settings(url, tmp_path), AUTH_TOKEN, transaction_ids=factory) as client:
        await client.graphql("UserByScreenName", {"screen_name": "alice"})
        await client.graphql("UserByScreenName", {"screen_name": "alice"})
    graphql = [seen for seen in script.seen if "/graphql/" in seen.path]
    headers = [seen.headers["x-client-transaction-id"] for seen in graphql]
    assert len(headers) == 2 and headers[0] != headers[1]  # a fresh id per request
    assert len(base64.b64decode(headers[0] + "==")) > 48
    assert factory.made == 1
    assert factory.cookies[0]["auth_token"] == AUTH_TOKEN and factory.cookies[0]["ct0"]


async def test_404_refreshes_the_signer_once(peer: tuple[Script, str], tmp_path: Path) -> None:
    script, url = peer
    script.then(Answer(404, {}))
    factory = Factory()
    async with XClient(settings(url, tmp_path), AUTH_TOKEN, transaction_ids=factory) as client:
        response = await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert response.body["data"]["user"]["result"]["rest_id"] == "42"
    assert factory.made == 2


async def test_a_signer_that_cannot_be_built_is_an_upstream_error(
    peer: tuple[Script, str], tmp_path: Path
) -> None:
    _, url = peer

    async def broken(cookies: dict[str, str]) -> Signer:
        raise RuntimeError("cannot parse the page")

    async with XClient(settings(url, tmp_path), AUTH_TOKEN, transaction_ids=broken) as client:
        with pytest.raises(UpstreamError, match="x-client-transaction-id") as caught:
            await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert AUTH_TOKEN not in str(caught.value)
