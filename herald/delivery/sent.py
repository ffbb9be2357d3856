"""What one connection has already been sent, so that re-subscribing never repeats an event.

A Socket.IO client receives every event from the moment it connects (compat mode) and
usually subscribes with ``since`` right after. The replay for that subscription covers
offsets the connection may already have received live. Each subscription is a *window*:
the offsets it started after, the selector it used, and the last offset it sent. An event
was sent before when it falls inside a closed window and that window's selector matched it.
Live events after a new join are always newer than anything sent, so only the replay asks.
"""

from __future__ import annotations

from herald.delivery.entry import Entry, OffsetKey
from herald.delivery.subscription import Selector

#: Closed windows kept per connection; a client re-subscribing more often than this
#: within one replay's reach is pathological, and the oldest windows are forgotten.
MAX_WINDOWS = 16


class SentWindows:
    __slots__ = ("_closed", "_selector", "_start", "last")

    def __init__(self) -> None:
        self._closed: list[tuple[OffsetKey, OffsetKey, Selector]] = []
        self._start: OffsetKey = (0, 0)
        self._selector: Selector | None = None
        #: The newest offset sent in the current window (the sink updates it).
        self.last: OffsetKey | None = None

    def open(self, after: OffsetKey, selector: Selector | None) -> None:
        """Start a window of offsets strictly after ``after``; ``None`` ends delivery."""
        if self._selector is not None and self.last is not None:
            self._closed.append((self._start, self.last, self._selector))
            del self._closed[:-MAX_WINDOWS]
        self._start, self._selector, self.last = after, selector, None

    def reset(self) -> None:
        """Forget every window: what follows (a replay subscription) is sent whole."""
        self._closed.clear()
        self._start, self._selector, self.last = (0, 0), None, None

    def was_sent(self, entry: Entry) -> bool:
        key = entry.key
        for start, end, selector in self._closed:
            if start < key <= end and selector.matches(entry):
                return True
        return False
