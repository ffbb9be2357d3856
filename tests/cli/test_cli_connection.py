"""Connection failures and auth: one-line reasons, and the API key never printed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.cli.conftest import CliServer, invoker, serve
from tests.servers import free_port, herald_settings

API_KEY = "cli-test-key-7f3a9c1e5b"


async def test_server_down_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    cli = invoker(url)
    for args in (
        ("streams", "list"),
        ("streams", "list", "--json"),
        ("stats",),
        ("health",),
        ("accounts", "list"),
        ("streams", "stop", "--all", "--json"),
    ):
        result = await cli(*args)
        assert result.exit_code == 1, args
        assert result.stdout == "", args
        assert result.stderr == f"error: cannot reach herald at {url}: connection refused\n", args


async def test_url_option_overrides_the_environment(server: CliServer) -> None:
    cli = invoker(f"http://127.0.0.1:{free_port()}")  # HERALD_URL points nowhere
    result = await cli("streams", "list", "--json", "--url", server.url)
    assert result.exit_code == 0 and json.loads(result.stdout)["count"] == 0


@pytest.fixture
async def secured(external_redis: object, key_prefix: str) -> AsyncIterator[CliServer]:
    async for running in serve(herald_settings(key_prefix, api_keys=[API_KEY])):
        yield running


async def test_token_is_required_and_never_printed(secured: CliServer) -> None:
    anonymous = invoker(secured.url)
    refused = await anonymous("streams", "list")
    assert refused.exit_code == 1
    assert "missing token" in refused.stderr and "--token" in refused.stderr

    wrong = await anonymous("streams", "list", "--token", "not-the-key")
    assert wrong.exit_code == 1 and "invalid token" in wrong.stderr

    with_flag = await anonymous("streams", "list", "--json", "--token", API_KEY)
    assert with_flag.exit_code == 0 and json.loads(with_flag.stdout)["count"] == 0

    cli = invoker(secured.url, HERALD_TOKEN=API_KEY)
    outputs = []
    for args in (
        ("streams", "start", "--type", "tweet", "--username", "nasa"),
        ("streams", "list"),
        ("streams", "list", "--json"),
        ("stats",),
        ("health", "--json"),
        ("streams", "status", "missing"),
    ):
        result = await cli(*args)
        outputs.append(result.stdout + result.stderr)
    assert all(API_KEY not in text for text in outputs)
