"""The RateLimitStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

import time

from backends import Backend

from herald.store.memory import MemoryRateLimits
from herald.store.ratelimit import Budget, RateLimitStore, RedisRateLimits

SCOPE = "mastodon:social.example:3f2a9c"


class Clock:
    """A clock the test moves; the Redis form still expires keys on the server's time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def limits_on(backend: Backend, clock: Clock) -> RateLimitStore:
    if backend.redis is None:
        return MemoryRateLimits(clock)
    return RedisRateLimits(backend.redis, backend.keys, clock)


async def test_unknown_budget_allows_a_call(backend: Backend) -> None:
    limits = limits_on(backend, Clock())
    assert await limits.check(SCOPE, "timeline") is None
    assert await limits.get(SCOPE, "timeline") is None


async def test_spent_budget_waits_until_reset(backend: Backend) -> None:
    clock = Clock()
    limits = limits_on(backend, clock)
    await limits.record(SCOPE, "timeline", Budget(0, clock.now + 60))
    wait = await limits.check(SCOPE, "timeline")
    assert wait is not None and 59 <= wait <= 60
    assert await limits.check(SCOPE, "other") is None, "budgets are per endpoint"
    assert await limits.check("mastodon:other.example:3f2a9c", "timeline") is None
    clock.now += 61
    assert await limits.check(SCOPE, "timeline") is None, "a reset window frees the call"
    assert await limits.get(SCOPE, "timeline") is None


async def test_remaining_budget_allows_a_call(backend: Backend) -> None:
    clock = Clock()
    limits = limits_on(backend, clock)
    await limits.record(SCOPE, "timeline", Budget(3, clock.now + 60))
    assert await limits.check(SCOPE, "timeline") is None
    assert await limits.get(SCOPE, "timeline") == Budget(3, clock.now + 60)


async def test_late_report_never_raises_a_spent_budget(backend: Backend) -> None:
    clock = Clock()
    limits = limits_on(backend, clock)
    reset = clock.now + 60
    await limits.record(SCOPE, "timeline", Budget(0, reset))
    await limits.record(SCOPE, "timeline", Budget(5, reset))  # an older answer, same window
    assert await limits.get(SCOPE, "timeline") == Budget(0, reset)
    await limits.record(SCOPE, "timeline", Budget(9, reset - 30))  # an older window
    assert await limits.get(SCOPE, "timeline") == Budget(0, reset)
    await limits.record(SCOPE, "timeline", Budget(100, reset + 900))  # a new window
    assert await limits.get(SCOPE, "timeline") == Budget(100, reset + 900)
    await limits.record(SCOPE, "timeline", Budget(0, reset))  # a 429 is believed
    assert await limits.get(SCOPE, "timeline") == Budget(0, reset)


async def test_report_of_a_past_window_clears_the_budget(backend: Backend) -> None:
    clock = Clock()
    limits = limits_on(backend, clock)
    await limits.record(SCOPE, "timeline", Budget(0, clock.now + 60))
    clock.now += 120
    await limits.record(SCOPE, "timeline", Budget(0, clock.now - 1))
    assert await limits.get(SCOPE, "timeline") is None
    await limits.record(SCOPE, "timeline", Budget(2, clock.now + 30))
    assert await limits.get(SCOPE, "timeline") == Budget(2, clock.now + 30)


async def test_forget_drops_only_that_scope(backend: Backend) -> None:
    clock = Clock()
    limits = limits_on(backend, clock)
    await limits.record(SCOPE, "a", Budget(0, clock.now + 60))
    await limits.record(SCOPE, "b", Budget(0, clock.now + 60))
    await limits.record(SCOPE + ":x", "a", Budget(0, clock.now + 60))
    await limits.forget(SCOPE)
    assert await limits.check(SCOPE, "a") is None
    assert await limits.check(SCOPE, "b") is None
    assert await limits.check(SCOPE + ":x", "a") is not None


async def test_shared_between_instances(backend: Backend) -> None:
    """Two workers' stores see one budget (for the twin: within one process)."""
    clock = Clock()
    if backend.redis is None:
        first = second = MemoryRateLimits(clock)
    else:
        first, second = limits_on(backend, clock), limits_on(backend, clock)
    await first.record(SCOPE, "timeline", Budget(0, clock.now + 60))
    assert await second.check(SCOPE, "timeline") is not None


async def test_redis_key_expires_at_the_latest_reset(redis_backend: Backend) -> None:
    clock = Clock()
    limits = limits_on(redis_backend, clock)
    await limits.record(SCOPE, "a", Budget(0, time.time() + 100))
    await limits.record(SCOPE, "b", Budget(0, time.time() + 20))
    ttl = await redis_backend.ttl_ms(redis_backend.keys.rate_limits(SCOPE))
    assert 95_000 <= ttl <= 102_000, ttl
    await limits.record(SCOPE, "b", Budget(0, time.time() + 300))
    ttl = await redis_backend.ttl_ms(redis_backend.keys.rate_limits(SCOPE))
    assert 295_000 <= ttl <= 302_000, ttl
