"""Per-operator counters: in, out, dropped, errors and the time spent per item.

Metrics observe; they never steer. Latency is measured with ``perf_counter`` around each
push, which is fine because no output depends on it.
"""

from __future__ import annotations


class OperatorMetrics:
    """Counters of one operator; ``extra`` holds operator-specific gauges (breaker state...)."""

    __slots__ = ("dropped", "errors", "extra", "in_", "latency_max", "latency_total", "out")

    def __init__(self) -> None:
        self.in_ = 0
        self.out = 0
        self.dropped = 0
        self.errors = 0
        self.latency_total = 0.0
        self.latency_max = 0.0
        self.extra: dict[str, float] = {}

    def observe(self, seconds: float) -> None:
        self.latency_total += seconds
        if seconds > self.latency_max:
            self.latency_max = seconds

    def as_dict(self) -> dict[str, float]:
        """``latency`` is the mean seconds per item pushed in; ``latency_max`` the worst push."""
        mean = self.latency_total / self.in_ if self.in_ else 0.0
        return {
            "in": float(self.in_),
            "out": float(self.out),
            "dropped": float(self.dropped),
            "errors": float(self.errors),
            "latency": mean,
            "latency_max": self.latency_max,
            **self.extra,
        }
