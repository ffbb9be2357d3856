"""Per-account, per-endpoint X rate-limit budgets, shared by every worker through Redis.

X reports each endpoint's budget in ``x-rate-limit-remaining`` and ``x-rate-limit-reset``
(epoch seconds). herald keeps the last report in ``keys.rate_limit(account, endpoint)``, a
hash that expires at the reset, so a worker on another machine sees a spent budget before it
spends a request on a certain 429, and a forgotten key cannot block an account forever.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis

from herald.store.keys import Keys

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Budget:
    """What X said about one endpoint's budget in its last answer."""

    remaining: int
    reset: float  # epoch seconds

    @classmethod
    def from_headers(cls, headers: object) -> Budget | None:
        """Read ``x-rate-limit-*`` from a headers mapping; None when absent or malformed."""
        get = getattr(headers, "get", None)
        if get is None:
            return None
        try:
            return cls(
                remaining=int(get("x-rate-limit-remaining")),
                reset=float(get("x-rate-limit-reset")),
            )
        except (TypeError, ValueError):
            return None


class RateLimitStore(Protocol):
    async def record(self, account_id: str, endpoint: str, budget: Budget) -> None: ...

    async def check(self, account_id: str, endpoint: str) -> float | None: ...

    async def forget(self, account_id: str) -> None: ...


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _wait(budget: Budget | None, now: float) -> float | None:
    if budget is None or budget.remaining > 0 or budget.reset <= now:
        return None
    return budget.reset - now


class RedisRateLimits:
    """Budgets in Redis: one hash per (account, endpoint), expiring at X's reset time."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, clock: Clock = time.time) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock

    async def record(self, account_id: str, endpoint: str, budget: Budget) -> None:
        key = self._keys.rate_limit(account_id, endpoint)
        if budget.reset <= self._clock():
            await self._redis.delete(key)
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"remaining": budget.remaining, "reset": budget.reset})
            pipe.expireat(key, math.ceil(budget.reset) + 1)
            await pipe.execute()

    async def check(self, account_id: str, endpoint: str) -> float | None:
        """None when the account may call ``endpoint``; else seconds until its budget resets."""
        raw = await self._redis.hgetall(self._keys.rate_limit(account_id, endpoint))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        try:
            budget = Budget(int(fields["remaining"]), float(fields["reset"]))
        except (KeyError, ValueError):
            return None
        return _wait(budget, self._clock())

    async def forget(self, account_id: str) -> None:
        pattern = self._keys.rate_limit(account_id, "*")
        found = [key async for key in self._redis.scan_iter(match=pattern, count=500)]
        if found:
            await self._redis.delete(*found)


class MemoryRateLimits:
    """The same contract in one process, for one-off polls that have no Redis."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._budgets: dict[tuple[str, str], Budget] = {}
        self._clock = clock

    async def record(self, account_id: str, endpoint: str, budget: Budget) -> None:
        self._budgets[(account_id, endpoint)] = budget

    async def check(self, account_id: str, endpoint: str) -> float | None:
        return _wait(self._budgets.get((account_id, endpoint)), self._clock())

    async def forget(self, account_id: str) -> None:
        for key in [k for k in self._budgets if k[0] == account_id]:
            del self._budgets[key]
