"""The pipeline contract: records in, outputs out, state that snapshots and restores.

A :class:`Pipeline` is a flow of operators run in batches. ``process`` is deterministic
given (restored state, records, watermark): the runtime re-processes a batch after a crash
from the last committed snapshot and gets the same outputs with the same keys, which is
what makes the outputs exactly-once when appended with eventIds derived from the keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from herald.errors import HeraldError
from herald.pipeline.clock import Clock, SystemClock, VirtualClock
from herald.pipeline.operators.base import Context, Element, Operator
from herald.pipeline.operators.chain import Chain

if TYPE_CHECKING:
    from herald.pipeline.flow import Flow

__all__ = [
    "Clock",
    "DeadLetter",
    "Output",
    "Pipeline",
    "PipelineStateError",
    "Record",
    "SystemClock",
    "VirtualClock",
    "event_time",
]

# Payload keys that carry an item, in the order they are looked for, and the fields of
# each that hold the item's own time.
_PAYLOADS = ("tweet", "post", "mention", "entry", "trade", "message", "dm", "alert", "command")
_TIME_FIELDS = ("timestamp", "published", "time", "startsAt")


class PipelineStateError(HeraldError):
    """A snapshot cannot be restored: undecodable, another version, another pipeline shape.

    Never answered by a silent reset: the runtime shows it and waits for a decision
    (replay from an offset, or drop the state on purpose).
    """

    code = "pipeline_state_error"


@dataclass(frozen=True, slots=True)
class Record:
    """One entry of the global log as a pipeline sees it."""

    offset: str
    event: Mapping[str, Any]
    time: float

    @staticmethod
    def of(offset: str, event: Mapping[str, Any]) -> Record:
        """A record with its event time taken from the event (see :func:`event_time`)."""
        return Record(offset, event, event_time(event))


@dataclass(frozen=True, slots=True)
class Output:
    """One result of a pipeline; ``key`` is unique within it and the same on every re-run."""

    key: str
    name: str
    data: Mapping[str, Any]
    time: float


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An element a user function raised on, with the error text; the pipeline went on."""

    operator: str
    origin: str
    value: Any
    error: str
    time: float


def _parse_time(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # Epoch milliseconds (exchanges) or seconds.
        return float(value) / 1000.0 if value > 100_000_000_000 else float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


def event_time(event: Mapping[str, Any]) -> float:
    """The event's own time: the item's timestamp, else ``detectedAt``, else 0.

    Event time is when the thing happened (a tweet's timestamp, an entry's published
    date), not when herald noticed it, so a late poll does not move an item into the
    wrong window.
    """
    for key in _PAYLOADS:
        item = event.get(key)
        if isinstance(item, Mapping):
            for name in _TIME_FIELDS:
                found = _parse_time(item.get(name))
                if found is not None:
                    return found
    found = _parse_time(event.get("detectedAt"))
    return found if found is not None else 0.0


class Pipeline:
    """A named flow run batch by batch over records, with a watermark that closes windows.

    ``late`` and ``dead_letters`` hold the side outputs of the last ``process`` call (they
    are reset at the start of each call, so a re-run of a batch yields the same ones).
    """

    def __init__(
        self,
        name: str,
        flow: Flow,
        *,
        output: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self._ctx = Context(clock=clock or SystemClock())
        self._flow = flow
        self._output = output or name
        self._chain = self._build()
        self._watermark: float | None = None
        self._now = float("-inf")
        self.late: list[Record] = []
        self.dead_letters: list[DeadLetter] = []

    def _build(self) -> Chain:
        from herald.pipeline.operators.basic import Emit

        return Chain([*self._flow.build(), Emit(self._output)], "", self._ctx)

    @property
    def watermark(self) -> float | None:
        return self._watermark

    async def process(self, records: Sequence[Record], watermark: float | None) -> list[Output]:
        """Feed ``records`` (in log order), then move to ``watermark`` if it went forward.

        Records are pushed before the watermark moves: the poll that advances a stream's
        watermark is the one that produced its newest records, and they belong before it.
        ``watermark=None`` means "no progress" (a stalled input): windows stay open.
        """
        ctx = self._ctx
        ctx.clear()
        chain = self._chain
        els: list[Element] = []
        nows: list[float] = []
        now = self._now
        for record in records:
            if record.time > now:
                now = record.time
            els.append(Element(record.event, record.time, record.offset, None, record))
            nows.append(now)
        self._now = now
        if els:
            await chain.feed_many(0, els, nows)
        if watermark is not None and (self._watermark is None or watermark > self._watermark):
            self._watermark = watermark
            if watermark > self._now:
                self._now = watermark
        if records or watermark is not None:
            await chain.advance(self._now, self._watermark)
        self.late = [el.source for el in ctx.late if el.source is not None]
        self.dead_letters = list(ctx.dead)
        return list(ctx.outputs)

    async def drain(self) -> list[Output]:
        """End of input (a bounded replay): close every window and release everything."""
        ctx = self._ctx
        ctx.clear()
        await self._chain.flush(self._now)
        self.late = []
        self.dead_letters = list(ctx.dead)
        return list(ctx.outputs)

    def snapshot(self) -> bytes:
        """All operator state plus the watermark, versioned (see :mod:`.state`)."""
        from herald.pipeline.state import encode

        return encode(
            self.name,
            self._chain.ids(),
            {
                "watermark": self._watermark,
                "now": None if self._now == float("-inf") else self._now,
                "operators": self._chain.snapshot(),
            },
        )

    def restore(self, data: bytes) -> None:
        """Load a snapshot; raises :class:`PipelineStateError` if it does not fit."""
        from herald.pipeline.state import decode

        body = decode(data, self.name, self._chain.ids())
        # Restore into fresh operators and swap them in only if all of it fits, so a
        # failed restore leaves the pipeline as it was.
        chain = self._build()
        try:
            watermark = body["watermark"]
            now = body["now"]
            chain.restore(body["operators"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise PipelineStateError(f"pipeline {self.name!r}: state does not fit: {exc}") from exc
        chain.adopt_metrics(self._chain)
        self._chain = chain
        self._watermark = None if watermark is None else float(watermark)
        self._now = float("-inf") if now is None else float(now)

    def metrics(self) -> Mapping[str, Mapping[str, float]]:
        """Per operator id: in, out, dropped, errors, latency (mean s/item), latency_max."""
        return self._chain.metrics()

    def operators(self) -> list[Operator]:
        return list(self._chain.ops)
