"""Operators that call out: ``call`` (an async map) and ``tee`` (a side effect per element).

Both may be wrapped in a retry policy and a circuit breaker; their states are metrics
(``retries``, ``breaker_state`` 0 closed / 1 open / 2 half-open, ``breaker_rejected``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from herald.pipeline.operators.base import Element, Operator
from herald.pipeline.resilience import CircuitBreaker, RetryPolicy


class Caller(Operator):
    is_async = True

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.retry: RetryPolicy | None = None
        self.breaker_config: tuple[int, float] | None = None
        self.breaker: CircuitBreaker | None = None

    def _breaker(self) -> CircuitBreaker | None:
        if self.breaker is None and self.breaker_config is not None:
            threshold, recovery = self.breaker_config
            self.breaker = CircuitBreaker(threshold, recovery, self.ctx.clock)
        return self.breaker

    async def invoke(self, value: Any) -> Any:
        """Call ``fn`` through the breaker, retrying per the policy; raise the last error."""
        policy = self.retry or RetryPolicy(max_attempts=1)
        breaker = self._breaker()
        attempt = 1
        while True:
            if breaker is not None:
                breaker.before()
            try:
                result = self.fn(value)
                if inspect.isawaitable(result):
                    result = await result
            except policy.retry_on:
                if breaker is not None:
                    breaker.failure()
                    self._gauges(breaker)
                if attempt >= policy.max_attempts:
                    raise
                clock = self.ctx.clock
                await clock.sleep_until(clock.now() + policy.delay(attempt))
                attempt += 1
                self.metrics.extra["retries"] = self.metrics.extra.get("retries", 0.0) + 1
                continue
            if breaker is not None:
                breaker.success()
                self._gauges(breaker)
            return result

    def _gauges(self, breaker: CircuitBreaker) -> None:
        self.metrics.extra["breaker_state"] = float(breaker.state)
        self.metrics.extra["breaker_rejected"] = float(breaker.rejected)

    def all_metrics(self) -> dict[str, dict[str, float]]:
        if self.breaker is not None:
            self._gauges(self.breaker)
        return super().all_metrics()


class Call(Caller):
    """``value -> await fn(value)`` for enrichers that call a service."""

    kind = "call"

    async def apush(self, el: Element, now: float) -> list[Element]:
        try:
            el.value = await self.invoke(el.value)
        except Exception as exc:
            self.fail(el, exc)
            return []
        return [el]


class Tee(Caller):
    """Hands each value to ``sink`` and passes the element on, whether or not the sink failed
    (a failure is dead-lettered, so the main flow never loses an element to a sink)."""

    kind = "tee"

    async def apush(self, el: Element, now: float) -> list[Element]:
        try:
            await self.invoke(el.value)
        except Exception as exc:
            self.fail(el, exc)
        return [el]
