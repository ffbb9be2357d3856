"""Mastodon rate-limit budgets per instance and caller, shared by every worker through Redis.

Mastodon reports one budget per caller (an access token, or the client address when
anonymous) in ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (an
ISO 8601 time). herald keeps the last report per scope (``mastodon:{instance}:{token id or
"anon"}``; a token id is a keyed hash, never the token) and endpoint (``api``: Mastodon
counts every call against one budget), in a hash that expires at the reset. A worker thus
sees a budget another worker spent before it sends a request that can only earn a 429, and
a forgotten key blocks nobody for long.

The contract (:class:`RateLimits`) has the shape of the generic rate-limit store that
``herald/store`` is getting for every platform, so this module can give way to it.
A late report never raises a spent budget: within one window the lowest ``remaining`` wins.
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
ENDPOINT = "api"


@dataclass(frozen=True, slots=True)
class Budget:
    """What an instance said about a caller's budget in its last answer."""

    remaining: int
    reset: float  # epoch seconds

    @classmethod
    def from_headers(cls, headers: object) -> Budget | None:
        """``X-RateLimit-Remaining`` and ``-Reset`` from a headers mapping; None when absent
        or malformed."""
        get = getattr(headers, "get", None)
        if get is None:
            return None
        try:
            return cls(
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


def wait_for(budget: Budget | None, now: float) -> float | None:
    """None when a request may go; else the seconds until the budget resets."""
    if budget is None or budget.remaining > 0 or budget.reset <= now:
        return None
    return budget.reset - now


class RateLimits(Protocol):
    async def record(self, scope: str, endpoint: str, budget: Budget) -> None: ...

    async def check(self, scope: str, endpoint: str) -> float | None: ...


def limits_key(keys: Keys, scope: str) -> str:
    """hash: endpoint -> "remaining reset" (epoch s) of one Mastodon caller on one instance."""
    return f"{keys.prefix}:ratelimit:{scope}"


# KEYS: the scope's hash; ARGV: endpoint, remaining, reset, expire-at, now.
_RECORD = """
local reset = tonumber(ARGV[3])
if reset <= tonumber(ARGV[5]) then redis.call('HDEL', KEYS[1], ARGV[1]) return 0 end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local sep = string.find(old, ' ', 1, true)
  local old_remaining = tonumber(string.sub(old, 1, sep - 1))
  local old_reset = tonumber(string.sub(old, sep + 1))
  if old_reset > tonumber(ARGV[5]) and math.abs(old_reset - reset) < 1
     and tonumber(ARGV[2]) > old_remaining then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
redis.call('EXPIREAT', KEYS[1], ARGV[4])
return 1
"""


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisMastodonLimits:
    """Budgets in Redis, one hash per scope, expiring just after the reset."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, clock: Clock = time.time) -> None:
        self._redis = redis
        self._keys = keys
        self._clock = clock
        self._record = redis.register_script(_RECORD)

    async def record(self, scope: str, endpoint: str, budget: Budget) -> None:
        await self._record(
            keys=[limits_key(self._keys, scope)],
            args=[
                endpoint,
                budget.remaining,
                repr(float(budget.reset)),
                math.ceil(budget.reset) + 1,
                self._clock(),
            ],
        )

    async def check(self, scope: str, endpoint: str) -> float | None:
        raw = await self._redis.hget(limits_key(self._keys, scope), endpoint)
        if raw is None:
            return None
        try:
            remaining, reset = _text(raw).split()
            budget = Budget(int(remaining), float(reset))
        except ValueError:
            return None
        return wait_for(budget, self._clock())


class MemoryMastodonLimits:
    """The same contract in one process (tests, one-off use)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._budgets: dict[tuple[str, str], Budget] = {}
        self._clock = clock

    async def record(self, scope: str, endpoint: str, budget: Budget) -> None:
        old = self._budgets.get((scope, endpoint))
        now = self._clock()
        if budget.reset <= now:
            self._budgets.pop((scope, endpoint), None)
            return
        if (
            old is not None
            and old.reset > now
            and abs(old.reset - budget.reset) < 1
            and budget.remaining > old.remaining
        ):
            return
        self._budgets[(scope, endpoint)] = budget

    async def check(self, scope: str, endpoint: str) -> float | None:
        return wait_for(self._budgets.get((scope, endpoint)), self._clock())
