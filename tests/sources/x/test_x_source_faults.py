"""Every fault the X stand-in injects, through XSource: the error, the account's health, the
shared budget, and no cookie in any error, log record or Redis value."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from x_support import AUTH_TOKEN, serve_asgi

from herald.config import Settings
from herald.errors import (
    AccountAuthFailed,
    EmptyResponse,
    FetchTimeout,
    RateLimited,
    SchemaError,
    SourceError,
    UpstreamError,
    UserNotFound,
)
from herald.sources.base import PollContext
from herald.sources.x.accounts import AccountStore
from herald.sources.x.source import XSource
from herald.store.keys import Keys
from herald.store.secrets import Cipher

OTHER_TOKEN = "0ther70ken0ther70ken0ther70ken0ther70ken"


def context(kind: str, username: str, account_id: str | None = None) -> PollContext:
    return PollContext(stream_id="s1", type=kind, username=username, account_id=account_id)


@pytest.fixture
async def source(x_settings: Settings, accounts: AccountStore) -> AsyncIterator[XSource]:
    source = XSource(x_settings, accounts)
    yield source
    await source.aclose()


@pytest.fixture
async def account_id(accounts: AccountStore) -> str:
    return (await accounts.add(AUTH_TOKEN, label="main")).id


async def fault(fakex: httpx.AsyncClient, **body: Any) -> None:
    response = await fakex.post("/_fakex/faults", json={"count": 1, **body})
    assert response.status_code == 201, response.text


async def redis_dump(redis: aioredis.Redis, prefix: str) -> str:
    parts: list[str] = []
    async for key in redis.scan_iter(match=f"{prefix}:*"):
        parts.append(key.decode())
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            parts += [f"{k!r}={v!r}" for k, v in (await redis.hgetall(key)).items()]
        elif kind == "zset":
            parts += [repr(m) for m in await redis.zrange(key, 0, -1)]
        elif kind == "string":
            parts.append(repr(await redis.get(key)))
    return "\n".join(parts)


def assert_no_secret(text: str) -> None:
    assert AUTH_TOKEN not in text
    assert OTHER_TOKEN not in text


FAULTS: list[tuple[dict[str, Any], type[SourceError], str, str]] = [
    ({"status": 401}, AccountAuthFailed, "auth_failed", "HTTP 401"),
    ({"mode": "logged_out"}, AccountAuthFailed, "auth_failed", "expired or was logged out"),
    ({"status": 503}, UpstreamError, "ok", "HTTP 503"),
    ({"status": 500}, UpstreamError, "ok", "HTTP 500"),
    ({"mode": "garbage"}, SchemaError, "ok", "not JSON"),
    ({"mode": "empty", "operation": "UserTweets"}, EmptyResponse, "ok", "empty timeline"),
    ({"status": 429, "resetIn": 120}, RateLimited, "rate_limited", "rate limit"),
]


@pytest.mark.parametrize(("body", "error", "health", "words"), FAULTS)
async def test_fault(
    source: XSource,
    accounts: AccountStore,
    fakex: httpx.AsyncClient,
    account_id: str,
    redis: aioredis.Redis,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
    body: dict[str, Any],
    error: type[SourceError],
    health: str,
    words: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    await fault(fakex, **body)
    with pytest.raises(error) as caught:
        await source.fetch(context("tweet", "alice", account_id))
    assert type(caught.value) is error
    assert words in caught.value.detail
    account = await accounts.get(account_id)
    assert account.health == health
    if health != "ok":
        assert account.health_reason == caught.value.detail
    assert_no_secret(f"{caught.value!r} {caught.value} {account!r} {account.to_public()}")
    assert_no_secret(caplog.text)
    assert_no_secret(await redis_dump(redis, keys.prefix))


async def test_recovery_after_a_one_off_auth_failure(
    source: XSource, accounts: AccountStore, fakex: httpx.AsyncClient, account_id: str
) -> None:
    await fault(fakex, status=401)
    with pytest.raises(AccountAuthFailed):
        await source.fetch(context("tweet", "alice", account_id))
    assert (await accounts.get(account_id)).health == "auth_failed"
    # the stream's own account is tried again: its cookie works, so it is healthy again
    result = await source.fetch(context("tweet", "alice", account_id))
    assert len(result.items) == 3
    assert (await accounts.get(account_id)).health == "ok"


async def test_429_waits_for_the_reset_without_asking_x_again(
    source: XSource,
    accounts: AccountStore,
    fakex: httpx.AsyncClient,
    account_id: str,
    redis: aioredis.Redis,
    keys: Keys,
) -> None:
    await fault(fakex, status=429, resetIn=300, operation="UserTweets")
    with pytest.raises(RateLimited) as caught:
        await source.fetch(context("tweet", "alice", account_id))
    assert caught.value.retry_after is not None and 290 <= caught.value.retry_after <= 301
    assert caught.value.counts_as_error is False
    wait = await accounts.limits.check(account_id, "UserTweets")
    assert wait is not None and 290 <= wait <= 302
    assert await redis.ttl(keys.rate_limits(account_id)) >= 290  # kept until the reset
    before = (await fakex.get("/_fakex/requests")).json()["total"]
    with pytest.raises(RateLimited) as again:
        await source.fetch(context("tweet", "alice", account_id))
    assert again.value.retry_after is not None and again.value.retry_after > 280
    assert (await fakex.get("/_fakex/requests")).json()["total"] == before
    # another worker sharing the Redis sees the same spent budget
    other = XSource(source._settings, AccountStore(redis, keys, Cipher("test secret key")))
    try:
        with pytest.raises(RateLimited):
            await other.fetch(context("tweet", "alice", account_id))
    finally:
        await other.aclose()


async def test_429_moves_the_poll_to_another_account(
    source: XSource, accounts: AccountStore, fakex: httpx.AsyncClient, account_id: str
) -> None:
    other = await accounts.add(OTHER_TOKEN, label="spare")
    await fault(fakex, status=429, resetIn=300, operation="UserTweets")
    result = await source.fetch(context("tweet", "alice", account_id))
    assert len(result.items) == 3
    assert (await accounts.get(account_id)).health == "rate_limited"
    assert (await accounts.get(other.id)).last_used is not None


async def test_spent_budget_from_headers_goes_to_the_next_account(
    x_settings: Settings, accounts: AccountStore, fakex_url: str, tmp_path: Path
) -> None:
    """A budget X reports as spent (remaining 0) is not spent again: the next account polls."""
    from herald.testing.fakex.app import create_app

    async with serve_asgi(create_app(rate_limit=2)) as url:
        settings = x_settings.model_copy(update={"x_base_url": url})
        source = XSource(settings, accounts)
        first = await accounts.add(AUTH_TOKEN, label="first")
        second = await accounts.add(OTHER_TOKEN, label="second")
        try:
            async with httpx.AsyncClient(base_url=url) as control:
                for _ in range(2):
                    await source.fetch(context("tweet", "alice", first.id))
                assert await accounts.limits.check(first.id, "UserTweets") is not None
                await source.fetch(context("tweet", "alice", first.id))
                seen = (await control.get("/_fakex/requests")).json()["operations"]
                assert seen["UserTweets"] == 3  # no request was spent on a certain 429
                assert (await accounts.get(second.id)).last_used is not None
                for _ in range(1):
                    await source.fetch(context("tweet", "alice", first.id))
                with pytest.raises(RateLimited) as caught:
                    await source.fetch(context("tweet", "alice", first.id))
                assert caught.value.retry_after is not None
                assert 800 < caught.value.retry_after <= 900
        finally:
            await source.aclose()


async def test_timeout(
    x_settings: Settings, accounts: AccountStore, fakex: httpx.AsyncClient, account_id: str
) -> None:
    source = XSource(x_settings.model_copy(update={"poll_timeout": 0.3}), accounts)
    await fault(fakex, mode="timeout", seconds=10)
    started = time.monotonic()
    try:
        with pytest.raises(FetchTimeout, match="did not answer"):
            await source.fetch(context("tweet", "alice", account_id))
    finally:
        await source.aclose()
    assert time.monotonic() - started < 3
    assert (await accounts.get(account_id)).health == "ok"


async def test_unknown_user(source: XSource, account_id: str) -> None:
    with pytest.raises(UserNotFound):
        await source.fetch(context("tweet", "nobody_here", account_id))


async def test_empty_mentions_and_followers_are_failures(
    source: XSource, fakex: httpx.AsyncClient, account_id: str
) -> None:
    await fault(fakex, mode="empty", operation="SearchTimeline")
    with pytest.raises(EmptyResponse, match="treated as a failed fetch"):
        await source.fetch(context("mention", "alice", account_id))
    await fault(fakex, mode="empty", operation="Followers")
    with pytest.raises(EmptyResponse, match="follower list"):
        await source.fetch(context("follower", "alice", account_id))
