"""The source watermark of a running pipeline: how far event time has surely come.

For polled inputs each stream's watermark is its last successful poll (``lastPoll`` in the
stream's state) minus a skew, and the pipeline's is the minimum over its inputs. A stream
whose last poll failed (in backoff, or rate limited) keeps the value it had when it last
succeeded: its windows freeze instead of closing empty, so a stalled input never looks like
"volume fell to zero". Paused and stopped streams produce nothing more and do not hold the
others back.

Push streams never poll: their mark comes from their connection's status
(:mod:`herald.pipeline.runtime.pushmarks`): while it is connected, what it has committed;
while it is down or in backoff, frozen where it was, like a polled stream in backoff.

Every refresh reads only the four state fields a mark needs, for every input, in one
pipelined round trip (:meth:`~herald.store.streams.StreamStore.mark_states`), and keeps
the mark of each stream (:class:`StreamMarks`) so that a pipeline that evaluates parts of
its input separately (alert rules scoped to streams or platforms) can take the minimum over
its own part only.

For inputs that are not polled (``watermark: events``) the watermark is the newest event
time seen minus the skew.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from herald.engine.changes import platform_of
from herald.pipeline.core import Record
from herald.pipeline.marks import NEVER, StreamMarks
from herald.pipeline.runtime.spec import PipelineSpec
from herald.store.streams import ACTIVE, MarkState, StreamStore


class PushMarkSource(Protocol):
    """Marks of push streams (``StreamType.mode == "push"``), by stream id."""

    def handles(self, stream_type: str) -> bool: ...

    async def marks(self, states: Sequence[MarkState]) -> dict[str, float | None]:
        """Epoch seconds each push stream has surely reached; None while its connection
        is down or failing (the caller keeps the last good value)."""
        ...


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
        push: PushMarkSource | None = None,
    ) -> None:
        self._spec = spec
        self._skew = spec.skew if spec.skew is not None else skew
        self._streams = streams
        self._push = push
        self._last_good: dict[str, float] = {}
        self._types: dict[str, str] = {}
        self._platforms: dict[str, str] = {}
        self._newest = NEVER
        # stream states change once a poll: read them at most every ``refresh`` seconds
        self._refresh = refresh
        self._monotonic = monotonic
        self._read_at = NEVER
        self._cached: float | None = None
        self.marks: StreamMarks | None = None
        """The marks of the last refresh, per stream (``None`` before the first)."""

    def stream_mark(self, state: MarkState) -> float | None:
        """One polled input's watermark, or ``None`` when it holds nothing back."""
        if state.status != ACTIVE:
            return None
        healthy = not state.last_error and state.consecutive_errors == 0
        if healthy and state.last_poll:
            return self._good(state.id, state.last_poll - self._skew)
        # in backoff (or never polled yet): frozen where it was, or holding everything
        return self._last_good.get(state.id, NEVER)

    def _good(self, sid: str, mark: float) -> float:
        """A mark never goes back (a push connection's committed time may dip)."""
        best = max(mark, self._last_good.get(sid, NEVER))
        self._last_good[sid] = best
        return best

    async def current(self, records: Sequence[Record]) -> float | None:
        """The watermark to pass with a batch; ``None`` means no progress."""
        if self._spec.watermark == "events":
            for record in records:
                if record.time > self._newest:
                    self._newest = record.time
            return None if self._newest == NEVER else self._newest - self._skew
        if self._streams is None:
            return None
        now = self._monotonic()
        if now - self._read_at < self._refresh:
            return self._cached
        self._read_at = now
        self.marks = await self._from_streams(self._streams)
        self._cached = self.marks.low
        return self._cached

    async def _from_streams(self, streams: StreamStore) -> StreamMarks:
        ids = sorted(self._spec.streams) if self._spec.streams is not None else None
        states = await streams.mark_states(ids, types=self._types)
        push = self._push
        pushed = [s for s in states if s.status == ACTIVE and push and push.handles(s.type)]
        pushed_marks = await push.marks(pushed) if push is not None and pushed else {}
        by_stream: dict[str, float] = {}
        platform: dict[str, str] = {}
        for state in states:
            if state.id in pushed_marks:
                found = pushed_marks[state.id]
                mark: float | None = (
                    self._last_good.get(state.id, NEVER)
                    if found is None
                    else self._good(state.id, found - self._skew)
                )
            else:
                mark = self.stream_mark(state)
            if mark is not None:
                by_stream[state.id] = mark
                name = self._platforms.get(state.type)
                if name is None:
                    name = self._platforms[state.type] = platform_of(state.type)
                platform[state.id] = name
        return StreamMarks.of(by_stream, platform)
