"""A slow client's backlog: higher priority first, without losing the client's resume point.

A client whose socket is full gets its events queued. When the socket drains, what waits
is sent highest :func:`~herald.events.priority_of` first, and in offset order within one
priority. Control messages (acknowledgements, heartbeats, ``replay:done``) are barriers:
nothing moves across one, so an acknowledgement still comes before the events it covers and
a ``replay:done`` after the last one.

An event sent while an older one still waits has *overtaken* it: :meth:`Backlog.pop` says
so, and the transports send it marked (``"overtook": true`` in the body, and without the
resume position: no SSE ``id:``, no Socket.IO recovery offset). So the last offset of an
unmarked event stays a safe resume point: every event before it has been sent, in order or
ahead of it. Resuming from it may send an event that overtook a second time (same
``eventId``); it never skips one.
"""

from __future__ import annotations

import heapq
from typing import Generic, TypeVar

from herald.delivery.entry import Entry
from herald.events import priority_of

T = TypeVar("T")


def entry_priority(entry: Entry) -> int:
    """An event's priority, read from its body once and kept with the entry."""
    cached = entry.cache.get("priority")
    if cached is None:
        cached = entry.cache["priority"] = priority_of(entry.body)
    return int(cached)


def overtaking_text(entry: Entry) -> str:
    """The body of ``entry`` marked ``"overtook": true`` (spliced, not re-encoded)."""
    cached = entry.cache.get("overtook")
    if cached is None:
        cached = entry.cache["overtook"] = '{"overtook":true,' + entry.text[1:]
    return str(cached)


class Backlog(Generic[T]):
    """Items handed out by (barrier segment, priority high first, arrival)."""

    __slots__ = ("_heap", "_low", "_popped", "_segment", "_seq")

    def __init__(self) -> None:
        # (segment, 0 for an event | 1 for a barrier, -priority, arrival, item)
        self._heap: list[tuple[int, int, int, int, T]] = []
        self._seq = 0
        self._segment = 0
        self._low = 0  # the oldest arrival not yet handed out
        self._popped: set[int] = set()  # handed out ahead of an older one

    def __len__(self) -> int:
        return len(self._heap)

    def __bool__(self) -> bool:
        return bool(self._heap)

    def append(self, item: T, priority: int | None = None) -> None:
        """Queue an event of ``priority``, or with ``None`` a barrier (a control message)."""
        seq = self._seq
        self._seq += 1
        if priority is None:
            heapq.heappush(self._heap, (self._segment, 1, 0, seq, item))
            self._segment += 1
        else:
            heapq.heappush(self._heap, (self._segment, 0, -priority, seq, item))

    def pop(self) -> tuple[T, bool]:
        """The next item, and whether it overtook an older one still waiting."""
        _, _, _, seq, item = heapq.heappop(self._heap)
        if seq != self._low:
            self._popped.add(seq)
            return item, True
        self._low += 1
        while self._low in self._popped:
            self._popped.discard(self._low)
            self._low += 1
        return item, False

    def clear(self) -> None:
        self._heap.clear()
        self._popped.clear()
        self._low = self._seq
