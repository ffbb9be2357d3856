"""Follower counts of ``bsky:follower`` streams, from ``app.bsky.actor.getProfile``.

Jetstream carries follows, not counts: when a batch has follower changes for a stream,
the watched account's profile is asked (at most once per account every ``every`` seconds,
left alone for a while after a failure) and ``stream:follower:count`` is emitted when its
``followersCount`` differs from the last one reported. A stream's first count is its
baseline: recorded, no event. A failed call costs only the count (the follower events are
appended regardless); it is asked again at the next change.

A reported count is saved in the store only once the saved cursor has passed the frame
that triggered it (its event is in the log); a batch decoded again from an older cursor
(a retry) reports again, with the same object id (``count@time_us``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from herald.errors import SourceError
from herald.events import EventType
from herald.push.base import PushChange, PushStream
from herald.sources.bsky.api import RETRY_AFTER, BskyApi, Profile
from herald.store.bsky import BskyStore

COUNT_EVERY = 10.0
"""Seconds between two profile calls for one account's count."""


@dataclass(frozen=True, slots=True)
class Touched:
    """A stream with follower changes in a batch: its account and the newest such frame."""

    stream: PushStream
    did: str
    time_us: int


class FollowerCounts:
    def __init__(
        self,
        api: BskyApi,
        store: BskyStore,
        *,
        every: float = COUNT_EVERY,
        retry_after: float = RETRY_AFTER,
    ) -> None:
        self._api = api
        self._store = store
        self._every = every
        self._retry_after = retry_after
        self._next: dict[str, float] = {}
        """DID -> monotonic time before which its profile is not asked again."""
        self._pending: dict[str, tuple[int, int, str]] = {}
        """stream id -> (time_us, count, DID) reported but not yet passed by the cursor."""

    async def commit(self, saved: int) -> None:
        """Save the counts the cursor has passed; forget those it has not (not appended:
        the batch is being decoded again, so they are reported again)."""
        done: list[tuple[str, int]] = []
        for stream_id, (time_us, count, did) in list(self._pending.items()):
            if time_us <= saved:
                done.append((stream_id, count))
            else:
                self._next.pop(did, None)
            del self._pending[stream_id]
        if done:
            await self._store.save_follower_counts(done)

    async def changes(self, touched: list[Touched]) -> list[PushChange]:
        now = time.monotonic()
        due = [t for t in touched if now >= self._next.get(t.did, 0.0)]
        dids = list(dict.fromkeys(t.did for t in due))
        if not dids:
            return []
        answers = await asyncio.gather(*(self._ask(did) for did in dids))
        counts = {did: p.followers for did, p in zip(dids, answers, strict=True) if p}
        due = [t for t in due if counts.get(t.did) is not None]
        stored = await self._store.follower_counts([t.stream.id for t in due])
        out: list[PushChange] = []
        for item, last in zip(due, stored, strict=True):
            count = counts[item.did]
            assert count is not None
            self._pending[item.stream.id] = (item.time_us, count, item.did)
            if last is None or last == count:
                continue  # a baseline, or no change
            payload = {"followersCount": count, "previous": last, "delta": count - last}
            object_id = f"{count}@{item.time_us}"
            out.append(PushChange(item.stream.id, EventType.FOLLOWER_COUNT, object_id, payload))
        return out

    async def _ask(self, did: str) -> Profile | None:
        try:
            profile = await self._api.profile(did)
        except SourceError:
            self._next[did] = time.monotonic() + self._retry_after
            return None
        self._next[did] = time.monotonic() + self._every
        return profile
