"""Rate-limit budgets shared by every worker, for any platform.

A budget is what an upstream last said about one endpoint: how many calls remain and when
the window resets. It is kept under an opaque **scope** chosen by the platform: an X account
id, or ``mastodon:{instance}:{token hash}`` for a Mastodon instance and token. A scope must
never hold a secret in the clear (hash a token first), since it becomes part of a Redis key.

:class:`RateLimitStore` is the contract; :class:`RedisRateLimits` keeps one hash per scope
(``Keys.rate_limits``, endpoint -> ``"remaining reset"``) that expires at the latest reset it
holds, so a forgotten scope cannot block anything forever.
:class:`herald.store.memory.MemoryRateLimits` is its in-process twin.

Rules both keep (``tests/store/contract/test_ratelimit_contract.py``):

- ``check`` answers None when a call may be made, else the seconds until the reset.
- A report for a window that has already reset clears the endpoint's budget.
- A late report never raises a spent budget: within one window the lowest ``remaining``
  wins, and a report for an older window than the one stored is ignored unless it says
  "spent" (a 429 is believed, whatever its reset).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from herald.store.codec import text
from herald.store.keys import Keys

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Budget:
    """What an upstream said about one endpoint's budget in its last answer."""

    remaining: int
    reset: float  # epoch seconds


class RateLimitStore(Protocol):
    """Budgets per (scope, endpoint), shared across workers."""

    async def record(self, scope: str, endpoint: str, budget: Budget) -> None:
        """Keep ``budget`` as the endpoint's latest report (see the module's rules)."""
        ...

    async def get(self, scope: str, endpoint: str) -> Budget | None:
        """The budget in force, or None when none is known or its window has reset."""
        ...

    async def check(self, scope: str, endpoint: str) -> float | None:
        """None when ``scope`` may call ``endpoint``; else seconds until its budget resets."""
        ...

    async def forget(self, scope: str) -> None:
        """Drop every budget of ``scope`` (an account removed, a token revoked)."""
        ...


def wait_for(budget: Budget | None, now: float) -> float | None:
    """Seconds to wait before a call under ``budget``; None when a call may be made."""
    if budget is None or budget.remaining > 0 or budget.reset <= now:
        return None
    return budget.reset - now


def merge(old: Budget | None, new: Budget) -> Budget:
    """The budget to keep when ``new`` is reported over ``old`` (a late report never raises
    a spent budget)."""
    if old is None or new.reset > old.reset:
        return new
    if new.reset < old.reset:
        return new if new.remaining <= 0 < old.remaining else old
    return new if new.remaining <= old.remaining else old


def _encode(budget: Budget) -> str:
    return f"{budget.remaining} {budget.reset!r}"


def _decode(raw: object) -> Budget | None:
    if raw is None:
        return None
    try:
        remaining, reset = text(raw).split()
        return Budget(int(remaining), float(reset))
    except (ValueError, TypeError):
        return None


# KEYS: the scope's hash; ARGV: endpoint, remaining, reset, expire-at (epoch s), now.
# The merge rule of ``merge`` above, then the hash lives until its latest reset.
_RECORD = """
local reset = tonumber(ARGV[3])
if reset <= tonumber(ARGV[5]) then redis.call('HDEL', KEYS[1], ARGV[1]) return 0 end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
    local sep = string.find(old, ' ', 1, true)
    if sep then
        local old_remaining = tonumber(string.sub(old, 1, sep - 1))
        local old_reset = tonumber(string.sub(old, sep + 1))
        if old_reset and old_remaining then
            if reset < old_reset and (tonumber(ARGV[2]) > 0 or old_remaining <= 0) then
                return 0
            end
            if reset == old_reset and tonumber(ARGV[2]) > old_remaining then return 0 end
        end
    end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
if redis.call('EXPIRETIME', KEYS[1]) < tonumber(ARGV[4]) then
    redis.call('EXPIREAT', KEYS[1], ARGV[4])
end
return 1
"""


class RedisRateLimits:
    """Budgets in Redis: one hash per scope, expiring at the latest reset it holds."""

    def __init__(self, redis: Redis, keys: Keys, clock: Clock = time.time) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock
        self._record = redis.register_script(_RECORD)

    async def record(self, scope: str, endpoint: str, budget: Budget) -> None:
        expire_at = math.ceil(budget.reset) + 1
        await self._record(
            keys=[self._keys.rate_limits(scope)],
            args=[endpoint, budget.remaining, repr(float(budget.reset)), expire_at, self._clock()],
        )

    async def get(self, scope: str, endpoint: str) -> Budget | None:
        budget = _decode(await self._redis.hget(self._keys.rate_limits(scope), endpoint))
        if budget is None or budget.reset <= self._clock():
            return None
        return budget

    async def check(self, scope: str, endpoint: str) -> float | None:
        return wait_for(await self.get(scope, endpoint), self._clock())

    async def forget(self, scope: str) -> None:
        await self._redis.delete(self._keys.rate_limits(scope))
