"""The Mastodon budget store, in Redis and in memory: the same rules on both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from herald.store.keys import Keys
from herald.store.mastodon_limits import (
    Budget,
    MemoryMastodonLimits,
    RateLimits,
    RedisMastodonLimits,
    limits_key,
    parse_reset,
)

NOW = 1_800_000_000.0


@pytest.fixture(params=["memory", "redis"])
def make(
    request: pytest.FixtureRequest, external_redis: aioredis.Redis, keys: Keys
) -> Callable[[list[float]], RateLimits]:
    def build(now: list[float]) -> RateLimits:
        if request.param == "memory":
            return MemoryMastodonLimits(clock=lambda: now[0])
        return RedisMastodonLimits(external_redis, keys, clock=lambda: now[0])

    return build


async def test_spent_waits_until_the_reset_and_late_reports_do_not_undo_it(
    make: Callable[[list[float]], RateLimits],
) -> None:
    now = [NOW]
    limits = make(now)
    scope = "mastodon:x.org:anon"
    assert await limits.check(scope, "api") is None
    await limits.record(scope, "api", Budget(0, NOW + 30))
    assert await limits.check(scope, "api") == pytest.approx(30)
    await limits.record(scope, "api", Budget(5, NOW + 30.2))  # a late answer of the window
    assert await limits.check(scope, "api") == pytest.approx(30)
    assert await limits.check("mastodon:x.org:m123", "api") is None  # a token's own budget
    await limits.record(scope, "api", Budget(299, NOW + 330))  # the next window
    assert await limits.check(scope, "api") is None
    await limits.record(scope, "api", Budget(0, NOW - 1))  # already reset: forgotten
    assert await limits.check(scope, "api") is None
    now[0] += 400
    assert await limits.check(scope, "api") is None


async def test_the_redis_key_expires_after_the_reset(external_redis: Any, keys: Keys) -> None:
    import time

    limits = RedisMastodonLimits(external_redis, keys)
    await limits.record("mastodon:x.org:anon", "api", Budget(0, time.time() + 20))
    ttl = await external_redis.ttl(limits_key(keys, "mastodon:x.org:anon"))
    assert 0 < ttl <= 22


def test_resets_as_mastodon_sends_them() -> None:
    assert parse_reset("2026-08-01T13:50:00.621469Z") == pytest.approx(1785592200.621469)
    assert parse_reset("1785592200") == 1785592200.0
    assert Budget.from_headers({"x-ratelimit-remaining": "3"}) is None
    assert Budget.from_headers(
        {"x-ratelimit-remaining": "3", "x-ratelimit-reset": "2026-08-01T13:50:00Z"}
    ) == Budget(3, 1785592200.0)
