"""Mastodon's budget headers as the shared rate-limit store keeps them (the store's own
rules are its contract suite's)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from herald.sources.mastodon.client import ENDPOINT, budget_from_headers, parse_reset
from herald.store.keys import Keys
from herald.store.ratelimit import Budget, RedisRateLimits


def test_resets_as_mastodon_sends_them() -> None:
    assert parse_reset("2026-08-01T13:50:00.621469Z") == pytest.approx(1785592200.621469)
    assert parse_reset("1785592200") == 1785592200.0
    assert budget_from_headers({"x-ratelimit-remaining": "3"}) is None
    assert budget_from_headers({"x-ratelimit-remaining": "x", "x-ratelimit-reset": "1"}) is None
    assert budget_from_headers(
        {"x-ratelimit-remaining": "3", "x-ratelimit-reset": "2026-08-01T13:50:00Z"}
    ) == Budget(3, 1785592200.0)


async def test_a_spent_budget_waits_for_its_reset_per_instance_and_caller(
    external_redis: Any, keys: Keys
) -> None:
    limits = RedisRateLimits(external_redis, keys)
    anon, token = "mastodon:x.org:anon", "mastodon:x.org:m0123456789abcd"
    await limits.record(anon, ENDPOINT, Budget(0, time.time() + 20))
    wait = await limits.check(anon, ENDPOINT)
    assert wait is not None and 0 < wait <= 20
    assert await limits.check(token, ENDPOINT) is None  # a token's budget is its own
    assert await limits.check("mastodon:y.org:anon", ENDPOINT) is None
    ttl = await external_redis.ttl(keys.rate_limits(anon))
    assert 0 < ttl <= 22
