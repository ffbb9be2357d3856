"""Per-session, per-operation rate budgets, announced the way X does in response headers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Budget:
    limit: int
    remaining: int
    reset: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


class RateLimits:
    """``limit`` requests per ``window`` seconds for each (auth_token, operation)."""

    def __init__(
        self, limit: int = 500, window: float = 900.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.windows: dict[tuple[str, str], tuple[float, int]] = {}  # -> (reset, used)

    def spend(self, token: str, operation: str) -> tuple[Budget, bool]:
        """Count one request; False when the budget was already spent."""
        now = self.clock()
        reset, used = self.windows.get((token, operation), (0.0, 0))
        if now >= reset:
            reset, used = now + self.window, 0
        allowed = used < self.limit
        used += allowed
        self.windows[(token, operation)] = (reset, used)
        return Budget(self.limit, self.limit - used, int(reset)), allowed

    def exhausted(self, reset_in: int) -> Budget:
        return Budget(self.limit, 0, int(self.clock() + reset_in))
