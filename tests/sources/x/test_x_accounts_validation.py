"""Cookies HTTP cannot carry never enter the pool, and one that got in is marked unhealthy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from x_support import AUTH_TOKEN

from herald.config import Settings
from herald.errors import AccountAuthFailed, ValidationError
from herald.sources.base import PollContext
from herald.sources.x.accounts import AccountStore
from herald.sources.x.source import XSource
from herald.store.keys import Keys
from herald.store.secrets import Cipher

MAX_COOKIE = 4096  # the documented bound (docs/configuration.md)
BAD_COOKIES = [
    pytest.param(f"auth_token={AUTH_TOKEN}\nX-Injected: 1", id="newline"),
    pytest.param(f"auth_token={AUTH_TOKEN}\r", id="carriage-return-inside"),
    pytest.param("auth_token=tökén0123456789", id="non-ascii"),
    pytest.param("a" * (MAX_COOKIE + 1), id="over-the-bound"),
    pytest.param("x" * 23_000, id="23KB"),
    pytest.param("ct0=abc; twid=u%3D1", id="no-auth_token"),
]


@pytest.mark.parametrize("cookie", BAD_COOKIES)
async def test_the_store_refuses_cookies_http_cannot_carry(
    accounts: AccountStore, redis: aioredis.Redis, keys: Keys, cookie: str
) -> None:
    with pytest.raises(ValidationError, match=r"^cookie: "):
        await accounts.add(cookie + "z")  # "z": stripping cannot make it valid
    assert await accounts.list() == []
    assert [k async for k in redis.scan_iter(match=f"{keys.prefix}:*")] == []


async def test_a_cookie_at_the_bound_is_accepted(accounts: AccountStore) -> None:
    cookie = f"auth_token={AUTH_TOKEN}; ct0=" + "c" * (MAX_COOKIE - len(AUTH_TOKEN) - 17)
    assert len(cookie) == MAX_COOKIE
    account = await accounts.add(cookie)
    assert await accounts.cookie(account.id) == cookie


@pytest.fixture
async def source(x_settings: Settings, accounts: AccountStore) -> AsyncIterator[XSource]:
    source = XSource(x_settings, accounts)
    yield source
    await source.aclose()


async def plant(redis: aioredis.Redis, keys: Keys, store: AccountStore, cookie: str) -> str:
    """An account whose cookie an older herald stored without checking it."""
    account_id = store.account_id(cookie)
    sealed = Cipher("test secret key").encrypt(cookie)
    await redis.hset(
        keys.account(account_id), mapping={"cookie": sealed, "addedAt": "1", "health": "ok"}
    )
    await redis.zadd(keys.accounts, {account_id: 1})
    return account_id


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(f"auth_token={AUTH_TOKEN}\nX: y", id="newline"),
        pytest.param(f"auth_token={AUTH_TOKEN}é", id="non-ascii"),
    ],
)
async def test_a_cookie_that_cannot_be_sent_marks_the_account_auth_failed(
    source: XSource,
    accounts: AccountStore,
    redis: aioredis.Redis,
    keys: Keys,
    cookie: str,
) -> None:
    account_id = await plant(redis, keys, accounts, cookie)
    ctx: dict[str, Any] = {"stream_id": "s1", "type": "tweet", "username": "alice"}
    with pytest.raises(AccountAuthFailed) as raised:
        await source.fetch(PollContext(**ctx, account_id=account_id))
    assert "not a valid HTTP header value" in raised.value.detail
    assert AUTH_TOKEN not in raised.value.detail and raised.value.__cause__ is None
    account = await accounts.get(account_id)
    assert account.health == "auth_failed" and not account.usable
    # a good account added next is the one polls use; the broken one is never picked again
    good = await accounts.add(AUTH_TOKEN)
    result = await source.fetch(PollContext(**ctx))
    assert result.items and (await accounts.get(good.id)).health == "ok"
