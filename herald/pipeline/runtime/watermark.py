"""The source watermark of a running pipeline: how far event time has surely come.

For polled inputs each stream's watermark is its last successful poll (``lastPoll`` in the
stream's state, read through :class:`~herald.store.streams.StreamStore`) minus a skew, and
the pipeline's is the minimum over its inputs. A stream whose last poll failed (in backoff,
or rate limited) keeps the value it had when it last succeeded: its windows freeze instead
of closing empty, so a stalled input never looks like "volume fell to zero". Paused and
stopped streams produce nothing more and do not hold the others back.

For inputs that are not polled (``watermark: events``) the watermark is the newest event
time seen minus the skew.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from herald.pipeline.core import Record
from herald.pipeline.runtime.spec import PipelineSpec
from herald.store.streams import ACTIVE, StreamRecord, StreamStore


class Watermarks:
    """Computes a pipeline's watermark before each batch; remembers frozen inputs."""

    def __init__(
        self,
        spec: PipelineSpec,
        streams: StreamStore | None,
        *,
        skew: float = 10.0,
        refresh: float = 0.25,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spec = spec
        self._skew = spec.skew if spec.skew is not None else skew
        self._streams = streams
        self._last_good: dict[str, float] = {}
        self._newest = float("-inf")
        # stream states change once a poll: read them at most every ``refresh`` seconds
        self._refresh = refresh
        self._monotonic = monotonic
        self._read_at = float("-inf")
        self._cached: float | None = None

    def stream_mark(self, record: StreamRecord) -> float | None:
        """One input's watermark, or ``None`` when it holds nothing back (not polling)."""
        if record.status != ACTIVE:
            return None
        healthy = not record.last_error and record.consecutive_errors == 0
        if healthy and record.last_poll:
            mark = record.last_poll - self._skew
            self._last_good[record.id] = mark
            return mark
        # in backoff (or never polled yet): frozen where it was, or holding everything
        return self._last_good.get(record.id, float("-inf"))

    async def current(self, records: Sequence[Record]) -> float | None:
        """The watermark to pass with a batch; ``None`` means no progress."""
        if self._spec.watermark == "events":
            for record in records:
                if record.time > self._newest:
                    self._newest = record.time
            return None if self._newest == float("-inf") else self._newest - self._skew
        if self._streams is None:
            return None
        now = self._monotonic()
        if now - self._read_at < self._refresh:
            return self._cached
        self._read_at = now
        self._cached = await self._from_streams(self._streams)
        return self._cached

    async def _from_streams(self, streams: StreamStore) -> float | None:
        if self._spec.streams is not None:
            found = [await streams.get(sid) for sid in sorted(self._spec.streams)]
            inputs = [r for r in found if r is not None]
        else:
            inputs = await streams.all()
        marks = [m for m in (self.stream_mark(r) for r in inputs) if m is not None]
        if not marks:
            return None
        low = min(marks)
        return None if low == float("-inf") else low
