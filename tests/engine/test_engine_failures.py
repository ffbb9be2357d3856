"""Failures are never silent: each one is its own stream:error, after a resume too, and an
exception that is not a source error is still a counted error that stops the stream."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from herald.config import Settings
from herald.errors import UpstreamError, ValidationError
from herald.service import Herald
from herald.sources.base import FetchResult, PollContext
from herald.sources.memory import MemorySource
from herald.sources.x.ratelimit import RateLimitStore
from herald.store.secrets import Cipher
from herald.store.streams import StreamStore
from tests.engine.x_world import COOKIE, wait_for, x_world

BY_HAND = pytest.mark.herald_options(worker=False)


async def history(herald: Herald, stream_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    events = list(reversed(await herald.manager.history(stream_id, 1000)))
    return [e for e in events if kind is None or e["type"] == kind]


async def fail_until_stopped(herald: Herald, stream_id: str) -> None:
    for _ in range(herald.settings.max_errors):
        await herald.manager.poll_now(stream_id)
    assert (await herald.manager.status(stream_id))["status"] == "error"


@BY_HAND
async def test_a_stream_that_fails_again_after_resume_says_so_again(
    herald: Herald, source: MemorySource
) -> None:
    herald.settings.max_errors = 3
    stream = (await herald.manager.create("tweet", "frank", interval=60))["id"]
    source.fail_next(UpstreamError("X answered 503"), times=6)
    await fail_until_stopped(herald, stream)
    await herald.manager.resume(stream)
    await fail_until_stopped(herald, stream)
    kinds = [e["type"] for e in await history(herald, stream)]
    assert kinds == [
        "stream:started",
        *["stream:error"] * 3,
        "stream:stopped",
        "stream:resumed",
        *["stream:error"] * 3,
        "stream:stopped",
    ]
    errors = await history(herald, stream, "stream:error")
    assert [e["consecutiveErrors"] for e in errors] == [1, 2, 3, 1, 2, 3]
    assert len({e["eventId"] for e in errors}) == 6
    stops = await history(herald, stream, "stream:stopped")
    assert stops[0]["eventId"] != stops[1]["eventId"]


class BrokenDiffSource(MemorySource):
    """Returns an item the diff cannot read: a bug past the fetch."""

    async def fetch(self, ctx: PollContext) -> FetchResult:
        return FetchResult(items=[object()])  # type: ignore[list-item]


@BY_HAND
@pytest.mark.parametrize(
    "error",
    [
        UnicodeEncodeError("ascii", "tök", 1, 2, "ordinal not in range(128)"),
        ValueError(f"Invalid header value b'auth_token={COOKIE}'"),
    ],
    ids=["unicode", "value"],
)
async def test_any_exception_in_a_fetch_is_a_counted_error_then_a_stop(
    herald: Herald, source: MemorySource, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stream = (await herald.manager.create("tweet", "tess", interval=60))["id"]
    source.fail_next(error, times=herald.settings.max_errors)
    outcomes = [
        (await herald.manager.poll_now(stream))["outcome"]
        for _ in range(herald.settings.max_errors)
    ]
    assert outcomes == ["error"] * (herald.settings.max_errors - 1) + ["stopped"]
    errors = await history(herald, stream, "stream:error")
    assert [e["kind"] for e in errors] == ["internal"] * herald.settings.max_errors
    assert [e["consecutiveErrors"] for e in errors] == list(range(1, 11))
    assert type(error).__name__ in errors[0]["error"]
    status = await herald.manager.status(stream)
    assert status["status"] == "error" and status["lastErrorKind"] == "internal"
    assert (await history(herald, stream))[-1]["type"] == "stream:stopped"
    assert (await herald.manager.stats())["errorsByKind"]["internal"] == 10
    everything = caplog.text + repr(await history(herald, stream)) + repr(status)
    assert COOKIE not in everything and "tök" not in everything


@BY_HAND
@pytest.mark.parametrize("source", [BrokenDiffSource()])
async def test_an_exception_in_the_diff_is_a_counted_error(herald: Herald) -> None:
    stream = (await herald.manager.create("tweet", "dora", interval=60))["id"]
    result = await herald.manager.poll_now(stream)
    assert result["outcome"] == "error" and "during the diff" in result["error"]
    (error,) = await history(herald, stream, "stream:error")
    assert error["kind"] == "internal" and error["consecutiveErrors"] == 1


async def test_a_non_ascii_session_cookie_is_a_counted_error_not_a_silent_loop(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = "tökén" + COOKIE
    async with x_world(settings, max_errors=2) as world:
        herald = world.herald
        with pytest.raises(ValidationError, match=r"^authToken: "):  # refused at the door
            await herald.manager.create("tweet", "alice", interval=60, auth_token=token)
        # ...but one an older herald stored without checking still fails every poll plainly
        accounts = herald.accounts()
        account_id = accounts.account_id(token)
        sealed = Cipher.from_settings(herald.settings).encrypt(token)
        await herald.redis.hset(herald.keys.account(account_id), mapping={"cookie": sealed})
        await herald.redis.zadd(herald.keys.accounts, {account_id: 1})
        stream = await herald.manager.create("tweet", "alice", interval=60)
        store = StreamStore(herald.redis, herald.keys, ttl=herald.settings.state_ttl)
        await store.update_meta(stream["id"], {"accountId": account_id})
        for _ in range(2):
            await world.poll(stream["id"])
        errors = await world.events(stream["id"], "stream:error")
        assert [e["kind"] for e in errors] == ["auth_failed", "auth_failed"]
        assert "not a valid HTTP header value" in errors[0]["error"]
        assert (await accounts.get(account_id)).health == "auth_failed"
        status = await herald.manager.status(stream["id"])
        assert status["status"] == "error" and status["consecutiveErrors"] == 2
        everything = caplog.text + repr(await world.events(stream["id"])) + repr(status)
        assert COOKIE not in everything and "tökén" not in everything


async def test_each_rate_limit_is_its_own_event(settings: Settings) -> None:
    async with x_world(settings) as world:
        stream = await world.start("tweet", "alice")
        fault = {"status": 429, "count": 3, "operation": "UserTweets", "resetIn": 0}
        await world.control("POST", "/faults", json=fault)
        herald = world.herald
        account = (await herald.manager.status(stream))["accountId"]
        limits = herald.accounts().limits
        for _ in range(3):
            # wait out the recorded reset (about a second), so each poll asks X again
            await wait_until_usable(limits, account)
            assert (await world.poll(stream))["outcome"] == "rate_limited"
        assert (await world.control("GET", "/faults"))["pending"] == []
        errors = await world.events(stream, "stream:error")
        assert [e["kind"] for e in errors] == ["rate_limited"] * 3
        assert len({e["eventId"] for e in errors}) == 3
        assert all(e["retryAt"] and e["consecutiveErrors"] == 0 for e in errors)
        await wait_until_usable(limits, account)
        assert (await world.poll(stream))["outcome"] == "baseline"


async def wait_until_usable(limits: RateLimitStore, account: str) -> None:
    await wait_for(lambda: limits.check(account, "UserTweets"), lambda wait: wait is None)
