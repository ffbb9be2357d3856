"""When to try a failed delivery again: Svix's schedule, jitter, and ``Retry-After``.

The default steps are Svix's: 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (eight
attempts over about 27.6 hours). ``HERALD_WEBHOOKS_SCHEDULE`` replaces them (tests use
short steps). Each step is spread by ``±jitter`` so endpoints that failed together do not
all come back at once; a receiver's ``Retry-After`` (seconds or an HTTP date) makes the
wait at least that long (capped at an hour, or the schedule's longest step if longer).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime

#: The longest wait a ``Retry-After`` may ask for beyond the schedule's longest step.
RETRY_AFTER_CAP = 3600.0
SVIX = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def parse_schedule(text: str) -> tuple[float, ...]:
    """``"0,5,300"`` (seconds; ``ms``/``s``/``m``/``h`` suffixes allowed) as steps."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    steps: list[float] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        unit = next((u for u in ("ms", "s", "m", "h") if part.endswith(u)), "")
        number = part[: -len(unit)] if unit else part
        try:
            value = float(number) * units.get(unit, 1.0)
        except ValueError:
            raise ValueError(f"{part!r} is not a number of seconds") from None
        if not 0 <= value <= 7 * 86400:
            raise ValueError(f"{part!r} is not between 0 and 7 days")
        steps.append(value)
    if not steps:
        raise ValueError("needs at least one step")
    return tuple(steps)


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds a ``Retry-After`` header asks for (None: absent or unreadable)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)


class Schedule:
    """The wait before attempt ``n`` (0-based) of one event; None when it has none left."""

    def __init__(
        self,
        steps: Sequence[float] = SVIX,
        *,
        jitter: float = 0.1,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.steps = tuple(steps)
        self.jitter = jitter
        self._rand = rand

    @property
    def attempts(self) -> int:
        return len(self.steps)

    def delay(self, attempt: int, asked: float | None = None) -> float | None:
        """The wait before attempt ``attempt`` after a failure; ``asked``: Retry-After."""
        if attempt >= len(self.steps):
            return None
        base = self.steps[attempt]
        spread = base * self.jitter * (2 * self._rand() - 1)
        wait = max(base + spread, 0.0)
        if asked is not None:
            wait = max(wait, min(asked, max(*self.steps, RETRY_AFTER_CAP)))
        return wait
