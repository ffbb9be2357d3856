"""HERALD_X_TRANSACTION_ID=auto (the default): requests to x.com are signed, requests to a
stand-in are not, and an explicit true or false decides for every host."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from x_scripted import Script
from x_support import AUTH_TOKEN, serve_asgi

from herald.config import Settings
from herald.sources.x import signing
from herald.sources.x.client import Signer, XClient
from herald.sources.x.signing import signs_requests


@pytest.mark.parametrize(
    ("base_url", "mode", "signed"),
    [
        ("https://x.com", "auto", True),
        ("https://api.x.com", "auto", True),
        ("https://twitter.com", "auto", True),
        ("http://127.0.0.1:8090", "auto", False),
        ("https://notx.com", "auto", False),  # a host that merely ends in "x.com"
        ("https://x.com.example.org", "auto", False),
        ("http://127.0.0.1:8090", True, True),
        ("https://x.com", False, False),
    ],
)
def test_which_hosts_are_signed_for(base_url: str, mode: bool | str, signed: bool) -> None:
    settings = Settings(x_base_url=base_url, x_transaction_id=mode)
    assert signs_requests(settings) is signed


@pytest.mark.parametrize(("raw", "mode"), [("auto", "auto"), ("false", False), ("true", True)])
def test_the_setting_reads_auto_true_and_false_from_the_environment(
    raw: str, mode: bool | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERALD_X_TRANSACTION_ID", raw)
    assert Settings().x_transaction_id == mode


def test_the_default_is_auto() -> None:
    assert Settings().x_transaction_id == "auto"


def test_an_unsigned_host_is_said_once_at_info(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing, "_UNSIGNED_LOGGED", set())
    settings = Settings(x_base_url="http://127.0.0.1:8090")
    with caplog.at_level(logging.INFO, logger="herald.sources.x.signing"):
        for _ in range(3):
            assert not signs_requests(settings)
    said = [r for r in caplog.records if "not signed" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.INFO
    assert "HERALD_X_TRANSACTION_ID" in said[0].getMessage()


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Script, str]]:
    script = Script()
    async with serve_asgi(script.app()) as url:
        yield script, url


async def test_a_stand_in_is_called_without_a_signer(
    peer: tuple[Script, str], tmp_path: Path
) -> None:
    script, url = peer
    built: list[int] = []

    async def factory(cookies: dict[str, str]) -> Signer:  # would fetch x.com's web app
        built.append(1)
        raise AssertionError("no signer may be built for a stand-in")

    settings = Settings(x_base_url=url, poll_timeout=2, data_dir=tmp_path)
    async with XClient(settings, AUTH_TOKEN, transaction_ids=factory) as client:
        response = await client.graphql("UserByScreenName", {"screen_name": "alice"})
    assert response.body["data"]["user"]["result"]["rest_id"] == "42"
    assert built == []
    graphql = [seen for seen in script.seen if "/graphql/" in seen.path]
    assert graphql and all("x-client-transaction-id" not in s.headers for s in graphql)
