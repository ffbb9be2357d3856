"""X's rate-limit budgets: read from ``x-rate-limit-*`` headers, kept per account.

X reports each endpoint's budget in ``x-rate-limit-remaining`` and ``x-rate-limit-reset``
(epoch seconds). herald keeps the last report in the generic
:class:`herald.store.ratelimit.RateLimitStore`, with the account id as the scope, so a worker
on another machine sees a spent budget before it spends a request on a certain 429.
"""

from __future__ import annotations

from dataclasses import dataclass

from herald.store.memory.ratelimit import MemoryRateLimits
from herald.store.ratelimit import Budget as StoredBudget
from herald.store.ratelimit import RateLimitStore, RedisRateLimits

__all__ = ["Budget", "MemoryRateLimits", "RateLimitStore", "RedisRateLimits"]


@dataclass(frozen=True, slots=True)
class Budget(StoredBudget):
    """What X said about one endpoint's budget in its last answer."""

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
