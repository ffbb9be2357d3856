"""Mastodon rate-limit budgets per instance and token, shared by every worker through Redis.

Mastodon reports one budget per caller (an access token, or the client address when
anonymous) in ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (an
ISO 8601 time). herald keeps the last report per scope (``{instance}:{token id or "anon"}``)
in a hash that expires at the reset, so a worker sees a budget another worker spent before
it sends a request that can only earn a 429, and a forgotten key blocks nobody for long.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import redis.asyncio as aioredis

from herald.store.keys import Keys

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class InstanceBudget:
    """What an instance said about a caller's budget in its last answer."""

    limit: int
    remaining: int
    reset: float  # epoch seconds

    @classmethod
    def from_headers(cls, headers: object) -> InstanceBudget | None:
        """``X-RateLimit-*`` from a headers mapping; None when absent or malformed."""
        get = getattr(headers, "get", None)
        if get is None:
            return None
        try:
            return cls(
                limit=int(get("x-ratelimit-limit")),
                remaining=int(get("x-ratelimit-remaining")),
                reset=parse_reset(str(get("x-ratelimit-reset"))),
            )
        except (TypeError, ValueError):
            return None


def parse_reset(value: str) -> float:
    """An ISO 8601 time (what Mastodon sends) or epoch seconds, as epoch seconds."""
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def wait_for(budget: InstanceBudget | None, now: float) -> float | None:
    """None when a request may go; else the seconds until the budget resets."""
    if budget is None or budget.remaining > 0 or budget.reset <= now:
        return None
    return budget.reset - now


class InstanceLimits(Protocol):
    async def record(self, scope: str, budget: InstanceBudget) -> None: ...

    async def check(self, scope: str) -> float | None: ...


def limits_key(keys: Keys, scope: str) -> str:
    """hash: limit, remaining, reset (epoch s) of one Mastodon caller on one instance."""
    return f"{keys.prefix}:mastodon:ratelimit:{scope}"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisInstanceLimits:
    """Budgets in Redis, one hash per scope, expiring just after the reset."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, clock: Clock = time.time) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock

    async def record(self, scope: str, budget: InstanceBudget) -> None:
        key = limits_key(self._keys, scope)
        if budget.reset <= self._clock():
            await self._redis.delete(key)
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "limit": budget.limit,
                    "remaining": budget.remaining,
                    "reset": repr(budget.reset),
                },
            )
            pipe.expireat(key, math.ceil(budget.reset) + 1)
            await pipe.execute()

    async def check(self, scope: str) -> float | None:
        raw = await self._redis.hgetall(limits_key(self._keys, scope))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        try:
            budget = InstanceBudget(
                int(fields["limit"]), int(fields["remaining"]), float(fields["reset"])
            )
        except (KeyError, ValueError):
            return None
        return wait_for(budget, self._clock())


class MemoryInstanceLimits:
    """The same contract in one process (tests, one-off use)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._budgets: dict[str, InstanceBudget] = {}
        self._clock = clock

    async def record(self, scope: str, budget: InstanceBudget) -> None:
        self._budgets[scope] = budget

    async def check(self, scope: str) -> float | None:
        return wait_for(self._budgets.get(scope), self._clock())
