"""Timelines an instance disabled (Mastodon 4.5 ``timelines_access``) are reported as such,
in each way an instance answers, never as "nothing new"; rate limits are shared by every
source instance through Redis; the token is never in a log line."""

from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis

from herald import redaction
from herald.config import Settings
from herald.errors import RateLimited, TimelineDisabled
from herald.sources.base import PollContext
from herald.sources.mastodon import access
from herald.sources.mastodon.source import MastodonSource
from herald.store.keys import Keys
from herald.store.mastodon_tokens import MastodonTokens
from herald.store.ratelimit import RedisRateLimits
from tests.sources.mastodon.conftest import TOKEN, Don, Stream


@pytest.mark.parametrize("answer", [401, 403, 422])
async def test_an_anonymous_refusal_is_disabled_by_the_instance(
    source: MastodonSource, don: Don, answer: int
) -> None:
    public = Stream(source, "mastodon:public", don.host)
    await public.poll()
    await don.control("POST", "/timelines", json={"access": "authenticated", "answer": answer})
    with pytest.raises(TimelineDisabled, match=rf"disabled by the instance .*HTTP {answer}"):
        await public.poll()
    tag = Stream(source, "mastodon:hashtag", f"hoot@{don.host}")
    with pytest.raises(TimelineDisabled, match="authToken may read it"):
        await tag.poll()


async def test_an_empty_answer_of_a_closed_feed_is_disabled_not_nothing_new(
    source: MastodonSource, don: Don
) -> None:
    now = [1000.0]
    source.access = access.AccessCache(clock=lambda: now[0])
    await don.control("POST", "/tokens", json={"token": TOKEN, "account": "mastodonpy_test"})
    token_id = await source.register_token(TOKEN)
    public = Stream(source, "mastodon:public", don.host, account_id=token_id)
    await public.poll()
    assert await public.new() == []  # open and quiet: nothing new, no error
    await don.control("POST", "/timelines", json={"access": "disabled", "answer": "empty"})
    reads = don.fake.requests["instance"]
    assert await public.new() == []  # the instance's verdict is kept for a while ...
    assert don.fake.requests["instance"] == reads
    now[0] += access.TTL + 1  # ... and read again after TTL seconds
    with pytest.raises(TimelineDisabled, match=r"timelines_access: live_feeds.local=disabled"):
        await public.poll()


async def test_an_empty_public_timeline_of_an_instance_with_posts_on_the_baseline(
    source: MastodonSource, don: Don
) -> None:
    """An instance that hides its feed without saying so in timelines_access (older than
    4.5): empty, although /api/v1/instance counts local posts."""
    don.fake.world.statuses = {
        k: {**v, "visibility": "unlisted"} for k, v in don.fake.world.statuses.items()
    }
    with pytest.raises(TimelineDisabled, match=r"reports \d+ local posts"):
        await Stream(source, "mastodon:public", don.host).poll()


async def test_a_partly_closed_federated_feed_still_reads(source: MastodonSource, don: Don) -> None:
    await don.control("POST", "/timelines", json={"access": "disabled", "parts": ["remote"]})
    public = Stream(source, "mastodon:public", don.host)
    assert (await public.poll()).items != []
    assert await public.new() == []


async def test_rate_limits_are_shared_by_two_sources(
    don: Don,
    settings: Settings,
    external_redis: aioredis.Redis,
    keys: Keys,
    tokens: MastodonTokens,
) -> None:
    """What one worker learned from the instance stops another from sending at all."""
    one = MastodonSource(settings, tokens, RedisRateLimits(external_redis, keys))
    two = MastodonSource(settings, tokens, RedisRateLimits(external_redis, keys))
    try:
        await don.control("POST", "/ratelimit", json={"remaining": 1, "resetIn": 60})
        await Stream(one, "mastodon:public", don.host).poll()  # spends the last request
        sent = don.fake.requests["timelines/public"]
        with pytest.raises(RateLimited) as caught:
            await Stream(two, "mastodon:public", don.host).poll()
        assert don.fake.requests["timelines/public"] == sent  # not even sent
        assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 61
        # a token's budget is its own: the anonymous one being spent does not stop it
        await don.control("POST", "/tokens", json={"token": TOKEN, "account": "mastodonpy_test"})
        token_id = await two.register_token(TOKEN)
        don.fake.budget.forced = None
        await Stream(two, "mastodon:public", don.host, account_id=token_id).poll()
        # a 429 with Retry-After: recorded, so the other source waits too
        await don.control(
            "POST", "/ratelimit", json={"remaining": 0, "resetIn": 40, "retryAfter": True}
        )
        with pytest.raises(RateLimited):
            await Stream(one, "mastodon:public", don.host, account_id=token_id).poll()
        sent = don.fake.requests["timelines/public"]
        with pytest.raises(RateLimited):
            await Stream(two, "mastodon:public", don.host, account_id=token_id).poll()
        assert don.fake.requests["timelines/public"] == sent
    finally:
        await one.aclose()
        await two.aclose()


async def test_the_token_is_stored_encrypted_and_never_logged(
    don: Don,
    source: MastodonSource,
    external_redis: aioredis.Redis,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    redaction.install()
    caplog.set_level(logging.DEBUG)
    await don.control("POST", "/tokens", json={"token": TOKEN, "account": "mastodonpy_test"})
    token_id = await source.register_token(TOKEN)
    assert TOKEN not in token_id
    stream = Stream(source, "mastodon:mention", don.host, account_id=token_id)
    await stream.poll()
    await don.control("POST", "/faults", json={"status": 401})
    with pytest.raises(Exception) as caught:
        await stream.poll()
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(source) and TOKEN not in repr(source.tokens)
    assert "Authorization" in caplog.text or "authorization" in caplog.text  # httpcore traced it
    assert TOKEN not in caplog.text
    async for key in external_redis.scan_iter(match=f"{keys.prefix}*"):
        raw = await external_redis.dump(key)
        assert TOKEN.encode() not in (raw or b""), key
    assert await source.tokens.token(token_id) == TOKEN
    ctx = PollContext("s1", "mastodon:mention", don.host, account_id=token_id)
    assert TOKEN not in repr(ctx)
