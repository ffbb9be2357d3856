"""The in-process twin of :class:`herald.store.ratelimit.RateLimitStore`."""

from __future__ import annotations

import time

from herald.store.ratelimit import Budget, Clock, merge, wait_for


class MemoryRateLimits:
    """Budgets in one process, with the merge and expiry rules of the Redis form."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._budgets: dict[tuple[str, str], Budget] = {}
        self._clock = clock

    async def record(self, scope: str, endpoint: str, budget: Budget) -> None:
        key = (scope, endpoint)
        if budget.reset <= self._clock():
            self._budgets.pop(key, None)
            return
        current = self._budgets.get(key)
        if current is not None and current.reset <= self._clock():
            current = None
        self._budgets[key] = merge(current, budget)

    async def get(self, scope: str, endpoint: str) -> Budget | None:
        budget = self._budgets.get((scope, endpoint))
        if budget is None or budget.reset <= self._clock():
            return None
        return budget

    async def check(self, scope: str, endpoint: str) -> float | None:
        return wait_for(await self.get(scope, endpoint), self._clock())

    async def forget(self, scope: str) -> None:
        for key in [k for k in self._budgets if k[0] == scope]:
            del self._budgets[key]
