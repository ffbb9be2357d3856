"""Bluesky's own state: the handle cache and the follow map.

- **Handles.** ``handle -> DID`` as ``com.atproto.identity.resolveHandle`` answered, kept
  with a TTL and dropped when an ``identity`` frame says the DID's handle changed, so every
  worker resolves a target once, not once per connection.
- **Counts.** The follower count last reported for each ``bsky:follower`` stream, so
  ``stream:follower:count`` says what changed since (kept with the follow TTL).
- **Follows.** A Jetstream follow delete names only the follower's DID and the record key;
  who was unfollowed is in the create frame alone. ``(did, rkey) -> subject`` is kept for
  follows of watched accounts (with a TTL, so it stays bounded) so ``stream:follower:lost``
  can name who left. The source writes an entry before the follow's event is appended,
  and drops it only after the delete's event is (its cursor has passed the delete).

:class:`RedisBskyStore` keeps one string key per entry (``Keys.bsky_handle``,
``Keys.bsky_follow``, ``Keys.bsky_count``) with its TTL;
:class:`herald.store.memory.MemoryBskyStore` is its in-process twin. One contract suite
runs on both (``tests/store/contract``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis

from herald.store.codec import text
from herald.store.keys import Keys

Follow = tuple[str, str]
"""``(did, rkey)`` of a follow record: the follower's repo and the record key."""


class BskyStore(Protocol):
    async def handle_did(self, handle: str) -> str | None:
        """The DID ``handle`` last resolved to, while its TTL lasts."""
        ...

    async def save_handle(self, handle: str, did: str) -> None: ...

    async def forget_handles(self, handles: Sequence[str]) -> None: ...

    async def save_follows(self, follows: Sequence[tuple[str, str, str]]) -> None:
        """Keep ``(did, rkey, subject)`` entries (each with the follow TTL)."""
        ...

    async def follow_subjects(self, follows: Sequence[Follow]) -> list[str | None]:
        """The subject of each follow, None where it is not kept."""
        ...

    async def forget_follows(self, follows: Sequence[Follow]) -> None: ...

    async def follower_counts(self, stream_ids: Sequence[str]) -> list[int | None]:
        """The follower count last reported for each stream, None where there is none."""
        ...

    async def save_follower_counts(self, counts: Sequence[tuple[str, int]]) -> None:
        """Keep ``(stream id, count)`` entries (each with the follow TTL)."""
        ...


class RedisBskyStore:
    def __init__(self, redis: Redis, keys: Keys, *, handle_ttl: int, follow_ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self._handle_ttl = handle_ttl
        self._follow_ttl = follow_ttl

    async def handle_did(self, handle: str) -> str | None:
        raw = await self._redis.get(self._keys.bsky_handle(handle))
        return text(raw) if raw is not None else None

    async def save_handle(self, handle: str, did: str) -> None:
        await self._redis.set(self._keys.bsky_handle(handle), did, ex=self._handle_ttl)

    async def forget_handles(self, handles: Sequence[str]) -> None:
        if handles:
            await self._redis.delete(*(self._keys.bsky_handle(h) for h in handles))

    async def save_follows(self, follows: Sequence[tuple[str, str, str]]) -> None:
        if not follows:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for did, rkey, subject in follows:
                pipe.set(self._keys.bsky_follow(did, rkey), subject, ex=self._follow_ttl)
            await pipe.execute()

    async def follow_subjects(self, follows: Sequence[Follow]) -> list[str | None]:
        if not follows:
            return []
        # one key per entry: a Redis Cluster may hold them in different slots, so no MGET
        async with self._redis.pipeline(transaction=False) as pipe:
            for did, rkey in follows:
                pipe.get(self._keys.bsky_follow(did, rkey))
            values = await pipe.execute()
        return [text(v) if v is not None else None for v in values]

    async def forget_follows(self, follows: Sequence[Follow]) -> None:
        if not follows:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for did, rkey in follows:
                pipe.delete(self._keys.bsky_follow(did, rkey))
            await pipe.execute()

    async def follower_counts(self, stream_ids: Sequence[str]) -> list[int | None]:
        if not stream_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream_id in stream_ids:
                pipe.get(self._keys.bsky_count(stream_id))
            values = await pipe.execute()
        return [_count(v) for v in values]

    async def save_follower_counts(self, counts: Sequence[tuple[str, int]]) -> None:
        if not counts:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream_id, count in counts:
                pipe.set(self._keys.bsky_count(stream_id), count, ex=self._follow_ttl)
            await pipe.execute()


def _count(raw: bytes | str | None) -> int | None:
    """A stored count; anything else (absent, or not a number) is no count: a baseline."""
    value = text(raw) if raw is not None else ""
    return int(value) if value.isdigit() else None
