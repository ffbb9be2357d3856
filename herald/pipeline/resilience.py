"""Retry with backoff and a circuit breaker, for operators that call out (HTTP, webhooks).

Both wait and measure time through a :class:`~herald.pipeline.clock.Clock`, so their tests
move a virtual clock instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from herald.errors import HeraldError
from herald.pipeline.clock import Clock


class CircuitOpen(HeraldError):
    """The breaker is open: the call was not made."""

    code = "circuit_open"
    status = 503


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Up to ``max_attempts`` calls in all, waiting ``initial * factor**n`` (capped) between.

    ``retry_on`` names the exceptions worth another try; anything else fails at once.
    """

    max_attempts: int = 3
    initial: float = 0.1
    factor: float = 2.0
    max_delay: float = 30.0
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial < 0 or self.factor < 1 or self.max_delay < 0:
            raise ValueError("backoff needs initial >= 0, factor >= 1, max_delay >= 0")

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_delay, self.initial * self.factor ** (attempt - 1)))


class BreakerState(IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitBreaker:
    """Opens after ``threshold`` failures in a row; after ``recovery`` s lets one call try.

    That trial closes it on success and re-opens it (for another ``recovery``) on failure.
    """

    def __init__(self, threshold: int, recovery: float, clock: Clock) -> None:
        if threshold < 1:
            raise ValueError("a breaker threshold must be >= 1")
        if not recovery > 0:
            raise ValueError("a breaker recovery time must be > 0")
        self.threshold = threshold
        self.recovery = recovery
        self.clock = clock
        self.failures = 0
        self.opened_at = 0.0
        self._state = BreakerState.CLOSED
        self.rejected = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self.clock.now() >= self.opened_at + self.recovery:
            self._state = BreakerState.HALF_OPEN
        return self._state

    def before(self) -> None:
        """Raise :class:`CircuitOpen` if no call may go out now."""
        if self.state is BreakerState.OPEN:
            self.rejected += 1
            raise CircuitOpen(
                f"circuit open after {self.failures} failures; "
                f"retrying at {self.opened_at + self.recovery:.3f}"
            )

    def success(self) -> None:
        self.failures = 0
        self._state = BreakerState.CLOSED

    def failure(self) -> None:
        self.failures += 1
        if self._state is BreakerState.HALF_OPEN or self.failures >= self.threshold:
            self._state = BreakerState.OPEN
            self.opened_at = self.clock.now()
