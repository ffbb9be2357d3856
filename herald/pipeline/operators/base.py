"""What every operator is: a small state machine fed elements and told the time.

An operator gets ``push(element, now)`` for each element and ``advance(now, watermark)``
when time moves. ``now`` is the driver's clock: in a :class:`~herald.pipeline.core.Pipeline`
it is derived from the records (the largest event time seen, or the watermark), so a
re-run of the same batch from the same state gives the same outputs; in a
:class:`~herald.pipeline.stream.Stream` it is the injected clock. ``watermark`` is the
event time before which no more input is expected (windows close on it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from herald.pipeline.clock import Clock, SystemClock
from herald.pipeline.metrics import OperatorMetrics

if TYPE_CHECKING:
    from herald.pipeline.core import DeadLetter, Output, Record


@dataclass(slots=True)
class Element:
    """A value on its way through a flow.

    ``origin`` is its deterministic lineage (the input offset, extended by every operator
    that makes new elements) and becomes the output's key; ``tag`` names the fork branch it
    came out of; ``source`` is the record it derives from, while there is a single one.
    """

    value: Any
    time: float
    origin: str
    tag: str | None = None
    source: Record | None = None

    def encode(self) -> list[Any]:
        return [self.value, self.time, self.origin, self.tag]

    @staticmethod
    def decode(data: Any) -> Element:
        value, when, origin, tag = data
        return Element(value, float(when), str(origin), tag)


@dataclass(slots=True)
class Context:
    """Where operators put what leaves the flow sideways: outputs, late items, dead letters."""

    outputs: list[Output] = field(default_factory=list)
    late: list[Element] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    clock: Clock = field(default_factory=SystemClock)

    def clear(self) -> None:
        self.outputs = []
        self.late = []
        self.dead = []


def fmt_time(value: float) -> str:
    """Times in keys: fixed millisecond precision so a key never depends on float repr."""
    return f"{value:.3f}"


class Operator:
    """Base of every operator. Subclasses override what they need."""

    kind: ClassVar[str] = "operator"
    is_async: ClassVar[bool] = False

    def __init__(self) -> None:
        self.id = ""
        self.metrics = OperatorMetrics()
        self.ctx = Context()

    def bind(self, op_id: str, ctx: Context) -> None:
        """Give the operator its place in the flow (its id is part of its output keys)."""
        self.id = op_id
        self.ctx = ctx

    def push(self, el: Element, now: float) -> list[Element]:
        return [el]

    async def apush(self, el: Element, now: float) -> list[Element]:
        return self.push(el, now)

    def advance(self, now: float, watermark: float | None) -> list[Element]:
        """Time moved: release what is due (windows, batches, debounced items)."""
        return []

    async def aadvance(self, now: float, watermark: float | None) -> list[Element]:
        return self.advance(now, watermark)

    async def aflush(self, now: float) -> list[Element]:
        return self.flush()

    def deadline(self) -> float | None:
        """The next ``now`` at which :meth:`advance` would release something (streams)."""
        return None

    def flush(self) -> list[Element]:
        """End of input: release everything held."""
        return []

    def snapshot(self) -> Any:
        """JSON-able state, or None for a stateless operator."""
        return None

    def restore(self, state: Any) -> None:
        return None

    def adopt_metrics(self, other: Operator) -> None:
        self.metrics = other.metrics

    def all_metrics(self) -> dict[str, dict[str, float]]:
        return {self.id: self.metrics.as_dict()}

    # --- failures -----------------------------------------------------------------
    def fail(self, el: Element, exc: BaseException) -> None:
        """A user function raised on ``el``: count it and dead-letter it; the flow goes on."""
        from herald.pipeline.core import DeadLetter

        self.metrics.errors += 1
        self.ctx.dead.append(
            DeadLetter(
                operator=self.id,
                origin=el.origin,
                value=el.value,
                error=f"{type(exc).__name__}: {exc}",
                time=el.time,
            )
        )

    def call(self, fn: Callable[[Any], Any], el: Element) -> tuple[bool, Any]:
        """Run a user function on an element's value; ``(False, None)`` if it raised."""
        try:
            return True, fn(el.value)
        except Exception as exc:
            self.fail(el, exc)
            return False, None


def timed() -> float:
    return time.perf_counter()
