"""The commands service as a running Herald exposes it to the entry points."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from commands_support import ALICE_TOKEN, command_settings

from herald.commands.base import CommandsService
from herald.errors import WritesDisabled
from herald.service import Herald
from tests.conftest import EXTERNAL_REDIS_URL
from tests.waiting import wait_until


async def test_herald_serves_commands_and_settles_them(
    fakex: httpx.AsyncClient,
    fakex_url: str,
    tmp_path: Path,
    key_prefix: str,
    external_redis: object,
) -> None:
    settings = command_settings(
        fakex_url, tmp_path, key_prefix, redis_url=EXTERNAL_REDIS_URL, min_interval=1
    )
    async with Herald(settings, worker=True, delivery=False) as herald:
        assert isinstance(herald.commands, CommandsService)
        answer = await herald.commands.submit(
            {"type": "post_tweet", "commandId": "via-herald", "data": {"text": "from herald"}}
        )
        assert answer["state"] == "succeeded", answer
        assert (await herald.commands.get("via-herald")) == answer
        body = (await fakex.get("/_fakex/requests")).json()["operations"]
        assert body["CreateTweet"] == 1
    assert herald.commands is None


async def test_writes_are_off_by_default_and_nothing_is_sent(
    fakex: httpx.AsyncClient,
    fakex_url: str,
    tmp_path: Path,
    key_prefix: str,
    external_redis: object,
) -> None:
    settings = command_settings(
        fakex_url, tmp_path, key_prefix, redis_url=EXTERNAL_REDIS_URL, enable_writes=False
    )
    assert settings.session_cookie == ALICE_TOKEN
    async with Herald(settings, worker=False, delivery=False) as herald:
        assert herald.commands is not None
        with pytest.raises(WritesDisabled) as caught:
            await herald.commands.submit({"type": "post_tweet", "data": {"text": "nope"}})
        assert caught.value.status == 403
        assert "HERALD_ENABLE_WRITES" in caught.value.detail
        assert await herald.commands.list() == []
    requests = (await fakex.get("/_fakex/requests")).json()
    assert requests["total"] == 0


async def test_the_workers_reconciler_settles_an_uncertain_post(
    fakex: httpx.AsyncClient,
    fakex_url: str,
    tmp_path: Path,
    key_prefix: str,
    external_redis: object,
) -> None:
    settings = command_settings(
        fakex_url,
        tmp_path,
        key_prefix,
        redis_url=EXTERNAL_REDIS_URL,
        command_reconcile_interval=0.1,
    )
    fault = {"mode": "timeout_after_commit", "operation": "CreateTweet", "seconds": 30}
    (await fakex.post("/_fakex/faults", json=fault)).raise_for_status()
    async with Herald(settings, worker=True, delivery=False) as herald:
        commands = herald.commands
        assert commands is not None
        answer = await commands.submit(
            {"type": "post_tweet", "commandId": "auto", "data": {"text": "settle me"}}
        )
        assert answer["state"] == "uncertain"

        async def settled() -> bool:
            return (await commands.get("auto"))["state"] == "succeeded"

        await wait_until(settled, timeout=20, what="the reconciler settled the post")
    requests = (await fakex.get("/_fakex/requests")).json()["operations"]
    assert requests["CreateTweet"] == 1
