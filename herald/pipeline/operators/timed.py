"""Operators that hold elements over time: batch, rate_limit, throttle, debounce.

They read time only from ``now`` (the driver's clock), so a virtual clock or a replayed
batch drives them exactly as the original run did.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from herald.pipeline.operators.base import Element, Operator


class Batch(Operator):
    """Lists of up to ``size`` values, or fewer once ``timeout`` s passed since the first."""

    kind = "batch"

    def __init__(self, size: int, timeout: float | None = None) -> None:
        super().__init__()
        if size < 1:
            raise ValueError("a batch size must be >= 1")
        if timeout is not None and not timeout > 0:
            raise ValueError("a batch timeout must be > 0")
        self.size = size
        self.timeout = timeout
        self.held: list[Element] = []
        self.first_at = 0.0

    def _release(self) -> list[Element]:
        held, self.held = self.held, []
        first = held[0]
        value = [el.value for el in held]
        when = max(el.time for el in held)
        return [Element(value, when, f"{first.origin}+{len(held)}", first.tag)]

    def push(self, el: Element, now: float) -> list[Element]:
        if not self.held:
            self.first_at = now
        self.held.append(el)
        return self._release() if len(self.held) >= self.size else []

    def deadline(self) -> float | None:
        if self.held and self.timeout is not None:
            return self.first_at + self.timeout
        return None

    def advance(self, now: float, watermark: float | None) -> list[Element]:
        due = self.deadline()
        return self._release() if due is not None and now >= due else []

    def flush(self) -> list[Element]:
        return self._release() if self.held else []

    def snapshot(self) -> Any:
        return {"held": [el.encode() for el in self.held], "first": self.first_at}

    def restore(self, state: Any) -> None:
        state = state or {"held": [], "first": 0.0}
        self.held = [Element.decode(item) for item in state["held"]]
        self.first_at = float(state["first"])


class RateLimit(Operator):
    """A token bucket: ``rate`` per second, bursts of ``burst``.

    ``overflow="delay"`` holds what is over the rate (up to ``capacity``, then the newest is
    dropped) and lets it out as tokens refill; ``"drop"`` drops it at once.
    """

    kind = "rate_limit"

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        overflow: Literal["delay", "drop"] = "delay",
        capacity: int = 10_000,
    ) -> None:
        super().__init__()
        if not rate > 0:
            raise ValueError("a rate must be > 0")
        if overflow not in ("delay", "drop"):
            raise ValueError("rate_limit overflow is 'delay' or 'drop'")
        self.rate = rate
        self.burst = float(burst if burst is not None else max(1.0, rate))
        if self.burst < 1:
            raise ValueError("a burst must be >= 1")
        self.overflow = overflow
        self.capacity = capacity
        self.tokens = self.burst
        self.last: float | None = None
        self.queue: deque[Element] = deque()

    def _refill(self, now: float) -> None:
        if self.last is None:
            self.last = now
        elif now > self.last:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now

    def push(self, el: Element, now: float) -> list[Element]:
        self._refill(now)
        if not self.queue and self.tokens >= 1:
            self.tokens -= 1
            return [el]
        if self.overflow == "drop" or len(self.queue) >= self.capacity:
            self.metrics.dropped += 1
            return []
        self.queue.append(el)
        return []

    def advance(self, now: float, watermark: float | None) -> list[Element]:
        """Release what the time up to ``now`` pays for, token by token, as if time had
        moved continuously (a jump of 3 s at rate 1 releases 3, whatever the burst)."""
        out: list[Element] = []
        while self.queue:
            if self.tokens >= 1:
                self.tokens -= 1
                out.append(self.queue.popleft())
                continue
            due = self.deadline()
            if due is None or due > now:
                break
            self.tokens, self.last = 1.0, due
        self._refill(now)
        return out

    def deadline(self) -> float | None:
        if not self.queue or self.last is None:
            return None
        return self.last + max(0.0, 1 - self.tokens) / self.rate

    def flush(self) -> list[Element]:
        out, self.queue = list(self.queue), deque()
        return out

    def snapshot(self) -> Any:
        return {
            "tokens": self.tokens,
            "last": self.last,
            "queue": [el.encode() for el in self.queue],
        }

    def restore(self, state: Any) -> None:
        if state is None:
            self.tokens, self.last, self.queue = self.burst, None, deque()
            return
        self.tokens = float(state["tokens"])
        self.last = state["last"]
        self.queue = deque(Element.decode(item) for item in state["queue"])


class Throttle(Operator):
    """The first element of every ``interval`` passes; the rest of it are dropped."""

    kind = "throttle"

    def __init__(self, interval: float) -> None:
        super().__init__()
        if not interval > 0:
            raise ValueError("a throttle interval must be > 0")
        self.interval = interval
        self.last = -math.inf

    def push(self, el: Element, now: float) -> list[Element]:
        if now >= self.last + self.interval:
            self.last = now
            return [el]
        self.metrics.dropped += 1
        return []

    def snapshot(self) -> Any:
        return None if self.last == -math.inf else self.last

    def restore(self, state: Any) -> None:
        self.last = -math.inf if state is None else float(state)


class Debounce(Operator):
    """Only the last element of a burst, once ``wait`` s passed without another (per key)."""

    kind = "debounce"

    def __init__(self, wait: float, key: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        if not wait > 0:
            raise ValueError("a debounce wait must be > 0")
        self.wait = wait
        self.key = key
        self.held: dict[str, tuple[Element, float]] = {}

    def push(self, el: Element, now: float) -> list[Element]:
        try:
            key = "" if self.key is None else str(self.key(el.value))
        except Exception as exc:
            self.fail(el, exc)
            return []
        if key in self.held:
            self.metrics.dropped += 1
        self.held[key] = (el, now + self.wait)
        return []

    def advance(self, now: float, watermark: float | None) -> list[Element]:
        due = sorted((at, key) for key, (_, at) in self.held.items() if at <= now)
        return [self.held.pop(key)[0] for _, key in due]

    def deadline(self) -> float | None:
        return min((at for _, at in self.held.values()), default=None)

    def flush(self) -> list[Element]:
        return self.advance(math.inf, None)

    def snapshot(self) -> Any:
        return {key: [el.encode(), at] for key, (el, at) in self.held.items()}

    def restore(self, state: Any) -> None:
        self.held = {
            str(key): (Element.decode(item), float(at)) for key, (item, at) in (state or {}).items()
        }
