"""The in-process twin of :class:`herald.store.bsky.BskyStore`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from herald.store.bsky import Follow

Clock = Callable[[], float]


class MemoryBskyStore:
    """Handles, follows and counts in dicts, each entry expiring like its Redis key."""

    def __init__(
        self, *, handle_ttl: int = 86_400, follow_ttl: int = 7_776_000, clock: Clock = time.time
    ) -> None:
        self._handles: dict[str, tuple[str, float]] = {}
        self._follows: dict[Follow, tuple[str, float]] = {}
        self._counts: dict[str, tuple[int, float]] = {}
        self._handle_ttl = handle_ttl
        self._follow_ttl = follow_ttl
        self._clock = clock

    async def handle_did(self, handle: str) -> str | None:
        found = self._handles.get(handle)
        if found is None or found[1] <= self._clock():
            self._handles.pop(handle, None)
            return None
        return found[0]

    async def save_handle(self, handle: str, did: str) -> None:
        self._handles[handle] = (did, self._clock() + self._handle_ttl)

    async def forget_handles(self, handles: Sequence[str]) -> None:
        for handle in handles:
            self._handles.pop(handle, None)

    async def save_follows(self, follows: Sequence[tuple[str, str, str]]) -> None:
        until = self._clock() + self._follow_ttl
        for did, rkey, subject in follows:
            self._follows[(did, rkey)] = (subject, until)
        self._expire()

    async def follow_subjects(self, follows: Sequence[Follow]) -> list[str | None]:
        now = self._clock()
        out: list[str | None] = []
        for follow in follows:
            found = self._follows.get(follow)
            out.append(found[0] if found is not None and found[1] > now else None)
        return out

    async def forget_follows(self, follows: Sequence[Follow]) -> None:
        for follow in follows:
            self._follows.pop(follow, None)

    async def follower_counts(self, stream_ids: Sequence[str]) -> list[int | None]:
        now = self._clock()
        found = [self._counts.get(stream_id) for stream_id in stream_ids]
        return [entry[0] if entry is not None and entry[1] > now else None for entry in found]

    async def save_follower_counts(self, counts: Sequence[tuple[str, int]]) -> None:
        until = self._clock() + self._follow_ttl
        for stream_id, count in counts:
            self._counts[stream_id] = (count, until)

    def _expire(self) -> None:
        """Bounded like the Redis form: expired entries leave (checked when the map grows)."""
        if len(self._follows) % 1024 == 0:
            now = self._clock()
            for key in [k for k, (_, until) in self._follows.items() if until <= now]:
                del self._follows[key]
