"""A small in-memory token bucket per client, with bounded memory.

Buckets are per process (each node limits its own clients), which is what a per-client
limit on requests over a connection needs. A key whose bucket has refilled completely is
indistinguishable from a new key, so idle keys are dropped when the table grows.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up, per key."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, key: str, now: float) -> float:
        state = self._buckets.get(key)
        if state is None:
            return self.burst
        tokens, stamp = state
        return min(self.burst, tokens + (now - stamp) * self.rate)

    def allow(self, key: str, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if there are enough; never blocks."""
        now = self._clock()
        tokens = self._tokens(key, now)
        if tokens < cost:
            self._buckets[key] = (tokens, now)
            self._buckets.move_to_end(key)
            return False
        self._buckets[key] = (tokens - cost, now)
        self._buckets.move_to_end(key)
        if len(self._buckets) > self.max_keys:
            self._evict(now)
        return True

    def retry_after(self, key: str, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are available for ``key`` (0 when they are now)."""
        missing = cost - self._tokens(key, self._clock())
        return max(0.0, missing / self.rate)

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)

    def _evict(self, now: float) -> None:
        full = [k for k in self._buckets if self._tokens(k, now) >= self.burst]
        for k in full:
            del self._buckets[k]
        # Shrink well below the cap so the sweep is amortised over many inserts.
        target = int(self.max_keys * 0.9)
        while len(self._buckets) > target:
            self._buckets.popitem(last=False)
