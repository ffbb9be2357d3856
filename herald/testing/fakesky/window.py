"""The kept window of frames that ``/subscribe`` replays from, as Jetstream keeps its
recent history: frames in ``time_us`` order, a cursor replays inclusively from the first
frame at or after it, and a cursor older than the window starts at its oldest frame (the
upstream cannot tell the client what it no longer has)."""

from __future__ import annotations

import asyncio
import bisect
import time
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Entry:
    """One kept frame, with what the subscriber filters look at."""

    time_us: int
    did: str
    collection: str | None
    """The commit's collection; None for identity and account frames."""
    text: str
    """The frame as sent (JSON text)."""


def entry_of(frame: dict[str, Any]) -> Entry:
    commit = frame.get("commit")
    collection = commit.get("collection") if isinstance(commit, dict) else None
    return Entry(
        int(frame["time_us"]),
        str(frame.get("did", "")),
        collection if isinstance(collection, str) else None,
        orjson.dumps(frame).decode(),
    )


class Window:
    """At most ``limit`` frames, oldest dropped first; ``seq`` numbers never repeat."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._entries: list[Entry] = []
        self._times: list[int] = []
        self._base = 0
        """The seq of ``_entries[0]``."""
        self._tick = asyncio.Event()

    @property
    def end(self) -> int:
        """The seq the next frame will get."""
        return self._base + len(self._entries)

    @property
    def last_time_us(self) -> int:
        return self._times[-1] if self._times else 0

    def __len__(self) -> int:
        return len(self._entries)

    def next_time_us(self) -> int:
        """Now in microseconds, strictly after every kept frame (Jetstream's cursor order)."""
        return max(time.time_ns() // 1000, self.last_time_us + 1)

    def append(self, frame: dict[str, Any]) -> Entry:
        """Keep ``frame`` (its ``time_us`` must be after every kept frame) and wake readers."""
        entry = entry_of(frame)
        if entry.time_us <= self.last_time_us:
            raise ValueError(
                f"time_us {entry.time_us} is not after the newest kept frame ({self.last_time_us})"
            )
        self._entries.append(entry)
        self._times.append(entry.time_us)
        if len(self._entries) > self.limit:
            self.forget(keep=self.limit)
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()
        return entry

    def forget(self, keep: int = 0) -> int:
        """Drop all but the newest ``keep`` frames (as an upstream past its retention);
        returns how many were dropped."""
        drop = max(0, len(self._entries) - keep)
        if drop:
            del self._entries[:drop]
            del self._times[:drop]
            self._base += drop
        return drop

    def start_for(self, cursor: int | None) -> int:
        """Where a subscriber starts: the live tip without a cursor (or one in the future);
        else the first kept frame at or after ``cursor`` (inclusive replay), clamped to the
        oldest kept frame."""
        if cursor is None or cursor > time.time_ns() // 1000:
            return self.end
        return self._base + bisect.bisect_left(self._times, cursor)

    def read(self, seq: int, limit: int = 500) -> tuple[list[Entry], int]:
        """Frames from ``seq`` (moved up to the oldest kept one) and the seq after them."""
        start = max(seq, self._base) - self._base
        chunk = self._entries[start : start + limit]
        return chunk, self._base + start + len(chunk)

    def frames(self, since_us: int = 0) -> list[Entry]:
        return self._entries[bisect.bisect_left(self._times, since_us) :]

    async def wait(self, seq: int, timeout: float | None = None) -> None:
        """Until a frame at ``seq`` or later exists (or ``timeout`` passes)."""
        while self.end <= seq:
            tick = self._tick
            if timeout is None:
                await tick.wait()
            else:
                try:
                    await asyncio.wait_for(tick.wait(), timeout)
                except TimeoutError:
                    return
